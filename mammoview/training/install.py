"""Turn a training run into an installed model (``models/<name>-<sha8>.safetensors`` + manifest entry)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mammoview.cad.weights import ModelEntry, save_model
from mammoview.training.checkpoint import load_weights

#: Every source a model may be trained on, with its licence and citation (data README).
DATA_SOURCES: dict[str, dict[str, str]] = {
    "cbis": {
        "name": "CBIS-DDSM Mass-Training",
        "licence": "CC BY 3.0 (The Cancer Imaging Archive)",
        "citation": "Lee et al., A curated mammography data set for use in computer-aided detection and diagnosis "
        "research, Scientific Data 4, 170177 (2017)",
    },
    "mias": {
        "name": "mini-MIAS",
        "licence": "free for research use",
        "citation": "Suckling et al., The Mammographic Image Analysis Society digital mammogram database, "
        "Exerpta Medica, International Congress Series 1069, 375-378 (1994)",
    },
    "magic5": {
        "name": "MAGIC-5 microcalcification patches",
        "licence": "teaching/research material, no redistribution",
        "citation": "Retico et al., Nuclear Instruments and Methods A 569(2), 2006",
    },
}

LICENCE = (
    "research use only; not for clinical use. Trained on mini-MIAS and MAGIC-5 (research use, no redistribution) "
    "and CBIS-DDSM (CC BY 3.0). Calcification training data is thin (MAGIC-5 patches + mini-MIAS rows)."
)


def _clean(v: Any) -> Any:
    if isinstance(v, float) and math.isnan(v):
        return None
    if isinstance(v, dict):
        return {k: _clean(x) for k, x in v.items()}
    if isinstance(v, list):
        return [_clean(x) for x in v]
    return v


def validation_metrics(summary: dict[str, Any]) -> dict[str, Any]:
    """The manifest's ``metrics``: the headline validation numbers of the kept epoch."""
    m = summary.get("val_metrics") or {}
    if not m:
        return {}
    lvn, auc, three = m["lesion_vs_normal"], m["auc"], m["three_way"]
    out: dict[str, Any] = _clean(
        {
            "split": "patient-level validation split of the patch set (split.json)",
            "epoch": summary.get("best_epoch"),
            "n_patches": m.get("n"),
            "patch_counts": m.get("counts"),
            "lesion_vs_normal": {k: lvn[k] for k in ("accuracy", "precision", "recall", "specificity", "f1")},
            "lesion_vs_normal_auc": auc["lesion_vs_normal"]["auc"],
            "three_way_accuracy": three["accuracy"],
            "three_way_balanced_accuracy": three["recall_macro"],
            "mass_vs_calcification_auc": auc["mass_vs_calcification"]["auc"],
            "benign_vs_malignant_auc": auc["benign_vs_malignant"]["auc"],
            "by_source_lesion_vs_normal_auc": {
                s: b["auc"]["lesion_vs_normal"]["auc"] for s, b in m.get("by_source", {}).items()
            },
        }
    )
    return out


