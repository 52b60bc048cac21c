"""A reader study from the viewer's read log: the reader's recalls before and after CAD against the truth.

The read log (File ▸ Export worklist read log, :mod:`mammoview.gui.read_log`) has one row per
study with the reader's screening assessment of the first read (``assessment``: BI-RADS 1, 2 or
0 = recall) and after seeing the CAD (``assessment_after_cad``), the reading time and what the
CAD showed; studies are named by a pseudonym (``study``: the first 16 hex digits of a keyed hash of their study
key, :func:`mammoview.gui.pseudonym.study_pseudonym`, whose secret stays with the installation that wrote the log).
This module joins it with the truth per study and reports what a second-reader study reports:

- per reading (before / after CAD): recalls, sensitivity (malignant studies recalled),
  specificity (the others not recalled), each with its 95 % Wilson interval;
- the decisions CAD changed, by direction and truth (a cancer now recalled is a gain, a
  cancer no longer recalled a loss, and the same for false recalls);
- the CAD's own exam scores as a reader would not use them: ROC AUC of ``cad_malignant`` for
  malignant vs not, and of ``cad_abnormal`` for abnormal (malignant or benign finding) vs normal;
- reading time (median seconds).

Truth: a CSV with ``study`` (the read log's pseudonym) and ``truth`` (``malignant``,
``benign`` or ``normal``), or ``--truth data`` to derive it from the data folder's labels (on the installation
that wrote the log: its pseudonyms are keyed with that installation's secret)
(CBIS-DDSM Mass-Training: a patient is malignant when any of its masses is, or any calcification case on the
films shown (same patient, breast and view: one DDSM film); mini-MIAS: a patient pair is malignant / benign / normal
from its abnormalities).  Only studies whose first read is done
and whose truth is known are counted, and not the priors listed beside the exams read (``prior_of``).

    mammoview reader-study read-log.csv --truth data [--json OUT]   (mammoview.cli.reader_study)
"""

from __future__ import annotations

import csv
import math
import statistics
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from mammoview.training.metrics import roc_auc

TRUTHS = ("malignant", "benign", "normal")
RECALL = "0"
#: the assessments the viewer writes (mammoview.gui.read_state.Assessment), "" = none
ASSESSMENTS = ("0", "1", "2", "")
#: ``first_read_done`` values the viewer writes (mammoview.gui.read_log; "unreadable": a saved read it could not read)
FIRST_READ_DONE = ("yes", "no", "unreadable", "")
#: read log columns this analysis needs (mammoview.gui.read_log.COLUMNS holds them all)
STUDY = "study"  # the read log's name of a study (a pseudonym)
NEEDED = (STUDY, "first_read_done", "reading_seconds", "assessment", "assessment_after_cad",
          "cad_abnormal", "cad_malignant")  # fmt: skip


#: the read log's numbers: column, largest value, what it is
NUMBERS = (("reading_seconds", math.inf, "a reading time in seconds"), ("cad_abnormal", 1.0, "a CAD score (0 to 1)"),
           ("cad_malignant", 1.0, "a CAD score (0 to 1)"))  # fmt: skip


def _number_or_empty(text: str | None, top: float) -> bool:
    """Whether ``text`` is empty or a number from 0 to ``top`` (``inf``: any finite one)."""
    try:
        return not text or (math.isfinite(float(text)) and 0.0 <= float(text) <= top)
    except ValueError:
        return False


def load_read_log(path: Path) -> list[dict[str, str]]:
    """The read log's rows.

    Raises
    ------
    ValueError
        If a column this analysis needs is missing (not a mammoview read log).
    """
    with open(path, newline="", encoding="utf-8-sig") as fh:  # -sig: a log saved again by a spreadsheet
        reader = csv.DictReader(fh)
        missing = [c for c in NEEDED if c not in (reader.fieldnames or ())]
        if STUDY in missing and "study_sha256" in (reader.fieldnames or ()):  # the first logs lack the CAD's too
            raise ValueError(
                f"{path}: a read log of an earlier mammoview (studies by plain hash, which can be "
                "traced back to the patient): export it again (File > Export worklist read log)"
            )
        if missing:
            raise ValueError(f"{path}: not a mammoview read log (no column {', '.join(missing)})")
        header = dict(zip(reader.fieldnames or (), reader.fieldnames or (), strict=True))
        # logs put together with `cat a.csv b.csv`: the next log's header line starts its rows
        numbered = [(n, row) for n, row in enumerate(reader, 2) if row != header]
    rows = [row for _, row in numbered]
    for n, row in numbered:
        if (row["first_read_done"] or "") not in FIRST_READ_DONE:  # a newer mammoview's: never read as "not read"
            raise ValueError(f"{path}, line {n}: first_read_done {row['first_read_done']!r} is not a value the "
                             "viewer writes (yes, no, unreadable)")  # fmt: skip
        for column in ("assessment", "assessment_after_cad"):
            if (row[column] or "") not in ASSESSMENTS:  # e.g. BI-RADS 4 typed in: never read as "not recalled"
                raise ValueError(f"{path}, line {n}: {column} {row[column]!r} is not a screening assessment the "
                                 "viewer writes (0 recall, 1 negative, 2 benign, or empty)")  # fmt: skip
        for column, top, what in NUMBERS:  # e.g. 0,93 from a spreadsheet of another locale: no file or line said
            if not _number_or_empty(row[column], top):
                raise ValueError(f"{path}, line {n}: {column} {row[column]!r} is not {what} the viewer writes")
    return rows


