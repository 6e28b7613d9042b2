"""Bootstrap confidence intervals over documents: the report's and the gate's.

Both apply the aggregation functions of culture_metrics.metrics to documents resampled with replacement, so an
interval cannot drift from the figure it surrounds; percentile intervals with a fixed seed, so a report and a gate
verdict are reproducible to the digit. At leaderboard scale: each document's values are taken once per run, one
draw of indices serves every metric of a run, and the means over the resamples are array sums that repeat
Metric.of's arithmetic exactly.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any

import numpy as np

from culture_metrics.metrics import METRICS


if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

    from culture_metrics.reporting.runs import TaskRun


BOOTSTRAP_SEED = 0
CONFIDENCE = 0.95


@dataclass(frozen=True)
class Estimate:
    value: float | int
    ci: tuple[float, float] | None


@cache
def resample_indices(documents: int, resamples: int, seed: int = BOOTSTRAP_SEED) -> np.ndarray:
    """(resamples, documents) document indices drawn with replacement. The draw depends on nothing else, so runs of
    the same size share it (read-only).
    """
    drawn = np.random.default_rng(seed).integers(0, documents, size=(resamples, documents))
    drawn.setflags(write=False)
    return drawn


@cache
def resample_counts(documents: int, resamples: int, seed: int = BOOTSTRAP_SEED) -> np.ndarray:
    """(resamples, documents): how often each resample of `resample_indices` drew each document (read-only)."""
    counts = np.stack([np.bincount(row, minlength=documents) for row in resample_indices(documents, resamples, seed)])
    counts = counts.astype(float)
    counts.setflags(write=False)
    return counts


def interval(values: Sequence[float | None]) -> tuple[float, float] | None:
    """Percentile CI over the resamples where the metric is defined (a resample may hold no misaligned document)."""
    finite = np.asarray(values, dtype=float)
    finite = finite[np.isfinite(finite)]
    if not finite.size:
        return None
    tail = (1 - CONFIDENCE) / 2 * 100
    low, high = np.percentile(finite, [tail, 100 - tail])
    return float(low), float(high)


def intervals(draws: np.ndarray) -> list[tuple[float, float] | None]:
    """`interval` of each row of `draws` (resampled values of one figure per row): the rows without NaN in one call."""
    found: list[tuple[float, float] | None] = [None] * len(draws)
    whole = np.isfinite(draws).all(axis=1)
    if whole.any():
        tail = (1 - CONFIDENCE) / 2 * 100
        bounds = np.percentile(draws[whole], [tail, 100 - tail], axis=1)
        for row, low, high in zip(np.flatnonzero(whole), *bounds, strict=True):
            found[row] = (float(low), float(high))
    for row in np.flatnonzero(~whole):
        found[row] = interval(draws[row])
    return found


def document_values(run: TaskRun, names: Iterable[str]) -> dict[str, list[Any]]:
    """Each metric's value on each document of the run, None where it says nothing of one: taken once per run (as
    runs.py checks the figures), so that no figure, interval or category recomputes a document's chance levels.
    """
    return {name: list(run.items[name]) if name in run.items else [METRICS[name].item(record) for record in run.records]
            for name in names}


def aggregate(name: str, items: Iterable[Any]) -> float | int | None:
    """Metric.of on documents' values already taken (None where the metric says nothing of a document)."""
    return METRICS[name].of_values(items)


def as_arrays(items: dict[str, list[Any]]) -> tuple[np.ndarray, np.ndarray]:
    """The values as arrays, metrics x documents: each value (0.0 where the metric says nothing of the document),
    and which documents each metric speaks of.
    """
    shape = (len(items), len(next(iter(items.values()), [])))
    spoken = np.array([[value is not None for value in row] for row in items.values()], dtype=bool)
    values = np.array([[0.0 if value is None else value for value in row] for row in items.values()], dtype=float)
    return values.reshape(shape), spoken.reshape(shape)


def resampled_means(values: np.ndarray, spoken: np.ndarray, indices: np.ndarray) -> np.ndarray:
    """Metrics x resamples: each metric's mean over each resample's documents that it speaks of, NaN where none.

    What Metric.of gives on each resample, to the last bit: the shares aggregate with lm-eval's mean,
    sum(items) / len(items), which adds left to right from 0. Here every resample adds its documents' values one
    draw after the other, in the order drawn, from 0.0, all resamples and metrics at once; a skipped document adds
    0.0, which changes no sum. Counts are whole numbers, exact in any order.
    """
    values_of, spoken_of = np.ascontiguousarray(values.T), np.ascontiguousarray(spoken.T)  # rows: documents
    totals = np.zeros((len(indices), len(values)))
    counts = np.zeros(totals.shape, dtype=np.int64)
    for drawn in indices.T:
        totals += values_of[drawn]
        counts += spoken_of[drawn]
    return np.divide(totals, counts, out=np.full(totals.shape, np.nan), where=counts > 0).T


def estimates(run: TaskRun, drawn: np.ndarray | None, items: dict[str, list[Any]]) -> dict[str, Estimate]:
    """Every metric of the run; a CI where the records allow one and the metric is a share, not a count.

    `drawn`: the run's one draw of document indices (None: no bootstrap); `items`: document_values of the run's
    recomputable metrics.
    """
    with_ci = [
        name for name in run.recomputable
        if METRICS[name].higher_is_better is not None and run.figures.get(name) is not None
    ] if drawn is not None else []
    found = {}
    if with_ci:
        found = dict(zip(with_ci, intervals(resampled_means(*as_arrays({name: items[name] for name in with_ci}), drawn)),
                         strict=True))
    return {name: Estimate(value, found.get(name)) for name, value in run.figures.items()}
