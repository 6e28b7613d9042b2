"""The report's work per run, spread over the machine's cores.

A leaderboard's runs are independent until they are compared, and reading, checking and bootstrapping one is
Python and small matrix products: a process per core takes them in turn. Every process (the report's own included,
`one_blas_thread`) runs BLAS on one thread: the products are documents x countries, too small for a second thread
to pay for handing it work, which it then waits for spinning on a core another process needs.
"""

from __future__ import annotations

import os
from concurrent.futures import ProcessPoolExecutor
from typing import TYPE_CHECKING, TypeVar

from threadpoolctl import threadpool_limits


if TYPE_CHECKING:
    from collections.abc import Callable, Iterable


T = TypeVar("T")
R = TypeVar("R")
# Work items a process takes at once: fewer round trips, while the last ones still spread over the cores.
BATCHES_PER_PROCESS = 8


def cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def one_blas_thread() -> threadpool_limits:
    """Limit BLAS to one thread in this process (as a context manager, until its end)."""
    return threadpool_limits(limits=1, user_api="blas")


def map_runs(function: Callable[[T], R], items: Iterable[T]) -> list[R]:
    """`function` on each item, in order, over a process per core (in this process when there is one item or core).

    `function` and the items must pickle; an exception in a process is raised here, as from a plain map.
    """
    items = list(items)
    processes = min(cores(), len(items))
    if processes < 2:
        return [function(item) for item in items]
    batch = max(1, len(items) // (processes * BATCHES_PER_PROCESS))
    pool = ProcessPoolExecutor(processes, initializer=one_blas_thread)
    try:
        return list(pool.map(function, items, chunksize=batch))
    finally:  # on an error, the items not yet begun are not read
        pool.shutdown(cancel_futures=True)
