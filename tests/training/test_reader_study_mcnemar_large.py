"""The exact McNemar test of a large study: 1024 or more discordant pairs (a screening set of a few thousand normals
read with and without CAD) made ``float(2**n)`` overflow, and reader-study died with "OverflowError: int too large to
convert to float" instead of printing its report."""

from __future__ import annotations

import pytest

from mammoview.training.reader_study import mcnemar_exact


def test_the_exact_mcnemar_test_of_many_discordant_pairs():
    # 600 vs 500: the normal approximation (continuity corrected) gives chi2 = 99^2 / 1100 = 8.91, p = 0.0028
    p = mcnemar_exact(600, 500)
    assert p is not None and 0.002 < p < 0.004
    assert mcnemar_exact(2000, 2000) == pytest.approx(1.0)
    assert mcnemar_exact(3000, 0) == 0.0  # 2 / 2**3000: below the smallest float
    assert mcnemar_exact(5, 1) == pytest.approx(2 * 7 / 64)  # small counts as before
