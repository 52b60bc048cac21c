"""Window/level state of one panel: presets, mouse-drag adjustment, and the display LUT.

The display mapping of the whole pixel chain (modality LUT -> VOI -> MONOCHROME1
inversion -> padding) is owned by :func:`mammoview.io.pixels.display_lut`; this
module only decides *which* VOI to ask for and whether the reader inverted the
result.  Windows are in modality-output units, exactly like Window Center/Width in
the file (PS3.3 C.11.2.1.2), so "default from file" round-trips unchanged.  No Qt.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, replace

import numpy as np
import numpy.typing as npt

from mammoview.io.chain_model import PixelChain, VoiFunction, VoiLut, VoiWindow
from mammoview.io.pixels import (
    apply_modality,
    default_window,
    display_lut,
    otsu_threshold,
    padding_mask,
    value_step,
    window_from_range,
)

#: Drag distance (screen pixels) that sweeps the window over the image's whole value range.
DRAG_PIXELS_PER_RANGE = 600.0


class Preset(enum.Enum):
    """Window presets offered in the Image menu (values are the menu texts)."""

    DEFAULT = "Default (from file)"
    FULL = "Full range"
    DENSE = "Dense tissue"
    SOFT = "Soft tissue / skin line"


@dataclass(frozen=True)
class ImageStats:
    """Per-image values the presets need, computed once at load from a small pyramid level.

    All values are modality-output units.  ``default_voi`` is the file's first window
    (else its first VOI LUT, else io's automatic tissue window).
    """

    value_min: float
    value_max: float
    tissue_low: float  # 0.5th percentile of the tissue class
    tissue_mid: float  # median
    tissue_high: float  # 99.8th percentile
    default_voi: VoiWindow | VoiLut
    #: ``default_voi`` is the file's (a window or VOI LUT it stores), not io's automatic one
    default_from_file: bool = False
    #: one stored value's step in modality units (a rescale's slope; a float image's 1/65535 of its range)
    value_step: float = 1.0


@dataclass(frozen=True)
class WindowState:
    """What the panel shows: a VOI (window or VOI LUT item) and the reader's inversion."""

    voi: VoiWindow | VoiLut
    inverted: bool = False
    name: str = Preset.DEFAULT.value

    def describe(self) -> str:
        """Short text for the panel corner, e.g. ``"W 4000 L 2048"``."""
        if isinstance(self.voi, VoiLut):
            text = f"VOI LUT {self.voi.explanation}".strip()
        else:
            text = f"W {self.voi.width:.0f} L {self.voi.center:.0f}"
        return text + (" · inverted" if self.inverted else "")


def full_image_window(window: WindowState, chain: PixelChain, stats: ImageStats) -> WindowState:
    """``window``, set on a preview (:mod:`mammoview.io.preview`), for the full image of ``stats``: a preset's window
    (the default one too) came of the preview's statistics (its default W 37231 L 40792 where Reset window gives
    W 38295 L 41335 on a real view) and is computed again of the full image's; a window the reader dragged or took
    from the file stays as it is."""
    if window.name not in {p.value for p in Preset}:
        return window
    state = preset_window(Preset(window.name), chain, stats)
    return WindowState(state.voi, window.inverted, state.name)


def slice_window(window: WindowState, old: ImageStats, new: ImageStats) -> WindowState:
    """``window``, shown on one slice of a tomosynthesis volume (``old``), for another slice (``new``).

    While the reader has set no window (the panel shows the file's default), a slice shows its own frame's default:
    an Enhanced or Breast Tomosynthesis image may window each frame on its own (Frame VOI LUT (0028,9132) per frame,
    PS3.3 C.7.6.16.2.10).  A window the reader set (dragged, a preset, another of the file's windows) stays across
    the slices, as does the reader's inversion.  An automatic default (a file without windows) stays too: computed
    per slice it would change the picture's contrast at every step.
    """
    follows = window.name == Preset.DEFAULT.value and old.default_from_file and new.default_from_file
    if not follows or window.voi != old.default_voi:
        return window
    return WindowState(new.default_voi, window.inverted, window.name)


def image_stats(
    chain: PixelChain, sample: npt.NDArray[np.generic], value_offset: int, stored_min: int, stored_max: int
) -> ImageStats:
    """Statistics for the presets from ``sample`` (a small pyramid level, values ``stored - value_offset``).

    The tissue class is split from the background with io's Otsu threshold, on the
    side that is bright after presentation (high values for MONOCHROME2, low for
    MONOCHROME1), as :func:`mammoview.io.pixels.tissue_window` does.  Padding (Pixel Padding Value) is no tissue:
    it is left out, as the CAD's presentation values leave it out.
    """
    stored = np.asarray(sample, dtype=np.int64) + value_offset
    values = np.asarray(apply_modality(stored[~padding_mask(stored, chain)], chain), dtype=np.float64).ravel()
    ends = np.asarray(apply_modality(np.array([stored_min, stored_max], dtype=np.int64), chain), dtype=np.float64)
    vmin, vmax = float(ends.min()), float(ends.max())
    tissue = values
    if values.size and values.max() > values.min():
        t = otsu_threshold(values)
        split = values[values <= t] if chain.inverted else values[values > t]
        if split.size >= 0.02 * values.size:
            tissue = split
    if tissue.size == 0:
        tissue = np.array([vmin, vmax])
    low, mid, high = (float(v) for v in np.percentile(tissue, [0.5, 50.0, 99.8]))
    if chain.windows:
        voi: VoiWindow | VoiLut = chain.windows[0]
    elif chain.voi_luts:
        voi = chain.voi_luts[0]
    else:
        voi = default_window(chain, stored)
    return ImageStats(vmin, vmax, low, mid, high, voi, bool(chain.windows or chain.voi_luts), value_step(chain))


def preset_window(preset: Preset, chain: PixelChain, stats: ImageStats) -> WindowState:
    """The window state for a preset.

    Dense tissue narrows the window onto the brighter half of the breast's values,
    soft tissue onto the darker half (skin line, fat).  For MONOCHROME1 "bright on
    screen" means *low* values before the inversion, so the halves swap.
    """
    if preset is Preset.DEFAULT:
        return WindowState(stats.default_voi, name=preset.value)
    if preset is Preset.FULL:
        return WindowState(
            window_from_range(stats.value_min, stats.value_max, preset.value, stats.value_step), name=preset.value
        )
    bright_half = (stats.tissue_mid, stats.tissue_high)
    dark_half = (stats.tissue_low, stats.tissue_mid)
    if chain.inverted:
        bright_half, dark_half = dark_half, bright_half
    low, high = bright_half if preset is Preset.DENSE else dark_half
    return WindowState(window_from_range(low, high, preset.value, stats.value_step), name=preset.value)


def file_choices(chain: PixelChain) -> list[tuple[str, VoiWindow | VoiLut]]:
    """The windows and VOI LUTs stored in the file, with menu texts."""
    out: list[tuple[str, VoiWindow | VoiLut]] = []
    for i, w in enumerate(chain.windows, 1):
        name = w.explanation or f"Window {i}"
        out.append((f"{name}  (W {w.width:g} / L {w.center:g}, {w.function.value})", w))
    for i, lut in enumerate(chain.voi_luts, 1):
        out.append((f"{lut.explanation or f'VOI LUT {i}'}  (VOI LUT, {len(lut.data)} entries)", lut))
    return out


def as_window(voi: VoiWindow | VoiLut) -> VoiWindow:
    """A LINEAR window equivalent to ``voi`` (a VOI LUT becomes the window over its input range)."""
    if isinstance(voi, VoiWindow):
        return voi
    return window_from_range(voi.first_mapped, voi.first_mapped + len(voi.data) - 1, voi.explanation)


def dragged(state: WindowState, dx: float, dy: float, stats: ImageStats) -> WindowState:
    """Window after a mouse drag of ``(dx, dy)`` screen pixels.

    Right = wider (less contrast), down = higher level (darker for MONOCHROME2), as
    in most PACS.  The step scales with the image's value range so 8-bit and 16-bit
    images feel the same.  The level stays within the image's value range widened by that range on either side,
    the width between one stored value's step and twice the range: past them the picture is all black, all white
    or flat grey, and a drag without limits (the level reached -10 million on 16-bit data) left the reader pages of
    dragging to find the image again.  A window beyond them (one the file gave) does not jump: it only goes no
    further out.
    """
    win = as_window(state.voi)
    span = max(stats.value_max - stats.value_min, stats.value_step)
    step = max(span, 1.0) / DRAG_PIXELS_PER_RANGE
    # SIGMOID and LINEAR_EXACT may be narrower than 1 (PS3.3 C.11.2.1.3.1, C.11.2.1.3.2): a narrower one the file
    # gave stays as narrow as it was
    width = _bounded(win.width + dx * step, min(win.width, stats.value_step), 2 * span, win.width)
    center = _bounded(win.center + dy * step, stats.value_min - span, stats.value_max + span, win.center)
    function = win.function
    if function in (VoiFunction.LINEAR, VoiFunction.LINEAR_EXACT):
        # LINEAR needs a width of at least 1 (C.11.2.1.2.1), a whole float image's range: narrower, LINEAR_EXACT
        function = VoiFunction.LINEAR if width >= 1.0 else VoiFunction.LINEAR_EXACT
    return replace(state, voi=VoiWindow(center, width, function, "custom"), name="Custom")


def _bounded(value: float, low: float, high: float, was: float) -> float:
    """``value`` within ``[low, high]``, or within the wider bounds that take in ``was``, where it was before."""
    return min(max(value, min(low, was)), max(high, was))


def lut_for(
    chain: PixelChain, state: WindowState, stored_min: int, stored_max: int
) -> tuple[int, npt.NDArray[np.uint8]]:
    """``(offset, lut)`` with ``lut[stored - offset]`` = the display value shown for ``stored``."""
    offset, lut = display_lut(chain, state.voi, stored_min, stored_max)
    if state.inverted:
        lut = 255 - lut
    return int(offset), np.asarray(lut, dtype=np.uint8)