def load_truth(path: Path) -> dict[str, str]:
    """The read log's study pseudonym -> truth, from a CSV with the columns ``study`` and ``truth``.

    Raises
    ------
    ValueError
        If a column is missing or a truth is not one of :data:`TRUTHS`.
    """
    out: dict[str, str] = {}
    lines: dict[str, int] = {}
    with open(path, newline="", encoding="utf-8-sig") as fh:  # -sig: Excel's "CSV UTF-8" starts with a BOM
        reader = csv.DictReader(fh)
        if not {STUDY, "truth"} <= set(reader.fieldnames or ()):
            raise ValueError(f"{path}: a truth CSV needs the columns {STUDY} and truth")
        for n, row in enumerate(reader, 2):
            truth = (row["truth"] or "").strip().lower()  # None: a row cut short (no truth cell)
            if truth not in TRUTHS:
                raise ValueError(f"{path}, line {n}: truth {row['truth']!r} is not one of {', '.join(TRUTHS)}")
            study = (row[STUDY] or "").strip().lower()[:16]
            if out.get(study, truth) != truth:
                raise ValueError(f"{path}, line {n}: study {study} is {truth} here but {out[study]} on line "
                                 f"{lines[study]}")  # fmt: skip
            out[study], lines[study] = truth, n
    return out


def truth_from_data(name: Callable[[str], str], data_dir: Path | None = None) -> dict[str, str]:
    """Truth per study from the data folder's labels, keyed by ``name(study key)``: the read log's pseudonym
    (``mammoview reader-study`` passes the viewer's, with this installation's secret).

    The viewer's study keys of these sources (``mammoview.io.study.study_key``): ``P_xxxxx`` for a
    CBIS-DDSM patient, ``mini-MIAS patient NNN`` for a mini-MIAS pair (mdb 2k-1 and 2k).
    """
    from mammoview.training.sources import SOURCE_FOLDERS, cbis_images, cbis_patient, default_data_dir, mias_images

    keyed: dict[str, list[str]] = {}
    films: set[tuple[str, str, str]] = set()  # (patient, L/R, CC/MLO) of the CBIS-DDSM images in the data
    for im in cbis_images(data_dir):
        patient = im.patient.split(":", 1)[1]
        keyed.setdefault(patient, []).append("malignant" if im.malignant else "benign")
        films.add((patient, im.laterality or "", im.projection or ""))
    # a calcification case of the same patient, breast and view lies on the same DDSM film as the mass image shown:
    # its pathology is the study's too (a malignant one on screen is a cancer to recall, whatever the mass is)
    cbis_root = (data_dir or default_data_dir()) / SOURCE_FOLDERS["cbis"]
    for calc_csv in sorted(cbis_root.glob("calc_case_description_*.csv")):
        with open(calc_csv, newline="", encoding="utf-8-sig") as fh:
            for row in csv.DictReader(fh):
                film = (cbis_patient(row["patient_id"]), row["left or right breast"][:1], row["image view"])
                if film in films:
                    keyed[film[0]].append("malignant" if row["pathology"] == "MALIGNANT" else "benign")
    for im in mias_images(data_dir):
        k = (int(im.image_id[3:]) + 1) // 2
        t = "normal" if not im.abnormal else "malignant" if im.malignant else "benign"
        keyed.setdefault(f"mini-MIAS patient {k:03d}", []).append(t)
    return {name(k): min(v, key=TRUTHS.index) for k, v in keyed.items()}


def _rate(k: int, n: int) -> float | None:
    return k / n if n else None


