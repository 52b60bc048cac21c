"""What the analysis scripts that change one thing in the CAD share: ``mammoview evaluate`` on it.

``peak_separation.py``, ``centre_rule.py``, ``scale_tta.py``, ``own_candidates.py`` and
``intensity_shift.py`` and ``unknown_spacing.py`` each replace one function (or one models folder) for
the length of an evaluation of the installed CAD and write the usual evaluation folder (``--out``); arguments
after ``--`` go to ``mammoview evaluate``.  Imported by those scripts (run from the repository
root as ``.venv/bin/python models/analysis/NAME.py``), not run itself.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from mammoview.cli import main


@contextmanager
def patched(owner: Any, name: str, value: Any) -> Iterator[None]:
    """``owner.name`` is ``value`` inside the block, and what it was after it."""
    original = getattr(owner, name)
    setattr(owner, name, value)
    try:
        yield
    finally:
        setattr(owner, name, original)


def evaluate_wrapped(owner: Any, name: str, wrap: Callable[[Any], Any], out: str, patches: str,
                     extra: Sequence[str] = ()) -> int:  # fmt: skip
    """:func:`evaluate_cad` with ``owner.name`` replaced by ``wrap(the original)`` for its length."""
    with patched(owner, name, wrap(getattr(owner, name))):
        return evaluate_cad(out, patches, extra)


def evaluate_cad(out: str, patches: str, extra: Sequence[str] = (), models_dir: str | None = None) -> int:
    """``mammoview evaluate`` of the installed CAD (its detector ``mammoview-vgg``) into ``out``.

    ``--weights RUNDIR`` among ``extra`` evaluates that training run instead of the installed detector.
    """
    where = ["--models-dir", models_dir] if models_dir else []
    model = [] if "--weights" in extra else ["--model", "mammoview-vgg"]
    return main(["evaluate", *model, *where, "--patches", patches, "--out", out, "--quiet",
                 "--timing-views", "0", *extra])  # fmt: skip


def parser(doc: str | None, out_required: bool = True) -> argparse.ArgumentParser:
    """A script's parser with ``--out`` and ``--patches`` (its own arguments are added by the script)."""
    p = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", required=out_required, help="evaluation folder")
    p.add_argument("--patches", default="runs/patches/ctx")
    return p


def parse(p: argparse.ArgumentParser) -> tuple[argparse.Namespace, list[str]]:
    """The script's arguments, and those after ``--`` (for ``mammoview evaluate``)."""
    args, extra = p.parse_known_args()
    return args, [x for x in extra if x != "--"]
