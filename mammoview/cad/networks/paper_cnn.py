"""The paper's small CNN (Table 1): four 3x3 conv layers, 32-64-128-128, each followed by 2x2 max-pooling.

BatchNorm + ReLU after each convolution.  The paper's dense layers are replaced by
global average pooling + one linear layer (docs/cad-design.md), which is what makes the
class activation map exact; everything else is as in the table.  Feature stride 16,
receptive field 46 px (13.8 mm at 0.3 mm/px).
"""

from __future__ import annotations

from typing import Any

from torch import nn

from mammoview.cad.networks.layers import CadNet, chain_geometry, conv_bn_relu
from mammoview.cad.registry import OUTPUTS, register_model

PAPER_WIDTHS = (32, 64, 128, 128)


class PaperCNN(CadNet):
    """Four (conv3x3 - BN - ReLU - maxpool2) blocks and a GAP + linear head."""

    def __init__(
        self,
        in_chans: int = 1,
        num_outputs: int = len(OUTPUTS),
        widths: tuple[int, ...] = PAPER_WIDTHS,
        drop_rate: float = 0.0,
    ) -> None:
        blocks: list[nn.Module] = []
        spec: list[tuple[int, int, int]] = []
        cin = in_chans
        for w in widths:
            blocks.append(nn.Sequential(conv_bn_relu(cin, w), nn.MaxPool2d(2)))
            spec += [(3, 1, 1), (2, 2, 0)]
            cin = w
        super().__init__(
            nn.Sequential(*blocks),
            chain_geometry(spec),
            num_features=cin,
            in_chans=in_chans,
            num_outputs=num_outputs,
            drop_rate=drop_rate,
            gradcam_layer=f"features.{len(widths) - 2}",
        )


@register_model
def paper_cnn(in_chans: int = 1, num_outputs: int = len(OUTPUTS), **kwargs: Any) -> PaperCNN:
    """The paper's Table 1 network (``widths`` may be shrunk for tests only)."""
    return PaperCNN(in_chans=in_chans, num_outputs=num_outputs, **kwargs)
