"""A ResNet-style network sized for CPU training: stride-2 stem and one basic block per stage.

Widths 32-64-128-256 (~1.3 M parameters), like a narrow ResNet-10.  Stages down-sample by
2x2 max-pooling before the block (as ResNet-D pools in the shortcut) instead of a
stride-2 3x3 conv, keeping the cell grid aligned with the input (see ``vgg``); the
shortcut is a 1x1 conv + BN where the width changes.
"""

from __future__ import annotations

from typing import Any

from torch import Tensor, nn

from mammoview.cad.networks.layers import CadNet, chain_geometry, conv_bn_relu
from mammoview.cad.registry import OUTPUTS, register_model

STEM_WIDTH = 32
RESNET_WIDTHS = (32, 64, 128, 256)


class BasicBlock(nn.Module):
    """Two 3x3 conv-BN layers with an identity (or 1x1 projection) shortcut."""

    def __init__(self, cin: int, cout: int) -> None:
        super().__init__()
        self.conv1 = conv_bn_relu(cin, cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.shortcut: nn.Module = (
            nn.Identity() if cin == cout else nn.Sequential(nn.Conv2d(cin, cout, 1, bias=False), nn.BatchNorm2d(cout))
        )
        self.act = nn.ReLU(inplace=True)

    def forward(self, x: Tensor) -> Tensor:
        out: Tensor = self.act(self.bn2(self.conv2(self.conv1(x))) + self.shortcut(x))
        return out


class ResNet(CadNet):
    """Stem (4x4/2 conv + max-pool), then per width: [max-pool] + ``blocks`` basic blocks."""

    def __init__(
        self,
        in_chans: int = 1,
        num_outputs: int = len(OUTPUTS),
        widths: tuple[int, ...] = RESNET_WIDTHS,
        blocks: int = 1,
        output_stride: int = 16,
        stem_width: int = STEM_WIDTH,
        drop_rate: float = 0.0,
    ) -> None:
        if output_stride not in (16, 32) or len(widths) != 4:
            raise ValueError("resnet: output_stride must be 16 or 32 and widths have 4 stages")
        spec: list[tuple[int, int, int]] = [(4, 2, 1), (2, 2, 0)]
        stages: list[nn.Module] = [nn.Sequential(conv_bn_relu(in_chans, stem_width, 4, 2, 1), nn.MaxPool2d(2))]
        cin = stem_width
        for i, w in enumerate(widths):
            layers: list[nn.Module] = []
            if i > 0 and (i < 3 or output_stride == 32):
                layers.append(nn.MaxPool2d(2))
                spec.append((2, 2, 0))
            for _ in range(blocks):
                layers.append(BasicBlock(cin, w))
                spec += [(3, 1, 1), (3, 1, 1)]  # the main path is the longest one
                cin = w
            stages.append(nn.Sequential(*layers))
        super().__init__(
            nn.Sequential(*stages),
            chain_geometry(spec),
            num_features=cin,
            in_chans=in_chans,
            num_outputs=num_outputs,
            drop_rate=drop_rate,
            gradcam_layer=f"features.{len(stages) - 2}",
        )
        # Zero-init the last BN of each block so every block starts as the identity (Goyal et al. 2017).
        for m in self.modules():
            if isinstance(m, BasicBlock):
                nn.init.zeros_(m.bn2.weight)


@register_model
def resnet(in_chans: int = 1, num_outputs: int = len(OUTPUTS), **kwargs: Any) -> ResNet:
    """ResNet-style network, widths 32-64-128-256, feature stride 16 (or 32)."""
    return ResNet(in_chans=in_chans, num_outputs=num_outputs, **kwargs)
