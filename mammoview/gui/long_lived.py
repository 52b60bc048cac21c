"""The viewer's long-lived objects kept out of the garbage collector's walks (``gc.freeze``).

CPython's cyclic garbage collector walks every object it tracks at each full collection, with the GIL held, so
whichever thread sets one off, the GUI thread stands still meanwhile.  With the viewer's modules loaded (PySide6,
pyqtgraph, numpy, scikit-image, torch and the networks: ~245 000 objects, nearly all functions, classes, descriptors
and module dicts that live as long as the process), one took 110-130 ms, and three (54-98 ms) ran while a study
opened and its CAD ran (``benchmarks/bench_gc.py``).  So the viewer moves what is alive
to the collector's permanent generation once the modules are loaded: when its window first shows, and when the CAD
has first loaded its models (torch; not again at a reload, made with studies open); later collections walk only
what the reading made since (a full one: ~1 ms).

Frozen objects are still freed when their last reference goes; only garbage made of reference cycles among them is
never collected: the few dozen garbage objects alive at a freeze (27 when the models were loaded) stay.  Only the
viewer freezes (:func:`enable`, called by :func:`mammoview.gui.app.run_viewer`): in the test suite, which opens and
closes hundreds of windows in one process, and in the commands, :func:`freeze` does nothing.
"""

from __future__ import annotations

import gc
import logging

log = logging.getLogger(__name__)

_enabled = False
_done: set[str] = set()


def enable() -> None:
    """From now on :func:`freeze` freezes (the viewer's process); and freeze what is alive now."""
    global _enabled
    _enabled = True
    freeze("the viewer's window is up")


def freeze(when: str) -> None:
    """Move every object alive now out of the collector's walks, where :func:`enable` was called; ``when``: for the
    log."""
    if not _enabled:
        return
    gc.freeze()
    log.debug("objects kept out of the garbage collector's walks (%s): %d", when, gc.get_freeze_count())


def freeze_once(when: str) -> None:
    """:func:`freeze`, the first time only for this ``when`` (the models loaded again, by a reload, are loaded with
    studies open: their few objects in reference cycles would stay for good at each reload)."""
    if _enabled and when not in _done:
        _done.add(when)
        freeze(when)


def enabled() -> bool:
    """Whether this process freezes (:func:`enable`)."""
    return _enabled
