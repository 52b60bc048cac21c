"""A call that crashes (or hangs) the helper must not take the other calls waiting on the same helper with it: they
are innocent files (the next study's good view, another volume's slice), not 'crashed the decoder'."""

from __future__ import annotations

import os
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from mammoview.gui.helper_process import HelperCrashed, HelperProcess
from mammoview.io.reader import read_image, read_info
from tests.gui.conftest import write_view
from tests.gui.test_prefetch_helper import rle_compressed


def _crash_after(delay: float) -> None:  # as a decoder's segmentation fault on a corrupt file, a moment into it
    time.sleep(delay)
    os._exit(3)


def _hang() -> None:  # as a decoder looping on corrupt data
    time.sleep(60)


@pytest.mark.parametrize("culprit", ["crash", "hang"])
def test_a_good_file_queued_behind_the_culprit_is_decoded_not_blamed(tmp_path, culprit):
    good = rle_compressed(write_view(tmp_path, "LCC.dcm", "LCC"))
    info = read_info(good)
    helper = HelperProcess()
    try:
        helper.call(os.getpid, fallback=os.getpid)  # started
        with ThreadPoolExecutor(max_workers=3) as threads:
            if culprit == "crash":
                bad = threads.submit(helper.call, _crash_after, 1.5, fallback=lambda: None)
            else:
                bad = threads.submit(helper.call, _hang, fallback=lambda: None, timeout=1.5)
            time.sleep(0.5)  # the culprit runs; two good files wait behind it (one in the call queue, one pending)
            waiting = [threads.submit(helper.decode, info) for _ in range(2)]
            with pytest.raises(HelperCrashed):
                bad.result(timeout=60)
            for fut in waiting:
                image = fut.result(timeout=60)  # was: LoadError "... crashed the decoder" / CancelledError
                assert image.stored.shape == read_image(good).stored.shape
    finally:
        helper.shutdown()
