"""Bootstrap confidence intervals over documents: the report's and the gate's.

Both apply the aggregation functions of culture_metrics.metrics to documents resampled with replacement, so an
interval cannot drift from the figure it surrounds; percentile intervals with a fixed seed, so a report and a gate
verdict are reproducible to the digit.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from culture_metrics.metrics import METRICS


if TYPE_CHECKING:
    from collections.abc import Sequence

    from culture_metrics.reporting.runs import TaskRun


BOOTSTRAP_SEED = 0
CONFIDENCE = 0.95


@dataclass(frozen=True)
class Estimate:
    value: float | int
    ci: tuple[float, float] | None


def resample_indices(documents: int, resamples: int, seed: int = BOOTSTRAP_SEED) -> np.ndarray:
    """(resamples, documents) document indices drawn with replacement."""
    return np.random.default_rng(seed).integers(0, documents, size=(resamples, documents))


def interval(values: Sequence[float | None]) -> tuple[float, float] | None:
    """Percentile CI over the resamples where the metric is defined (a resample may hold no misaligned document)."""
    finite = np.asarray(values, dtype=float)
    finite = finite[np.isfinite(finite)]
    if not finite.size:
        return None
    tail = (1 - CONFIDENCE) / 2 * 100
    low, high = np.percentile(finite, [tail, 100 - tail])
    return float(low), float(high)


def per_document(run: TaskRun, names: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """Each metric's value on each document of the run, taken once: (values, 0.0 where a metric says nothing of a
    document; which documents each metric speaks of), both metrics x documents.
    """
    items = [[METRICS[name].item(record) for record in run.records] for name in names]
    shape = (len(names), len(run.records))
    spoken = np.array([[value is not None for value in row] for row in items], dtype=bool).reshape(shape)
    values = np.array([[0.0 if value is None else value for value in row] for row in items], dtype=float)
    return values.reshape(shape), spoken


def resampled_means(values: np.ndarray, spoken: np.ndarray, indices: np.ndarray) -> np.ndarray:
    """Metrics x resamples: each metric's mean over each resample's documents that it speaks of, NaN where none.

    What Metric.of gives on each resample, to the last bit: the shares aggregate with lm-eval's mean,
    sum(items) / len(items), which adds left to right from 0; cumsum adds in the same order, a skipped document
    adds 0.0, which changes no sum, and the final + 0.0 turns a -0.0 into sum()'s 0.0.
    """
    drawn = spoken[:, indices]
    totals = np.cumsum(values[:, indices], axis=-1)[..., -1] + 0.0
    counts = drawn.sum(axis=-1)
    return np.divide(totals, counts, out=np.full(totals.shape, np.nan), where=counts > 0)


def estimates(run: TaskRun, resamples: int) -> dict[str, Estimate]:
    """Every metric of the run; a CI where the records allow one and the metric is a share, not a count.

    One draw of document indices serves every metric of the run.
    """
    with_ci = [
        name for name in run.recomputable
        if METRICS[name].higher_is_better is not None and run.figures.get(name) is not None
    ] if resamples else []
    intervals = {}
    if with_ci:
        means = resampled_means(*per_document(run, with_ci), resample_indices(len(run.records), resamples))
        intervals = {name: interval(draws) for name, draws in zip(with_ci, means, strict=True)}
    return {name: Estimate(value, intervals.get(name)) for name, value in run.figures.items()}