def wilson(k: int, n: int, z: float = 1.959964) -> tuple[float, float] | None:
    """Wilson score interval (95 % for the default ``z``) of ``k`` successes in ``n``; None for ``n`` = 0.

    Wilson's rather than the normal approximation's: it stays inside [0, 1] and keeps its coverage on the handful
    of studies a reader study often has (an observed 3 of 3 is [0.44, 1.00], not [1, 1]).
    """
    if n == 0:
        return None
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def reading(rows: Sequence[Mapping[str, str]], truth: Mapping[str, str], column: str) -> dict[str, Any]:
    """Recalls, sensitivity and specificity of one reading (``assessment`` or ``assessment_after_cad``), the rates
    with their 95 % Wilson intervals (``*_ci``).

    Studies without an assessment in that reading are counted as ``undecided`` and left out of
    the rates (not read as "no recall").
    """
    decided = [r for r in rows if r[column]]
    pos = [r for r in decided if truth[r[STUDY]] == "malignant"]
    neg = [r for r in decided if truth[r[STUDY]] != "malignant"]
    undecided = len(rows) - len(decided)
    tp = sum(r[column] == RECALL for r in pos)
    fp = sum(r[column] == RECALL for r in neg)
    return {
        "studies": len(rows),
        "undecided": undecided,
        # the denominators: the rates count the decided reads only, and after CAD only the reads with CAD shown
        "decided": len(decided),
        "cancers": len(pos),
        "non_cancers": len(neg),
        "recalls": tp + fp,
        "recall_rate": _rate(tp + fp, len(decided)),
        "recall_rate_ci": wilson(tp + fp, len(decided)),
        "sensitivity": _rate(tp, len(pos)),
        "sensitivity_ci": wilson(tp, len(pos)),
        "specificity": _rate(len(neg) - fp, len(neg)),
        "specificity_ci": wilson(len(neg) - fp, len(neg)),
        "true_recalls": tp,
        "false_recalls": fp,
    }


def mcnemar_exact(b: int, c: int) -> float | None:
    """Two-sided exact McNemar p-value of ``b`` against ``c`` discordant pairs (binomial, 1/2); None without any."""
    n = b + c
    if n == 0:
        return None
    # int / int: exact to the float it rounds to, for any n (float(2**n) overflows from 1024 discordant pairs)
    tail = sum(math.comb(n, k) for k in range(min(b, c) + 1)) / 2**n
    return float(min(1.0, 2.0 * tail))


def _discordant(rows: Sequence[Mapping[str, str]], truth: Mapping[str, str], malignant: bool) -> tuple[int, int]:
    """(recalled after CAD only, recalled before only) among the malignant (or the other) reads."""
    mine = [r for r in rows if (truth[r[STUDY]] == "malignant") is malignant]
    after = sum(r["assessment_after_cad"] == RECALL and r["assessment"] != RECALL for r in mine)
    before = sum(r["assessment"] == RECALL and r["assessment_after_cad"] != RECALL for r in mine)
    return after, before


def changes(rows: Sequence[Mapping[str, str]], truth: Mapping[str, str]) -> dict[str, int]:
    """The decisions CAD changed, by direction (to / from recall) and truth (studies with both decisions)."""
    out = dict.fromkeys(("changed", "cancer_recalled", "cancer_no_longer_recalled", "false_recall_added",
                         "false_recall_removed", "other"), 0)  # fmt: skip
    for r in rows:
        before, after = r["assessment"], r["assessment_after_cad"]
        if before == after or not before or not after:
            continue
        out["changed"] += 1
        malignant = truth[r[STUDY]] == "malignant"
        if after == RECALL:
            out["cancer_recalled" if malignant else "false_recall_added"] += 1
        elif before == RECALL:
            out["cancer_no_longer_recalled" if malignant else "false_recall_removed"] += 1
        else:
            out["other"] += 1  # e.g. BI-RADS 1 -> 2: not a recall decision
    return out


def _auc(rows: Iterable[Mapping[str, str]], column: str, positive: Iterable[str], truth: Mapping[str, str]) -> Any:
    """The CAD's AUC of ``column``: one score per study (the CAD read it once, however many readings it had)."""
    pos = set(positive)
    once: dict[str, float] = {}
    for r in rows:
        if r[column]:
            once.setdefault(r[STUDY], float(r[column]))
    scored = [(truth[study] in pos, score) for study, score in once.items()]
    labels = [p for p, _ in scored]
    if not scored or all(labels) or not any(labels):
        return None
    return roc_auc(labels, [s for _, s in scored]).to_dict()


