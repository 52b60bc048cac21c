"""Batch augmentation in torch: dihedral flips/rotations, small affine, intensity and noise.

Works on a float batch ``(N, C, H, W)`` of normalised patches (0 = breast median) and
keeps its shape; labels are untouched because every transform keeps the lesion class
(patches are centred on the lesion and the affine is small).  All randomness comes from
the ``torch.Generator`` passed in, so a seeded run is reproducible.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import torch
import torch.nn.functional as F


@dataclass(frozen=True)
class AugmentConfig:
    """Augmentation strengths (0 switches one off)."""

    dihedral: bool = True  # the 8 flips / 90-degree rotations (mammogram patches have no up)
    affine_p: float = 0.5  # fraction of the batch given a small affine
    degrees: float = 15.0
    scale: float = 0.1  # zoom in [1 - scale, 1 + scale]
    #: anisotropic stretch: columns over rows by a factor log-uniform in [1 / (1 + a), 1 + a] (0: off), as a
    #: wrong or varying pixel aspect makes it (the CBIS films' aspect varies ~10 %; a missing spacing, ~60 %)
    aspect: float = 0.0
    translate: float = 0.04  # shift, fraction of the stored slot (the patch and its context: 6.4 px of 160)
    contrast: float = 0.15  # x * U(1 - c, 1 + c)
    brightness: float = 0.2  # x + U(-b, b), normalised units
    noise: float = 0.03  # Gaussian noise sd, normalised units

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _uniform(n: int, lo: float, hi: float, gen: torch.Generator) -> torch.Tensor:
    return torch.rand(n, generator=gen) * (hi - lo) + lo


def dihedral(x: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """Each sample gets one of the 8 symmetries of the square (exact, no interpolation)."""
    return dihedral_pair(x, (), gen)[0]


def random_affine(x: torch.Tensor, gen: torch.Generator, cfg: AugmentConfig) -> torch.Tensor:
    """Rotation / zoom / shift of a random ``cfg.affine_p`` of the batch, reflection at the borders."""
    n = x.shape[0]
    sel = torch.nonzero(torch.rand(n, generator=gen) < cfg.affine_p).flatten()
    if sel.numel() == 0 or (cfg.degrees == 0 and cfg.scale == 0 and cfg.translate == 0 and cfg.aspect == 0):
        return x
    m = sel.numel()
    ang = _uniform(m, -cfg.degrees, cfg.degrees, gen) * (math.pi / 180.0)
    zoom = _uniform(m, 1.0 - cfg.scale, 1.0 + cfg.scale, gen)
    shift = _uniform(2 * m, -2.0 * cfg.translate, 2.0 * cfg.translate, gen).reshape(m, 2)  # grid units
    cos, sin = torch.cos(ang) / zoom, torch.sin(ang) / zoom
    rows = [torch.stack([cos, -sin], 1), torch.stack([sin, cos], 1)]  # output -> input grid: rotation / zoom
    if cfg.aspect > 0:  # then stretch the input's columns by s (sampling x / s), the area kept: rows by 1 / s
        half = math.log1p(cfg.aspect)
        s = torch.exp(_uniform(m, -half, half, gen))
        rows = [rows[0] / s.sqrt()[:, None], rows[1] * s.sqrt()[:, None]]
    theta = torch.stack([torch.cat([rows[0], shift[:, :1]], 1), torch.cat([rows[1], shift[:, 1:]], 1)], 1)
    grid = F.affine_grid(theta.to(x.dtype), list(x[sel].shape), align_corners=False)
    out = x.clone()
    out[sel] = F.grid_sample(x[sel], grid, mode="bilinear", padding_mode="reflection", align_corners=False)
    return out


def augment(x: torch.Tensor, gen: torch.Generator, cfg: AugmentConfig, clip: float = 4.0) -> torch.Tensor:
    """Apply every enabled augmentation to a batch and clip back to ``[-clip, clip]``.

    Parameters
    ----------
    x : Tensor, shape (N, C, H, W)
        Normalised patches (float).
    gen : torch.Generator
        Source of all randomness.
    cfg : AugmentConfig
    clip : float
        The patch set's clip (inference never sees values beyond it).
    """
    if x.shape[0] == 0:
        return x
    if cfg.dihedral:
        x = dihedral(x, gen)
    if cfg.affine_p > 0:
        x = random_affine(x, gen, cfg)
    n = x.shape[0]
    if cfg.contrast > 0:
        x = x * _uniform(n, 1.0 - cfg.contrast, 1.0 + cfg.contrast, gen).to(x.dtype).view(n, 1, 1, 1)
    if cfg.brightness > 0:
        x = x + _uniform(n, -cfg.brightness, cfg.brightness, gen).to(x.dtype).view(n, 1, 1, 1)
    if cfg.noise > 0:
        x = x + cfg.noise * torch.randn(x.shape, generator=gen, dtype=x.dtype)
    return x.clamp(-clip, clip)


def dihedral_pair(
    x: torch.Tensor, targets: Sequence[torch.Tensor], gen: torch.Generator
) -> tuple[torch.Tensor, list[torch.Tensor]]:
    """The same one of the 8 square symmetries applied per sample to ``x`` (N, C, S, S) and its grids (N, K, K).

    Dense training moves a crop and its target grids together (:mod:`.dense`); :func:`dihedral` is the
    same draw without grids.
    """
    k = torch.randint(0, 8, (x.shape[0],), generator=gen)
    xo = x.clone()
    to = [t.clone() for t in targets]
    for t in range(1, 8):
        sel = torch.nonzero(k == t).flatten()
        if sel.numel() == 0:
            continue
        xo[sel] = _symmetry(x[sel], t, (2, 3))
        for src, dst in zip(targets, to, strict=True):
            dst[sel] = _symmetry(src[sel], t, (1, 2))
    return xo, to


def _symmetry(a: torch.Tensor, t: int, dims: tuple[int, int]) -> torch.Tensor:
    """Symmetry ``t`` (0-7) of the square on ``dims``: ``t % 4`` quarter turns, then a flip for ``t >= 4``."""
    r = torch.rot90(a, t % 4, dims=dims)
    return torch.flip(r, dims=(dims[1],)) if t >= 4 else r