@dataclass(frozen=True)
class InstallOptions:
    """How the installed weights are to be run, written into their manifest entry.

    ``finding_threshold``: the p(abnormal) above which the viewer and detect report findings
    (choose it on the validation FROC, e.g. at one false positive per image);
    ``test_time_flip``: run the CAD on each image and its mirror image (the threshold must
    then come from an evaluation with ``--flip-tta``); ``map_windows_px``: the
    patch-equivalent windows whose maps are averaged (() = the patch size; the threshold
    must come from an evaluation with the same ``--map-windows``); ``operating_curve``: the
    validation FROC the viewer reads each finding's false marks per image from
    (:func:`operating_curve_from_metrics`; {} = none); ``malignancy_calibration``: the Platt
    scaling of the malignancy output fitted by an evaluation
    (:func:`mammoview.training.calibrate.calibration_from_metrics`; {} = the raw output).
    """

    version: str = "1.0.0"
    #: "detection" (the CAD), "malignancy" (a second stage read at each finding, :mod:`mammoview.cad.malignancy`)
    #: or "verification" (a second stage re-scoring each candidate, :mod:`mammoview.cad.verification`)
    task: str = "detection"
    finding_threshold: float = 0.5
    test_time_flip: bool = False
    map_windows_px: tuple[int, ...] = ()
    operating_curve: dict[str, Any] = field(default_factory=dict)
    malignancy_calibration: dict[str, Any] = field(default_factory=dict)
    make_default: bool = False
    #: with task "verification": the detector (name, version, sha256) it re-scores
    detector: dict[str, Any] | None = None

    def __post_init__(self) -> None:
        """Refuse a curve or a calibration measured with another test-time flip or other map windows:
        they would not describe the maps the installed model makes.  A verifier's curve must have
        been measured on its detector with a verifier."""
        if self.task == "verification":
            if not self.detector or not self.detector.get("sha256"):
                raise ValueError("a verification model needs the detector it verifies")
            ran = self.operating_curve.get("evaluated")
            if ran and (ran.get("sha256") != self.detector["sha256"] or not ran.get("verifier")):
                raise ValueError(
                    f"the operating curve was measured on {ran.get('name')} {str(ran.get('sha256'))[:8]} "
                    f"{'with' if ran.get('verifier') else 'without'} a verifier; this verifier's curve must be "
                    f"measured on {self.detector['name']} {self.detector['sha256'][:8]} with it installed"
                )
            return
        checked = [("operating curve", self.operating_curve)]
        if self.task == "detection":  # a second stage's calibration was measured with the detector's maps
            checked.append(("malignancy calibration", self.malignancy_calibration))
        for what, d in checked:
            ran = d.get("evaluated")
            if not ran:
                continue
            # no windows = the patch size alone (evaluate writes that patch size out)
            mine = (bool(self.test_time_flip), _windows(self.map_windows_px, ran.get("patch_size")))
            theirs = (bool(ran.get("test_time_flip")), _windows(ran.get("map_windows_px"), ran.get("patch_size")))
            if mine != theirs:
                raise ValueError(
                    f"the {what} was measured with test-time flip {theirs[0]}, map windows {list(theirs[1])}; "
                    f"this install has test-time flip {mine[0]}, map windows {list(mine[1])} (evaluate it as installed)"
                )


def _windows(windows: Any, patch_size: Any) -> tuple[int, ...]:
    """Map windows as run: none given is the patch size alone (when it is known)."""
    ws = tuple(int(w) for w in windows or ())
    return (int(patch_size),) if not ws and patch_size else ws


def operating_curve_from_metrics(path: Path, key: str = "cbis_mass") -> dict[str, Any]:
    """The manifest form of an evaluation's FROC curve (``mammoview evaluate --out DIR``: DIR/metrics.json).

    Raises
    ------
    ValueError
        If the file has no such FROC curve (e.g. an evaluation run with ``--no-detection``).
    """
    import json

    from mammoview.cad.operating import OperatingCurve

    try:
        doc = json.loads(Path(path).read_text())
        froc = doc["detection"]["froc"][key]
        curve = froc["curve"]
    except FileNotFoundError:
        raise ValueError(f"{path}: not found") from None
    except (KeyError, TypeError, json.JSONDecodeError) as exc:
        raise ValueError(f"{path}: no detection.froc.{key}.curve (an evaluation's metrics.json?): {exc}") from exc
    names = {"cbis_mass": "CBIS-DDSM validation masses", "mias": "mini-MIAS validation images"}
    try:
        out = OperatingCurve.from_froc(
            curve["threshold"],
            curve["fpi"],
            curve["sensitivity"],
            images=int(froc["n_images"]),
            lesions=int(froc["n_lesions"]),
            data=names.get(key, key),
        ).to_dict()
    except (KeyError, TypeError, ValueError) as exc:  # an edited curve: lists of other lengths, text for a number
        raise ValueError(f"{path}: detection.froc.{key} is not an evaluation's FROC curve ({exc})") from exc
    model = doc.get("model") or {}
    # what was evaluated: InstallOptions checks the flip and windows against the install's
    out["evaluated"] = {
        k: model.get(k)
        for k in ("name", "version", "sha256", "test_time_flip", "map_windows_px", "patch_size", "verifier")
        if k != "patch_size" or model.get(k) is not None  # what no map windows meant
    }
    return out


