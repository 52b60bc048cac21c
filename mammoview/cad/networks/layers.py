"""Building blocks shared by the networks: the common base class and the geometry bookkeeping.

Every network is ``forward_features`` (fully convolutional) followed by ``forward_head``
(global average pooling + one ``nn.Linear``).  Because the head is linear after the
average, the class activation map (the head applied to every feature cell) averages
exactly to the patch logits, which is what whole-image inference relies on.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import torch.nn.functional as F
from torch import Tensor, nn


@dataclass(frozen=True)
class Geometry:
    """Where the feature cells sit on the input, for a chain of (kernel, stride, padding) layers.

    ``stride`` is input pixels per feature cell, ``receptive_field`` the input span (px)
    one cell sees, ``center0`` the centre of cell 0 in continuous input coordinates
    (pixel ``i`` spans ``[i, i + 1)``).  The networks here keep ``center0 == stride / 2``,
    i.e. cell ``i`` is centred on the input block ``[i * stride, (i + 1) * stride)``.
    """

    receptive_field: int
    stride: int
    center0: float


def chain_geometry(layers: Sequence[tuple[int, int, int]]) -> Geometry:
    """Receptive field, stride and cell-0 centre of a chain of (kernel, stride, padding) layers.

    Standard recurrences: ``rf += (k - 1) * jump``; ``center += ((k - 1) / 2 - p) * jump``;
    ``jump *= s``.
    """
    rf, jump, center = 1, 1, 0.5
    for k, s, p in layers:
        rf += (k - 1) * jump
        center += ((k - 1) / 2 - p) * jump
        jump *= s
    return Geometry(receptive_field=rf, stride=jump, center0=center)


def conv_bn_relu(cin: int, cout: int, kernel: int = 3, stride: int = 1, padding: int | None = None) -> nn.Sequential:
    """Conv (no bias, BN follows) + BatchNorm + ReLU."""
    pad = kernel // 2 if padding is None else padding
    return nn.Sequential(
        nn.Conv2d(cin, cout, kernel, stride=stride, padding=pad, bias=False),
        nn.BatchNorm2d(cout),
        nn.ReLU(inplace=True),
    )


def class_activation_map(head: nn.Linear, features: Tensor) -> Tensor:
    """CAM logit maps: the linear head applied to every feature cell.

    ``cam[n, k] = sum_f head.weight[k, f] * features[n, f] + head.bias[k]``
    (``einsum("kf,nfhw->nkhw")``), computed as a 1x1 convolution.  Its spatial mean
    equals ``head(features.mean((2, 3)))``, the patch logits.
    """
    weight = head.weight[:, :, None, None].to(features.dtype)
    bias = head.bias.to(features.dtype) if head.bias is not None else None
    return F.conv2d(features, weight, bias)


def init_weights(module: nn.Module) -> None:
    """He initialisation for convs, unit BN, small linear head (deterministic given the torch seed)."""
    for m in module.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)
        elif isinstance(m, nn.Linear):
            nn.init.normal_(m.weight, std=0.01)
            if m.bias is not None:
                nn.init.zeros_(m.bias)


class CadNet(nn.Module):
    """Base class: ``forward = forward_head(forward_features(x))``.

    Subclasses build ``self.features`` (any module mapping N,C,H,W to N,F,h,w) and set
    ``geometry``; the head is created here so every network has the same one.

    Attributes
    ----------
    feature_stride
        Input pixels per feature cell.
    receptive_field
        Input pixels one feature cell sees (along one axis).
    num_features
        Channels of the feature map (``F``), the head's input size.
    num_outputs
        The head's output size (``K``).
    gradcam_layer
        Name of the sub-module whose output Grad-CAM uses by default (one stage before
        the last, so twice the resolution of the CAM).
    """

    feature_stride: int
    receptive_field: int
    num_features: int
    num_outputs: int
    in_chans: int
    gradcam_layer: str

    def __init__(
        self,
        features: nn.Module,
        geometry: Geometry,
        num_features: int,
        in_chans: int,
        num_outputs: int,
        drop_rate: float = 0.0,
        gradcam_layer: str = "",
    ) -> None:
        super().__init__()
        if not math.isclose(geometry.center0, geometry.stride / 2):
            # A misaligned grid would shift every heatmap and finding by a fraction of a cell.
            raise ValueError(f"feature cells are not centred on their blocks: {geometry}")
        self.features = features
        self.head_drop = nn.Dropout(drop_rate)
        self.head = nn.Linear(num_features, num_outputs)
        self.feature_stride = geometry.stride
        self.receptive_field = geometry.receptive_field
        self.num_features = num_features
        self.num_outputs = num_outputs
        self.in_chans = in_chans
        self.gradcam_layer = gradcam_layer
        init_weights(self)

    def forward_features(self, x: Tensor) -> Tensor:
        """N,C,H,W -> N,F,h,w with ``h = H // feature_stride`` (fully convolutional)."""
        out: Tensor = self.features(x)
        return out

    def forward_head(self, features: Tensor, pre_logits: bool = False) -> Tensor:
        """Global average pooling, dropout (training only), linear head -> N,K logits."""
        pooled: Tensor = self.head_drop(features.mean(dim=(2, 3)))
        if pre_logits:
            return pooled
        out: Tensor = self.head(pooled)
        return out

    def forward(self, x: Tensor) -> Tensor:
        return self.forward_head(self.forward_features(x))

    def forward_context(self, x: Tensor, context_px: int, pre_logits: bool = False) -> Tensor:
        """Logits of the central patch of ``x``, seen with ``context_px`` pixels of surroundings.

        ``x`` is ``P + 2 * context_px`` pixels wide; only the feature cells covering the
        central ``P`` pixels are averaged.  With ``context_px`` at least half the receptive
        field those cells are the very numbers a whole-image pass computes at that place, so
        a network trained this way is trained on exactly what whole-image inference
        evaluates (the patch-equivalent maps of docs/cad-design.md).  A plain patch (no
        context) would instead teach the network the zero padding at its borders, which it
        never meets inside a whole mammogram.  ``pre_logits``: the pooled features instead.
        """
        if context_px % self.feature_stride:
            raise ValueError(f"context of {context_px} px is not a multiple of the stride {self.feature_stride}")
        features = self.forward_features(x)
        m = context_px // self.feature_stride
        if m:
            h, w = features.shape[2:]
            if h <= 2 * m or w <= 2 * m:
                raise ValueError(f"input {tuple(x.shape[2:])} leaves no centre after {context_px} px of context")
            features = features[:, :, m : h - m, m : w - m]
        return self.forward_head(features, pre_logits)

    def cam(self, features: Tensor) -> Tensor:
        """CAM logit maps N,K,h,w for ``features`` (see :func:`class_activation_map`)."""
        return class_activation_map(self.head, features)


def count_parameters(model: nn.Module) -> int:
    """Number of trainable parameters."""
    return int(sum(p.numel() for p in model.parameters() if p.requires_grad))
