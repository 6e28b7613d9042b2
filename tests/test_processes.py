"""The report's work spread over a process per core: results in order, errors as from a plain map (the rows are
those of one process: test_report.py).
"""

from __future__ import annotations

import pytest

from culture_metrics.reporting import processes, runs


def _square_unless_three(n: int) -> int:
    if n == 3:
        raise runs.RunError(f"item {n} is unreadable")
    return n * n


def test_items_keep_their_order_and_the_first_error_in_order_is_raised(monkeypatch):
    monkeypatch.setattr(processes, "cores", lambda: 2)
    assert processes.map_runs(_square_unless_three, [5, 1, 4, 2]) == [25, 1, 16, 4]
    with pytest.raises(runs.RunError, match="item 3 is unreadable"):
        processes.map_runs(_square_unless_three, [1, 2, 3, 4, 3])
