"""``metrics.json`` in and out, and the markdown views of it (``report.md``, comparison tables).

The markdown is generated from ``metrics.json`` only, so a table in the model card or a
paper-style comparison can always be regenerated from the saved runs.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from mammoview.io.files import atomic_write_text
from mammoview.training.jsonfile import read_json

#: Schema version of metrics.json (bump when a key changes meaning).
METRICS_VERSION = 1


def to_jsonable(obj: Any) -> Any:
    """Replace NaN/inf by None (strict JSON has no NaN) and numpy scalars/tuples by plain values."""
    if isinstance(obj, Mapping):
        return {str(k): to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [to_jsonable(v) for v in obj]
    if hasattr(obj, "item") and not isinstance(obj, (str, bytes)):  # numpy scalar
        obj = obj.item()
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    return obj


def write_metrics(metrics: Mapping[str, Any], path: Path) -> None:
    """Write ``metrics.json`` (strict JSON: undefined values are ``null``)."""
    atomic_write_text(path, json.dumps(to_jsonable(metrics), indent=2, allow_nan=False) + "\n")


def read_metrics(path: Path | str) -> dict[str, Any]:
    """Read a ``metrics.json`` (or a run/evaluation folder holding one)."""
    p = Path(path)
    if p.is_dir():
        p = p / "metrics.json"
    data = read_json(p)  # (ValueError naming the file: json's words alone, for a file cut short, named none)
    if "model" not in data:
        raise ValueError(f"{p}: not a mammoview evaluate metrics.json")
    data.setdefault("_path", str(p))
    return data


def fmt(value: Any, digits: int = 3) -> str:
    """A table cell: ``n/a`` for missing/undefined, fixed digits for floats, thousands for ints."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value).replace("|", "\\|")


