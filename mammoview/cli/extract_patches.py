"""`mammoview extract-patches`: cut the training patch set from CBIS-DDSM, mini-MIAS and MAGIC-5."""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mammoview.cli.options import count, fraction, preprocess_value, probability, real

if TYPE_CHECKING:  # imported lazily at run time
    from mammoview.cad.preprocess import PreprocessConfig


def add_preprocess_arguments(p: argparse.ArgumentParser) -> None:
    """The paper's preprocessing switches (baked into the patches, recorded in the manifest)."""
    g = p.add_argument_group("preprocessing (each a switch; see cad/preprocess.py)")
    g.add_argument(
        "--pixel-size",
        type=preprocess_value("pixel_size_mm"),
        default=0.3,
        metavar="MM",
        help="model pixel size (default 0.3 mm)",
    )
    g.add_argument("--normalization", choices=("zscore", "percentile"), default="zscore")
    g.add_argument("--clip", type=real(0.0, open_lo=True), default=4.0, help="normalised values are clipped to +-CLIP")
    g.add_argument("--remove-pectoral", action="store_true", help="drop the pectoral muscle from the MLO breast mask")
    g.add_argument("--clahe", action="store_true", help="contrast-limited adaptive histogram equalisation")
    g.add_argument("--clahe-clip-limit", type=preprocess_value("clahe_clip_limit"), default=0.01)
    g.add_argument(
        "--gaussian-sigma",
        type=preprocess_value("gaussian_sigma_mm"),
        default=0.0,
        metavar="MM",
        help="Gaussian smoothing (0 = off)",
    )
    g.add_argument("--morphology", choices=("none", "open", "close", "open-close"), default="none")
    g.add_argument("--morphology-radius", type=preprocess_value("morphology_radius_mm"), default=0.6, metavar="MM")
    g.add_argument("--sobel", action="store_true", help="add the Sobel edge magnitude as a second channel")


def preprocess_config(args: argparse.Namespace) -> PreprocessConfig:
    from mammoview.cad.preprocess import PreprocessConfig

    return PreprocessConfig(
        pixel_size_mm=args.pixel_size,
        normalization=args.normalization,
        clip=args.clip,
        remove_pectoral=args.remove_pectoral,
        clahe=args.clahe,
        clahe_clip_limit=args.clahe_clip_limit,
        gaussian_sigma_mm=args.gaussian_sigma,
        morphology=args.morphology,
        morphology_radius_mm=args.morphology_radius,
        sobel_channel=args.sobel,
    )


