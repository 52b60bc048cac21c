"""A VGG-style network sized for CPU training: stride-2 stem, then stages of two 3x3 convs.

Widths 32-64-128-256 (~1.2 M parameters).  Down-sampling is by 2x2 max-pooling (and a
4x4 stride-2 stem conv) rather than stride-2 3x3 convs: odd kernels at stride 2 shift
the cell grid by half a pixel per level, and aligned cells make every heatmap and
finding land exactly on the input block it came from.
"""

from __future__ import annotations

from typing import Any

from torch import nn

from mammoview.cad.networks.layers import CadNet, chain_geometry, conv_bn_relu
from mammoview.cad.registry import OUTPUTS, register_model

STEM_WIDTH = 32
VGG_WIDTHS = (32, 64, 128, 256)


class VGGNet(CadNet):
    """Stem (4x4/2 conv) + max-pool, then one stage per width of ``depth`` 3x3 convs.

    ``output_stride`` 16 keeps the last stage at stride 16 (finer maps); 32 pools once more
    (about 4x cheaper in the last stage, coarser maps).
    """

    def __init__(
        self,
        in_chans: int = 1,
        num_outputs: int = len(OUTPUTS),
        widths: tuple[int, ...] = VGG_WIDTHS,
        depth: int = 2,
        output_stride: int = 16,
        stem_width: int = STEM_WIDTH,
        drop_rate: float = 0.0,
    ) -> None:
        if output_stride not in (16, 32) or len(widths) != 4:
            raise ValueError("vgg: output_stride must be 16 or 32 and widths have 4 stages")
        spec: list[tuple[int, int, int]] = [(4, 2, 1), (2, 2, 0)]
        stages: list[nn.Module] = [nn.Sequential(conv_bn_relu(in_chans, stem_width, 4, 2, 1), nn.MaxPool2d(2))]
        cin = stem_width
        for i, w in enumerate(widths):
            layers: list[nn.Module] = []
            if i > 0 and (i < 3 or output_stride == 32):
                layers.append(nn.MaxPool2d(2))
                spec.append((2, 2, 0))
            for _ in range(depth):
                layers.append(conv_bn_relu(cin, w))
                spec.append((3, 1, 1))
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


@register_model
def vgg(in_chans: int = 1, num_outputs: int = len(OUTPUTS), **kwargs: Any) -> VGGNet:
    """VGG-style network, widths 32-64-128-256, feature stride 16 (or 32)."""
    return VGGNet(in_chans=in_chans, num_outputs=num_outputs, **kwargs)
