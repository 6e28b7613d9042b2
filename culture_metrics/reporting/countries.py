"""The fingerprint of one run: every WVS-7 country's alignment and rank, with bootstrap CIs.

Point values are the engine's (culture_metrics.countries, as the task's metrics take them), so the report cannot
differ from the task where both give a figure. The CIs use the run's one draw of document indices (the report's
seed); a resample is a count of draws per probe, so all countries' means come from one matrix product (indexing
probes x countries x resamples would not fit in memory at a leaderboard's scale).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from culture_metrics import countries
from culture_metrics.reporting.statistics import interval


if TYPE_CHECKING:
    from collections.abc import Sequence

    from culture_metrics.record import Record


FIGURES = ("zeroshot", "selfalign", "zeroshot_valid", "selfalign_valid", "zeroshot_soft_gap", "selfalign_soft_gap")
WITH_CI = ("zeroshot", "selfalign")
CLOSEST = 5
# A rank interval this wide or wider (in ranks) is stated as no order rather than shown as one.
UNORDERED = 10


@dataclass(frozen=True)
class Fingerprint:
    target: str
    table: list[dict[str, Any]]  # per country, sorted by zero-shot alignment (best first)
    summary: dict[str, Any]  # the target's ranks and closest countries


def _matrix(tables: Sequence[dict], names: Sequence[str], figure: str) -> np.ndarray:
    return np.array([[np.nan if (f := t.get(c)) is None or f[figure] is None else f[figure] for c in names]
                     for t in tables], dtype=float)


def _weighted_means(weights: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Per resample (rows of `weights`: how often each probe was drawn), the mean of each column over its values."""
    present = ~np.isnan(values)
    with np.errstate(invalid="ignore", divide="ignore"):
        return (weights @ np.where(present, values, 0.0)) / (weights @ present)


def _ranks(means: np.ndarray) -> np.ndarray:
    """1 + how many countries are strictly higher, per resample (NaN: the country has no probe in it)."""
    higher = (means[:, None, :] > means[:, :, None]).sum(axis=2)
    return np.where(np.isnan(means), np.nan, 1 + higher)


def _whole(ci: tuple[float, float] | None) -> tuple[int, int] | None:
    """A rank interval in whole ranks, widened to them."""
    return None if ci is None else (int(np.floor(ci[0])), int(np.ceil(ci[1])))


def fingerprint(records: Sequence[Record], indices: np.ndarray | None) -> Fingerprint | None:
    """The run's fingerprint; `indices`: its resampled document indices (resamples x documents; None: no CIs).
    None when the records carry no country labels (written before they did).
    """
    tables = [countries.alignments(r) for r in records]
    target = records[0]["country"] if records else None
    if not any(tables) or target is None:
        return None
    names = sorted({c for t in tables for c in t})
    weights = None if indices is None else np.stack([np.bincount(row, minlength=len(records)) for row in indices])
    point = {figure: countries.means({c: f[figure] for c, f in t.items()} for t in tables) for figure in FIGURES}
    boot = {figure: _weighted_means(weights, _matrix(tables, names, figure))
            for figure in WITH_CI} if weights is not None else {}
    ranks = {figure: _ranks(means) for figure, means in boot.items()}
    table = []
    for column, country in enumerate(names):
        n = point["zeroshot"][country][1]
        entry: dict[str, Any] = {"country": country, "probes": n, "left_out": len(records) - n,
                                 "target": country == target}
        for figure in FIGURES:
            value = point[figure].get(country)
            entry[figure] = None if value is None else value[0]
        for figure in WITH_CI:
            entry[f"{figure}_rank"] = countries.rank({c: m for c, (m, _) in point[figure].items()}, country)
            entry[f"{figure}_ci"] = interval(boot[figure][:, column]) if boot else None
            entry[f"{figure}_rank_ci"] = _whole(interval(ranks[figure][:, column])) if boot else None
        table.append(entry)
    table.sort(key=lambda e: (e["zeroshot_rank"], e["country"]))
    return Fingerprint(target, table, _summary(table, target))


def _summary(table: list[dict], target: str) -> dict[str, Any]:
    mine = next(e for e in table if e["target"])
    low, high = mine["zeroshot_rank_ci"] or (mine["zeroshot_rank"],) * 2
    return {
        "target": target,
        "countries": len(table),
        "zeroshot_rank": mine["zeroshot_rank"], "zeroshot_rank_ci": mine["zeroshot_rank_ci"],
        "selfalign_rank": mine["selfalign_rank"], "selfalign_rank_ci": mine["selfalign_rank_ci"],
        "rank_ordered": high - low < UNORDERED,
        "closest": [e["country"] for e in table[:CLOSEST]],
    }