def markdown_table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A GitHub-flavoured markdown table; cells go through :func:`fmt`."""
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(fmt(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def _get(d: Mapping[str, Any] | None, *keys: str) -> Any:
    for k in keys:
        if not isinstance(d, Mapping) or k not in d:
            return None
        d = d[k]
    return d


def _auc_cell(a: Mapping[str, Any] | None) -> str:
    auc = _get(a, "auc")
    if auc is None or (isinstance(auc, float) and math.isnan(auc)):
        return f"n/a ({a['note']})" if a and a.get("note") else "n/a"
    lo, hi = (a or {}).get("ci95") or (None, None)
    if fmt(lo) == "n/a" or fmt(hi) == "n/a":
        return fmt(auc)
    return f"{auc:.3f} [{lo:.2f}, {hi:.2f}]"


def _threshold_cell(t: Any) -> str:
    """A score threshold as detect's JSON writes scores (:func:`~mammoview.cad.types.json_probability`).

    The findings of a high-specificity CAD score 0.97-0.99999: three decimals would read 0.9709 as 0.971 and
    0.99991 as 1.000, another operating point or none.
    """
    from mammoview.cad.types import json_probability

    return "n/a" if fmt(t) == "n/a" else f"{json_probability(t):.12g}"


def _patch_rows(patch: Mapping[str, Any]) -> list[list[Any]]:
    blocks = [("all", patch), *sorted((patch.get("by_source") or {}).items())]
    rows = []
    for name, b in blocks:
        rows.append(
            [
                name,
                b.get("n"),
                _get(b, "three_way", "accuracy"),
                _get(b, "three_way", "f1_macro"),
                _get(b, "lesion_vs_normal", "accuracy"),
                _get(b, "lesion_vs_normal", "precision"),
                _get(b, "lesion_vs_normal", "recall"),
                _get(b, "lesion_vs_normal", "f1"),
                _auc_cell(_get(b, "auc", "lesion_vs_normal")),
                _auc_cell(_get(b, "auc", "mass_vs_calcification")),
                _auc_cell(_get(b, "auc", "benign_vs_malignant")),
            ]
        )
    return rows


def _confusion_block(cm: Sequence[Sequence[int]], labels: Sequence[str]) -> str:
    rows = [[f"true {lab}", *cm[i]] for i, lab in enumerate(labels)]
    return markdown_table(["", *(f"pred {lab}" for lab in labels)], rows)


def metrics_report(metrics: Mapping[str, Any]) -> str:
    """The ``report.md`` text of one evaluation (sections missing from the metrics are skipped)."""
    m = metrics.get("model") or {}
    out = [f"# Evaluation of {m.get('name', '?')} ({m.get('arch', '?')})", ""]
    if _get(metrics, "patches", "dir") in (None, "None"):  # `evaluate --all-images` without --patches
        data = f"{_get(metrics, 'images', 'set')} of `{_get(metrics, 'images', 'data')}`, no patch set"
    else:
        data = f"patch set `{_get(metrics, 'patches', 'dir')}` ({_get(metrics, 'patches', 'split')} split)"
    out.append(
        f"Weights sha256 `{str(m.get('sha256', ''))[:12]}`, {fmt(m.get('params'))} parameters; {data}. "
        "Research use only."
    )
    patch = metrics.get("patch")
    if patch:
        flipped = patch.get("test_time_flip")
        mirror = " (each patch and its mirror image, as the model reads whole images)" if flipped else ""
        out += ["", f"## Patch level (validation split){mirror}", ""]
        headers = ["source", "n", "acc 3-way", "F1 macro", "acc lesion", "precision", "recall", "F1"]
        headers += ["AUC lesion vs normal", "AUC mass vs calc", "AUC benign vs malignant"]
        out.append(markdown_table(headers, _patch_rows(patch)))
        thr = fmt(_get(patch, "lesion_vs_normal", "threshold"), 2)
        out += [
            "",
            f"Lesion = 1 - p(normal) >= {thr}; AUC with its 95 % interval (patient bootstrap; "
            "Hanley-McNeil in evaluations before 2026-12-06 evening).",
            "",
        ]
        out.append(_confusion_block(_get(patch, "three_way", "confusion"), _get(patch, "three_way", "classes")))
        out += ["", _confusion_block(_get(patch, "lesion_vs_normal", "confusion"), ["normal", "lesion"])]
    det = metrics.get("detection")
    if det:
        held_out = metrics.get("images")
        which = "every image of " + str(held_out.get("data")) if held_out else "validation images"
        out += ["", f"## Image level ({which}, detect JSON scores)", ""]
        if held_out:
            out += [f"{held_out.get('n_patients')} patients, none of them on the validation side of a patch set: "
                    "a held-out test set only if no patient of it was trained on (see the notes).", ""]  # fmt: skip
        names = {
            "abnormal_mias": "MIAS abnormal vs normal (score: abnormal)",
            "malignant_cbis": "CBIS malignant vs benign (score: malignant)",
            "malignant_mias": "MIAS malignant vs benign abnormal images",
            "malignant_all": "CBIS + MIAS malignant vs benign",
        }
        rows = [[names.get(k, k), _auc_cell(a), a.get("n_pos"), a.get("n_neg")] for k, a in det["image_auc"].items()]
        out.append(markdown_table(["task", "AUC [95 % CI]", "positives", "negatives"], rows))
        out += ["", "## Localisation (FROC, detect findings)", ""]
        froc: Mapping[str, Any] = det.get("froc") or {}
        first: Mapping[str, Any] = next(iter(froc.values()), {})
        rates = list((first.get("sens_at") or {}).keys())
        rows = [
            [
                name, f.get("n_images"), f.get("n_lesions"), *(f["sens_at"].get(r) for r in rates), f.get("max_fpi"),
                _threshold_cell((f.get("threshold_at") or {}).get("1")),
            ]
            for name, f in froc.items()
        ]  # fmt: skip
        headers = ["set", "images", "lesions", *(f"sens@{r} FP/img" for r in rates), "max FP/img"]
        headers.append("threshold @1 FP/img")
        out.append(markdown_table(headers, rows))
        out += ["", "A sensitivity at a rate above `max FP/img` is a lower bound (detect keeps the top findings only)."]
        cal: Mapping[str, Any] = det.get("malignancy_calibration") or {}
        if "slope" in cal:
            a, b = fmt(cal["slope"], 3), f"{float(cal['intercept']):+.3f}"
            out += ["", "## Malignancy calibration", "",
                    f"Platt scaling p' = sigmoid({a} logit(p) {b}) fitted "
                    f"on {cal.get('findings')} validation findings on lesions of known pathology "
                    f"({cal.get('malignant')} malignant); install it with `--malignancy-calibration`."]  # fmt: skip
        elif cal:
            out += ["", f"Malignancy calibration {cal.get('note', 'not fitted')}."]
    timing = metrics.get("timing")
    if timing:
        out += ["", "## Speed", ""]
        out.append(
            f"{fmt(timing.get('ms_per_view_median'), 0)} ms per view (median of {fmt(timing.get('n_views'))} "
            f"validation views, analyse_image only, decode excluded) on {timing.get('device', '?')}, "
            f"{fmt(timing.get('threads'))} thread(s)."
        )
    notes = list(metrics.get("notes") or []) + [f"detection: {n}" for n in (det or {}).get("notes", [])]
    notes += [f"patch: {n}" for n in (_get(patch, "three_way", "notes") or [])]
    if notes:
        out += ["", "## Notes", ""] + [f"- {n}" for n in notes]
    return "\n".join(out) + "\n"


#: Columns of :func:`compare_table`: (header, path into metrics.json).
COMPARE_COLUMNS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("architecture", ("model", "arch")),
    ("accuracy", ("patch", "lesion_vs_normal", "accuracy")),
    ("precision", ("patch", "lesion_vs_normal", "precision")),
    ("recall", ("patch", "lesion_vs_normal", "recall")),
    ("AUC", ("patch", "auc", "lesion_vs_normal", "auc")),
    ("acc 3-way", ("patch", "three_way", "accuracy")),
    ("FROC sens@1 CBIS", ("detection", "froc", "cbis_mass", "sens_at", "1")),
    ("FROC sens@1 MIAS", ("detection", "froc", "mias", "sens_at", "1")),
    ("image AUC malignant", ("detection", "image_auc", "malignant_all", "auc")),
    ("image AUC abnormal MIAS", ("detection", "image_auc", "abnormal_mias", "auc")),
    ("params", ("model", "params")),
    ("ms/view", ("timing", "ms_per_view_median")),
)


def compare_table(metrics_jsons: Sequence[Path | str | Mapping[str, Any]], labels: Sequence[str] | None = None) -> str:
    """One markdown table comparing evaluations, like the paper's architecture table.

    Parameters
    ----------
    metrics_jsons : sequence of path or dict
        ``metrics.json`` files (or folders holding one, or already-loaded dicts).
    labels : sequence of str, optional
        Row names; default: the model name (the folder name for a path).

    Returns
    -------
    str
        The table plus a line defining the columns (accuracy/precision/recall/AUC are the
        lesion-vs-normal patch view on the validation split).
    """
    loaded = [dict(m) if isinstance(m, Mapping) else read_metrics(m) for m in metrics_jsons]
    if labels is not None and len(labels) != len(loaded):
        raise ValueError(f"{len(labels)} labels for {len(loaded)} metrics files")
    rows = []
    for i, m in enumerate(loaded):
        label = labels[i] if labels else (_get(m, "model", "name") or Path(m.get("_path", "?")).parent.name)
        cells = [_get(m, *path) for _, path in COMPARE_COLUMNS]
        ms = cells[-1]
        cells[-1] = round(ms) if isinstance(ms, float) and math.isfinite(ms) else ms
        rows.append([label, *cells])
    table = markdown_table(["run", *(h for h, _ in COMPARE_COLUMNS)], rows)
    thr = {fmt(_get(m, "patch", "lesion_vs_normal", "threshold"), 2) for m in loaded} - {"n/a"}
    return (
        table + "\n\nAccuracy, precision, recall and AUC: lesion vs normal on the validation patches "
        f"(lesion = 1 - p(normal) >= {' / '.join(sorted(thr)) or 'n/a'}); "
        "FROC: sensitivity at 1 false positive per image on the validation images; "
        "image AUCs: detect's per-image scores (malignant: CBIS + MIAS; abnormal: MIAS normal vs abnormal); "
        "ms/view: median analyse_image time on the evaluating machine.\n"
    )