def add_subparser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser(
        "extract-patches",
        help="cut labelled training patches (lesion / normal) with a patient-level split",
        description="Cut lesion patches (jittered around each mass box / MIAS circle), normal-tissue patches "
        "(breast mask, away from every lesion) and MAGIC-5 calcification patches at a fixed pixel size, "
        "split by patient, and write patches.npy, index.csv, split.json, manifest.json and contact sheets.",
    )
    p.add_argument("--out", type=Path, required=True, metavar="DIR", help="output folder (e.g. runs/patches/default)")
    p.add_argument(
        "--data",
        type=Path,
        default=None,
        metavar="DIR",
        help="data root (default $MAMMOVIEW_DATA, else ../shared/data beside the repository)",
    )
    p.add_argument(
        "--patch-size",
        type=count(16),
        default=96,
        metavar="PX",
        help="patch side in model pixels (at least the networks' 16 px stride)",
    )
    p.add_argument(
        "--context",
        type=count(0),
        default=32,
        metavar="PX",
        help="surroundings stored around each whole-image patch (multiple of the network stride; 0 = bare patches)",
    )
    p.add_argument("--seed", type=int, default=0, help="seed of the split and of the jitter / normal sampling")
    p.add_argument("--val-fraction", type=fraction, default=0.2, help="fraction of patients in validation")
    p.add_argument("--sources", default="cbis,mias,magic5", help="comma-separated subset of cbis,mias,magic5")
    p.add_argument("--workers", type=count(1), default=1, help="processes (the result does not depend on it)")
    g = p.add_argument_group("sampling")
    g.add_argument(
        "--jitter", type=real(0.0, 1.0), default=0.25, help="max lesion-centre offset, fraction of the patch"
    )
    g.add_argument("--normal-margin", type=real(0.0), default=0.25, help="gap beyond half a patch, fraction of patch")
    g.add_argument("--min-coverage", type=probability, default=0.7, help="min breast fraction of a normal patch")
    mine = g.add_mutually_exclusive_group()
    mine.add_argument(
        "--hard-negatives-from",
        type=Path,
        default=None,
        metavar="RUN",
        help="a first model (train run folder or models folder): add normal patches where it is most wrong",
    )
    mine.add_argument(
        "--hard-negatives-from-detections",
        type=Path,
        nargs="+",
        default=None,
        metavar="JSON",
        help="`mammoview detect` JSON files: add normal patches at their findings (clear of every lesion), "
        "e.g. a detector's false positives for a second-stage network at another pixel size",
    )
    g.add_argument("--hard-negatives", type=count(0), default=4, metavar="N", help="mined normal patches per image")
    g.add_argument("--hard-negative-min-score", type=probability, default=0.5, metavar="P", help="min p(abnormal)")
    g.add_argument("--cbis-lesion-patches", type=count(0), default=4)
    g.add_argument("--cbis-normal-patches", type=count(0), default=6)
    g.add_argument("--mias-lesion-patches", type=count(0), default=8)
    g.add_argument("--mias-normal-patches", type=count(0), default=12)
    g.add_argument(
        "--mias-other",
        choices=("exclude", "mass"),
        default="exclude",
        help="MIAS architectural distortion / asymmetry: no patches, or as mass",
    )
    g.add_argument(
        "--magic5",
        choices=("native", "exclude"),
        default="native",
        help="MAGIC-5 patches at their own small size, or left out",
    )
    add_preprocess_arguments(p)
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from mammoview.cli.output import check_out_folder
    from mammoview.terminal import say
    from mammoview.training.extract import extract_patch_set
    from mammoview.training.patches import ExtractConfig

    which = tuple(s.strip() for s in args.sources.split(",") if s.strip())
    bad = set(which) - {"cbis", "mias", "magic5"}
    if bad:
        raise ValueError(f"unknown source(s): {', '.join(sorted(bad))}")
    if not which:  # (an empty patch set was written, exit 0)
        raise ValueError(f"--sources {args.sources!r} names no source: give some of cbis,mias,magic5")
    check_out_folder(args.out, "--out")
    mining = args.hard_negatives_from is not None or args.hard_negatives_from_detections is not None
    ecfg = ExtractConfig(
        patch_size=args.patch_size,
        context=args.context,
        jitter=args.jitter,
        normal_margin=args.normal_margin,
        min_coverage=args.min_coverage,
        cbis_lesion_patches=args.cbis_lesion_patches,
        cbis_normal_patches=args.cbis_normal_patches,
        mias_lesion_patches=args.mias_lesion_patches,
        mias_normal_patches=args.mias_normal_patches,
        mias_other=args.mias_other,
        magic5=args.magic5,
        hard_negatives=args.hard_negatives if mining else 0,
        seed=args.seed,
    )
    miner: Any = None
    if args.hard_negatives_from is not None:
        from mammoview.training.mining import MapMiner

        miner = MapMiner(args.hard_negatives_from, min_score=args.hard_negative_min_score)
    elif args.hard_negatives_from_detections is not None:
        from mammoview.training.mining import DetectionMiner

        miner = DetectionMiner(args.hard_negatives_from_detections, min_score=args.hard_negative_min_score)
    m = extract_patch_set(
        args.out,
        data_dir=args.data,
        pcfg=preprocess_config(args),
        ecfg=ecfg,
        val_fraction=args.val_fraction,
        which=which,
        workers=args.workers,
        progress=not args.quiet,
        command="mammoview " + " ".join(shlex.quote(a) for a in sys.argv[1:]),
        miner=miner,
    )
    print(f"{m['n_patches']} patches from {m['n_images']} images/patches in {m['seconds']:.0f} s -> {args.out}")
    for split, by_source in m["counts"]["patches"].items():
        for source, by_label in sorted(by_source.items()):
            print(f"  {split:5s} {source:7s} " + "  ".join(f"{k}={v}" for k, v in sorted(by_label.items())))
    skipped = m["skipped_images"]
    for why in skipped:
        say(f"mammoview extract-patches: skipped {why}")  # (the manifest: exact)
    if skipped:  # the patch set is written without them; exit 1 as detect does when some images failed
        say(
            f"mammoview extract-patches: {len(skipped)} of {m['n_images']} files could not be read "
            f"and were skipped (listed in {args.out / 'manifest.json'}, skipped_images)"
        )
        return 1
    return 0
