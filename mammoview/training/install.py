"""Turn a training run into an installed model (``models/<name>-<sha8>.safetensors`` + manifest entry)."""

from __future__ import annotations

import math
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
    return _clean(
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


def model_entry(
    name: str,
    summary: dict[str, Any],
    version: str = "1.0.0",
    finding_threshold: float = 0.5,
    test_time_flip: bool = False,
) -> ModelEntry:
    """A complete :class:`~mammoview.cad.weights.ModelEntry` from a run's ``summary.json`` content."""
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
        version=version,
        arch_kwargs=dict(cfg.get("arch_kwargs", {})),
        in_chans=int(pm.get("channels", 1)),
        pixel_size_mm=float(pm["pixel_size_mm"]),
        patch_size=int(pm["patch_size"]),
        preprocessing=dict(pm["preprocessing"]),
        normalization=f"robust z-score inside the breast mask, clipped to +-{clip:g}",
        training_data=data,
        metrics=validation_metrics(summary),
        licence=LICENCE,
        finding_threshold=float(finding_threshold),
        test_time_flip=bool(test_time_flip),
        command=summary.get("command", ""),
        extra={
            "train_config": cfg,
            "patch_set": {"command": pm.get("command", ""), "extract": pm.get("extract", {})},
            "context_px": int(pm.get("context_px", 0)),
            "best_epoch": summary.get("best_epoch"),
            "training_minutes": summary.get("minutes"),
        },
    )


def install_run(
    run_dir: Path,
    summary: dict[str, Any],
    name: str,
    models_dir: Path,
    make_default: bool = False,
    finding_threshold: float = 0.5,
    test_time_flip: bool = False,
    version: str = "1.0.0",
):
    """Load the run's best checkpoint and save it with :func:`mammoview.cad.weights.save_model`.

    ``finding_threshold``: the p(abnormal) above which the viewer and detect report findings
    (choose it on the validation FROC, e.g. at one false positive per image);
    ``test_time_flip``: run the CAD on each image and its mirror image (the threshold must
    then come from an evaluation with ``--flip-tta``).
    """
    from mammoview.cad.registry import create_model

    entry = model_entry(
        name, summary, version=version, finding_threshold=finding_threshold, test_time_flip=test_time_flip
    )
    model = create_model(entry.arch, in_chans=entry.in_chans, **entry.arch_kwargs)
    load_weights(run_dir / "checkpoints" / "best.safetensors", model)
    return save_model(model.eval(), entry, models_dir, make_default=make_default)