def reader_study(rows: Sequence[Mapping[str, str]], truth: Mapping[str, str]) -> dict[str, Any]:
    """The whole report (module docstring) of the read log ``rows`` against ``truth``."""
    # a listed prior (``prior_of``, logs since 2026-12-06) was there to compare with: not a study of the batch
    known = [r for r in rows if r[STUDY] in truth and not r.get("prior_of")]
    done = [r for r in known if r["first_read_done"] == "yes"]
    # read with the CAD shown: a first read closed while the CAD was unavailable (or failed, or was cancelled) has a
    # decision "after CAD" that no CAD informed, so it is neither a reading with CAD nor a change by CAD
    # (by its model: the scores are blank where the CAD found no breast in any view; or by its scores, in a log or
    # table that names no model)
    with_cad = [r for r in done if r.get("cad_model") or r["cad_abnormal"]]
    both = [r for r in with_cad if r["assessment"] and r["assessment_after_cad"]]
    seconds = [float(r["reading_seconds"]) for r in done if r["reading_seconds"]]
    counts = {t: sum(truth[r[STUDY]] == t for r in done) for t in TRUTHS}
    times = Counter(r[STUDY] for r in done)
    return {
        "rows": len(rows),
        "truth_known": len(known),
        "first_read_done": len(done),
        # what became of every row: only "read" is counted in the rates (an unreadable read's decisions are unknown)
        "log_rows": {
            "read": len(done),
            "unreadable": sum(r["first_read_done"] == "unreadable" for r in known),
            "not_read": sum(r["first_read_done"] not in ("yes", "unreadable") for r in known),
            "not_in_truth": sum(r[STUDY] not in truth and not r.get("prior_of") for r in rows),
            "listed_prior": sum(bool(r.get("prior_of")) for r in rows),
        },
        # rows counted above that the log says are not saved (``not_saved``, logs since 2026-12-07): the saved read of a
        # study whose reader's read is in conflict with it, or the reader's read whose save failed (not on disk)
        "read_not_saved": dict(Counter(r["not_saved"] for r in done if r.get("not_saved"))),
        "truth_not_in_log": len(set(truth) - {r[STUDY] for r in rows}),
        # e.g. two readers' logs put together: each reading counts, said so the rates are read as readings
        "studies_read_more_than_once": sum(n > 1 for n in times.values()),
        "truth": counts,
        "before_cad": reading(done, truth, "assessment"),
        "after_cad": reading(with_cad, truth, "assessment_after_cad"),
        "changes": changes(with_cad, truth),
        "read_without_cad": len(done) - len(with_cad),
        "before_cad_same_reads": reading(with_cad, truth, "assessment"),  # paired with after_cad
        # the reads decided in both readings, with CAD shown: before and after on the same reads (the rows above
        # count each reading's own decided reads, which differ when a first read had no decision)
        "paired": {
            "reads": len(both),
            "before_cad": reading(both, truth, "assessment"),
            "after_cad": reading(both, truth, "assessment_after_cad"),
            # exact McNemar on the discordant recall decisions: of the cancers (sensitivity), of the others
            "mcnemar_sensitivity_p": mcnemar_exact(*_discordant(both, truth, True)),
            "mcnemar_specificity_p": mcnemar_exact(*_discordant(both, truth, False)),
            # the test's n: (recalled after CAD only, recalled before only)
            "discordant_cancers": _discordant(both, truth, True),
            "discordant_others": _discordant(both, truth, False),
        },
        "cad_auc_malignant": _auc(done, "cad_malignant", ["malignant"], truth),
        "cad_auc_abnormal": _auc(done, "cad_abnormal", ["malignant", "benign"], truth),
        "median_reading_seconds": statistics.median(seconds) if seconds else None,
    }


def _fmt(v: Any) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "-"
    return f"{v:.3f}" if isinstance(v, float) else str(v)


def _with_ci(k: int, n: int, rate: float | None, ci: Sequence[float] | None) -> str:
    """``k/n rate [lo, hi]``: every rate with its numerator and denominator."""
    return "-" if rate is None or ci is None else f"{k}/{n} {rate:.3f} [{ci[0]:.2f}, {ci[1]:.2f}]"


def _reading_line(name: str, r: Mapping[str, Any]) -> str:
    recall = _with_ci(r["recalls"], r["decided"], r["recall_rate"], r["recall_rate_ci"])
    sens = _with_ci(r["true_recalls"], r["cancers"], r["sensitivity"], r["sensitivity_ci"])
    spec = _with_ci(r["non_cancers"] - r["false_recalls"], r["non_cancers"], r["specificity"], r["specificity_ci"])
    return f"{name:<14}{recall:>28}{sens:>28}{spec:>28}{r['undecided']:>11}"


