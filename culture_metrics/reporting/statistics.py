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


def estimates(run: TaskRun, resamples: int) -> dict[str, Estimate]:
    """Every metric of the run; a CI where the records allow one and the metric is a share, not a count."""
    with_ci = [
        name for name in run.recomputable
        if METRICS[name].higher_is_better is not None and run.figures.get(name) is not None
    ] if resamples else []
    draws: dict[str, list[float]] = {name: [] for name in with_ci}
    for row in resample_indices(len(run.records), resamples) if with_ci else ():
        sample = [run.records[i] for i in row]
        for name in with_ci:
            draws[name].append(METRICS[name].of(sample))
    return {name: Estimate(value, interval(draws[name]) if name in draws else None)
            for name, value in run.figures.items()}