def model_entry(name: str, summary: dict[str, Any], options: InstallOptions | None = None) -> ModelEntry:
    """A complete :class:`~mammoview.cad.weights.ModelEntry` from a run's ``summary.json`` content."""
    opt = options or InstallOptions()
    pm = summary["patch_manifest"]
    cfg = summary["config"]
    counts = pm.get("counts", {}).get("patches", {})
    data = []
    for src in pm.get("extract", {}).get("sources", None) or ["cbis", "mias", "magic5"]:
        n = {split: sum(by_src.get(src, {}).values()) for split, by_src in counts.items()}
        if sum(n.values()) == 0:
            continue
        data.append({**DATA_SOURCES[src], "source": src, "patches": n})
    clip = pm["preprocessing"].get("clip", 4.0)
    return ModelEntry(
        name=name,
        arch=cfg["arch"],
        version=opt.version,
        task=opt.task,
        arch_kwargs=dict(cfg.get("arch_kwargs", {})),
        in_chans=int(pm.get("channels", 1)),
        pixel_size_mm=float(pm["pixel_size_mm"]),
        patch_size=int(pm["patch_size"]),
        preprocessing=dict(pm["preprocessing"]),
        normalization=f"robust z-score inside the breast mask, clipped to +-{clip:g}",
        training_data=data,
        metrics=validation_metrics(summary),
        licence=LICENCE,
        finding_threshold=float(opt.finding_threshold),
        test_time_flip=bool(opt.test_time_flip),
        map_windows_px=tuple(int(w) for w in opt.map_windows_px),
        operating_curve=dict(opt.operating_curve),
        malignancy_calibration=dict(opt.malignancy_calibration),
        command=summary.get("command", ""),
        extra={
            "train_config": cfg,
            "patch_set": {"command": pm.get("command", ""), "extract": pm.get("extract", {})},
            "context_px": int(pm.get("context_px", 0)),
            "best_epoch": summary.get("best_epoch"),
            "training_minutes": summary.get("minutes"),
            **({"verification": verification_settings(opt.detector)} if opt.task == "verification" else {}),
        },
    )


def verification_settings(detector: dict[str, Any] | None) -> dict[str, Any]:
    """A verifier's ``extra["verification"]``: the engine's defaults and the detector it verifies."""
    from mammoview.cad.verification import VerificationSettings

    return VerificationSettings(detector=dict(detector or {})).to_dict()


def install_run(
    run_dir: Path, summary: dict[str, Any], name: str, models_dir: Path, options: InstallOptions | None = None
) -> ModelEntry:
    """Load the run's best checkpoint and save it with :func:`mammoview.cad.weights.save_model`."""
    from mammoview.cad.registry import create_model

    opt = options or InstallOptions()
    entry = model_entry(name, summary, opt)
    model = create_model(entry.arch, in_chans=entry.in_chans, **entry.arch_kwargs)
    load_weights(run_dir / "checkpoints" / "best.safetensors", model)
    return save_model(model.eval(), entry, models_dir, make_default=opt.make_default)


def _patients_of(patches: Path, side: str) -> set[str] | None:
    """The ``side`` patients of a patch set: its ``index.csv`` rows (what was trained on), else ``split.json``."""
    import csv

    index, split = Path(patches) / "index.csv", Path(patches) / "split.json"
    if side == "train" and index.is_file():
        with open(index, newline="") as fh:
            return {r["patient"] for r in csv.DictReader(fh) if r.get("split") == side}
    if split.is_file():
        from mammoview.training.jsonfile import read_json

        return set((read_json(split).get("patients") or {}).get(side) or [])
    return None


def check_not_trained_on(run: Path, summary: dict[str, Any], patches: Path) -> None:
    """Refuse to measure a run on validation patients of ``patches`` that its own patch set trained it on.

    Patch sets cut with another ``--seed`` (or ``--val-fraction``) split the patients differently: the
    metrics would be those of a network on its own training patients.  Skipped when the run's patch set
    is no longer where it was trained.
    """
    own = Path(str(summary.get("patches") or ""))
    recorded = summary.get("patch_set_id")  # the index.csv and pixels the run trained on (absent in old summaries)
    here = [Path(patches) / n for n in ("index.csv", "patches.npy")]
    if recorded and str(own) and own.resolve() == Path(patches).resolve() and all(p.is_file() for p in here):
        from mammoview.training.patch_identity import match_recorded_id, note_index_only, patch_set_id

        current = patch_set_id(Path(patches))
        match = match_recorded_id(str(recorded), Path(patches), current)
        if match == "index only":
            note_index_only(run, Path(patches))
        elif match == "other":
            raise ValueError(
                f"{patches} has been cut again since {run} was trained on it (patch set {recorded}, now {current}: "
                "its index.csv or patches.npy differs): its split may put patients the run trained on among the "
                "validation patients, or its pixels are not those the run learnt; measure it on the patch set it "
                "was trained on, or train it again"
            )
    if not str(own) or own.resolve() == Path(patches).resolve():
        return
    trained, val = _patients_of(own, "train"), _patients_of(Path(patches), "val")
    both = sorted((trained or set()) & (val or set()))
    if both:
        raise ValueError(
            f"{run} was trained on {len(both)} of the {len(val or ())} validation patients of {patches} (e.g. "
            f"{both[0]}): its patch set {own} splits the patients differently; measure it on a patch set with "
            "its split"
        )
