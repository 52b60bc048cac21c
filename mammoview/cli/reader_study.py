"""`mammoview reader-study`: the viewer's read log against the truth (recalls before / after CAD)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from mammoview.terminal import say


def add_subparser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser(
        "reader-study",
        help="a read log (File > Export worklist read log) against the truth: recalls before / after CAD",
        description="Join the viewer's read log with the truth per study and print recalls, sensitivity and "
        "specificity before and after CAD, the decisions CAD changed, and the CAD exam scores' AUCs.",
    )
    p.add_argument("log", type=Path, help="read log CSV (File > Export worklist read log)")
    p.add_argument(
        "--truth",
        required=True,
        metavar="CSV|data",
        help="truth CSV (study = the read log's pseudonym, truth = malignant / benign / normal), or 'data' for the "
        "CBIS-DDSM and "
        "mini-MIAS labels of $MAMMOVIEW_DATA (default ../shared/data)",
    )
    p.add_argument("--json", type=Path, dest="json_out", metavar="OUT", help="also write the report as JSON")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from mammoview.training.reader_study import load_read_log, load_truth, reader_study, report_text, truth_from_data

    if args.json_out is not None and args.json_out.exists():
        say(f"mammoview reader-study: {args.json_out} exists; not overwritten")
        return 2
    try:
        rows = load_read_log(args.log)
        if args.truth == "data":  # named as the viewer names studies in the log (this installation's pseudonyms)
            from mammoview.gui.pseudonym import study_pseudonym

            truth = truth_from_data(lambda key: study_pseudonym(key)[:16])
        else:
            truth = load_truth(Path(args.truth))
    except (OSError, ValueError) as exc:
        say(f"mammoview reader-study: {exc}")
        return 2
    rep = reader_study(rows, truth)
    print(report_text(rep))
    if rows and rep["truth_known"] == 0:  # every study unknown: most likely another installation's pseudonyms
        say(
            "mammoview reader-study: no study of the log is in the truth; the log names studies by pseudonyms "
            "keyed with the secret of the installation that wrote it, so run this there (or give a truth CSV "
            "with the log's study column)"
        )
    if args.json_out is not None:
        from mammoview.io.files import atomic_write_text
        from mammoview.training.report import to_jsonable

        args.json_out.parent.mkdir(parents=True, exist_ok=True)  # as detect and evaluate do
        # strict JSON: an AUC of 0 or 1 has no interval (NaN), written null as metrics.json writes it
        text = json.dumps(to_jsonable(rep), indent=1, allow_nan=False) + "\n"
        atomic_write_text(args.json_out, text)
    return 0