def report_text(rep: Mapping[str, Any]) -> str:
    """A plain-text summary of :func:`reader_study`'s report."""
    t = rep["truth"]
    lines = [
        f"{rep['first_read_done']} studies read with known truth ({t['malignant']} malignant, {t['benign']} benign, "
        f"{t['normal']} normal) of {rep['rows']} in the log; median reading time "
        f"{'-' if rep['median_reading_seconds'] is None else round(rep['median_reading_seconds'])} s",
        f"{'reading':<14}{'recall rate [95 % CI]':>28}{'sensitivity [95 % CI]':>28}{'specificity [95 % CI]':>28}"
        f"{'undecided':>11}",
    ]
    if (acc := rep.get("log_rows")) is not None:
        missing = rep["truth_not_in_log"]
        lines.insert(1, f"log rows: {acc['read']} read with known truth, {acc['unreadable']} unreadable (saved read "
                        f"damaged or a newer mammoview's: its decisions are unknown, not counted), {acc['not_read']} "
                        f"first read not done, {acc['not_in_truth']} not in the truth, {acc['listed_prior']} listed "
                        f"prior(s); {missing} {'study' if missing == 1 else 'studies'} of the truth "
                        f"{'is' if missing == 1 else 'are'} not in the log")  # fmt: skip
    if unsaved := rep.get("read_not_saved"):
        which = ", ".join(f"{n} {k}" for k, n in sorted(unsaved.items()))
        lines.insert(1, f"of the reads counted, not saved ({which}): "
                        "'in conflict' counts the saved read, which the reader's own, kept in a conflict copy, would "
                        "have changed; 'save failed' counts the reader's read, which is on no disk")  # fmt: skip
    if again := rep.get("studies_read_more_than_once"):
        lines.insert(1, f"{again} of them read more than once (several logs put together?): each reading counts, and "
                        "the Wilson intervals and McNemar p below treat the readings as independent, which two "
                        "readings of one study are not (intervals too narrow, p too small): analyse each reader's "
                        "log alone, or use a multi-reader method")  # fmt: skip
    rows = [("before CAD", "before_cad"), ("after CAD", "after_cad")]
    if rep.get("read_without_cad"):  # the two rows would count different reads: the paired one is shown too
        rows.insert(1, ("  same reads", "before_cad_same_reads"))
    for name, key in rows:
        r = rep[key]
        lines.append(_reading_line(name, r))
    lines.append("rates: k/n of the row's decided reads (recalled of all, recalled of the cancers, not recalled of the "
                 "others), 95 % Wilson score intervals")  # fmt: skip
    if n := rep.get("read_without_cad"):
        lines.append(f"{n} read(s) without CAD (unavailable, failed or cancelled): in 'before CAD' only; "
                     "'same reads' is before CAD of the reads after CAD counts")  # fmt: skip
    paired = rep.get("paired")
    decided = (
        rep["before_cad"]["studies"] - rep["before_cad"]["undecided"],
        rep["after_cad"]["studies"] - rep["after_cad"]["undecided"],
    )
    if paired and any(d != paired["reads"] for d in decided):  # the rows above compare different reads
        for name, key in (("paired: before", "before_cad"), ("paired: after", "after_cad")):
            r = paired[key]
            lines.append(_reading_line(name, r))
        lines.append(f"paired: the {paired['reads']} read(s) decided in both readings with CAD shown, before and "
                     "after on the same reads")  # fmt: skip
    if paired:
        dc, do = paired.get("discordant_cancers", ("?", "?")), paired.get("discordant_others", ("?", "?"))
        lines.append(f"McNemar exact p (paired reads, recall before vs after CAD): cancers "
                     f"{_fmt(paired.get('mcnemar_sensitivity_p'))} ({dc[0]} recalled after CAD only vs {dc[1]} before "
                     f"only), others {_fmt(paired.get('mcnemar_specificity_p'))} ({do[0]} vs {do[1]})"
                     " ('-': no decision changed)")  # fmt: skip
    c = rep["changes"]
    lines.append(
        f"changed by CAD: {c['changed']} (cancer recalled {c['cancer_recalled']}, cancer no longer recalled "
        f"{c['cancer_no_longer_recalled']}, false recall added {c['false_recall_added']}, removed "
        f"{c['false_recall_removed']}, other {c['other']})"
    )
    for name, key in (("malignant", "cad_auc_malignant"), ("abnormal", "cad_auc_abnormal")):
        auc = rep[key]
        shown = (f"{_fmt(auc['auc'])} ({auc['n_pos']} {name} vs {auc['n_neg']} other studies)" if auc
                 else "- (needs CAD scores of both classes)")  # fmt: skip
        lines.append(f"CAD exam {name} score AUC: {shown}")
    return "\n".join(lines)
