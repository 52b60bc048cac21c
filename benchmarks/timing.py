"""What the benchmarks share for timing a step: the median over repeated runs after warm-up runs.

Imported by the scripts of this folder (run as ``python benchmarks/bench_x.py``, so the folder is on the path).
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable


def median_seconds(run: Callable[[], object], repeat: int = 5, warmup: int = 1) -> float:
    """Median wall-clock seconds of ``run()`` over ``repeat`` calls, after ``warmup`` untimed ones."""
    for _ in range(warmup):
        run()
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        run()
        times.append(time.perf_counter() - t)
    return statistics.median(times)
