"""Several trained networks of one architecture as one network whose logits are their mean.

Every network here is ``features -> global average pool -> linear``.  Concatenating the
members' feature maps along the channels and putting one linear head over them, with
weights ``[W_1 ... W_n] / n`` and bias ``mean(b_i)``, gives exactly the mean of the
members' logits, and (the head being linear) the mean of their class activation maps.
So an ensemble is an ordinary :class:`~mammoview.cad.networks.layers.CadNet`: one
safetensors file, one sha256, the same tiled whole-image inference, fusion and CAM.
Averaging logits (not probabilities) is what makes this exact.

Grad-CAM uses the concatenated last features (the members' earlier stages are separate
modules); at that layer Grad-CAM weights each channel by its head weight.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

import torch
from torch import Tensor, nn

from mammoview.cad.networks.layers import CadNet, Geometry
from mammoview.cad.registry import OUTPUTS, create_model, register_model


class ParallelFeatures(nn.Module):
    """Runs each member's ``features`` on the same input and concatenates the maps (channels)."""

    def __init__(self, members: Sequence[nn.Module]) -> None:
        super().__init__()
        self.members = nn.ModuleList(members)

    def forward(self, x: Tensor) -> Tensor:
        return torch.cat([m(x) for m in self.members], dim=1)


class EnsembleNet(CadNet):
    """``n`` networks ``arch(**member_kwargs)`` with one averaging head (see the module docstring)."""

    def __init__(
        self,
        in_chans: int = 1,
        num_outputs: int = len(OUTPUTS),
        arch: str = "vgg",
        n: int = 2,
        member_kwargs: dict[str, Any] | None = None,
    ) -> None:
        if arch == "ensemble" or n < 1:
            raise ValueError("ensemble: members are one registered non-ensemble architecture, n >= 1")
        nets = [
            create_model(arch, in_chans=in_chans, num_outputs=num_outputs, **(member_kwargs or {})) for _ in range(n)
        ]
        if not all(isinstance(m, CadNet) for m in nets):
            raise ValueError(f"ensemble: {arch} is not a CAM network (CadNet)")
        first = cast(CadNet, nets[0])
        geometry = Geometry(first.receptive_field, first.feature_stride, first.feature_stride / 2)
        super().__init__(
            ParallelFeatures([cast(nn.Module, m.features) for m in nets]),
            geometry,
            num_features=first.num_features * n,
            in_chans=in_chans,
            num_outputs=num_outputs,
            gradcam_layer="features",
        )
        self.member_arch = arch
        self.n_members = n

    @torch.no_grad()
    def set_members(self, members: Sequence[CadNet]) -> EnsembleNet:
        """Copy trained ``members`` (same architecture and options as this ensemble) in; returns self."""
        if len(members) != self.n_members:
            raise ValueError(f"ensemble of {self.n_members} networks given {len(members)}")
        slots = cast(ParallelFeatures, self.features).members
        for slot, m in zip(slots, members, strict=True):
            slot.load_state_dict(m.features.state_dict(), strict=True)
        self.head.weight.copy_(torch.cat([m.head.weight for m in members], dim=1) / len(members))
        self.head.bias.copy_(torch.stack([m.head.bias for m in members]).mean(dim=0))
        return self


@register_model
def ensemble(in_chans: int = 1, num_outputs: int = len(OUTPUTS), **kwargs: Any) -> EnsembleNet:
    """Mean of ``n`` trained networks of architecture ``arch`` (built by ``mammoview ensemble``)."""
    return EnsembleNet(in_chans=in_chans, num_outputs=num_outputs, **kwargs)
