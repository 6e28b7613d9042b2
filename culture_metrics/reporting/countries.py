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
from culture_metrics.reporting.statistics import intervals


if TYPE_CHECKING:
    from collections.abc import Sequence

    from culture_metrics.record import Record


WITH_CI = ("zeroshot", "selfalign")
CLOSEST = 5
# A rank interval this wide or wider (in ranks) is stated as no order rather than shown as one.
UNORDERED = 10


@dataclass(frozen=True)
class Fingerprint:
    target: str
    table: list[dict[str, Any]]  # per country, sorted by zero-shot alignment (best first)
    summary: dict[str, Any]  # the target's ranks and closest countries


def column_means(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per column (a country), the mean of its values other than NaN and how many it rests on (NaN: none). The sum
    runs down the rows (probes, or runs), which numpy adds one row after the other, as sum() over them would.
    """
    present = ~np.isnan(values)
    totals, counts = np.where(present, values, 0.0).sum(axis=0), present.sum(axis=0)
    return np.divide(totals, counts, out=np.full(totals.shape, np.nan), where=counts > 0), counts


def _weighted_means(weights: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Per resample (rows of `weights`: how often each probe was drawn), the mean of each column over its values."""
    present = ~np.isnan(values)
    with np.errstate(invalid="ignore", divide="ignore"):
        return (weights @ np.where(present, values, 0.0)) / (weights @ present.astype(float))


def _ranks(means: np.ndarray) -> np.ndarray:
    """1 + how many countries are strictly higher, per resample (NaN: the country has no probe in it)."""
    higher = (means[:, None, :] > means[:, :, None]).sum(axis=2)
    return np.where(np.isnan(means), np.nan, 1 + higher)


def _whole(ci: tuple[float, float] | None) -> tuple[int, int] | None:
    """A rank interval in whole ranks, widened to them."""
    return None if ci is None else (int(np.floor(ci[0])), int(np.ceil(ci[1])))


def fingerprint(records: Sequence[Record], weights: np.ndarray | None) -> Fingerprint | None:
    """The run's fingerprint; `weights`: how often each resample drew each document (resamples x documents, the
    report's one draw; None: no CIs).
    None when the records carry no country labels (written before they did).
    """
    target = records[0]["country"] if records else None
    table = countries.table(records)
    if not table.countries or target is None:
        return None
    point = {figure: column_means(values) for figure, values in table.figures.items()}
    cis: dict[str, list] = {}
    if weights is not None:
        for figure in WITH_CI:
            boot = _weighted_means(weights, table.figures[figure])
            cis[figure] = intervals(boot.T)
            cis[f"{figure}_rank"] = [_whole(ci) for ci in intervals(_ranks(boot).T)]
    by_country = {figure: {c: float(m) for c, m, n in zip(table.countries, *point[figure], strict=True) if n}
                  for figure in WITH_CI}
    rows = []
    for column, country in enumerate(table.countries):
        n = int(point["zeroshot"][1][column])
        entry: dict[str, Any] = {"country": country, "probes": n, "left_out": len(records) - n,
                                 "target": country == target}
        for figure, (means, counts) in point.items():
            entry[figure] = float(means[column]) if counts[column] else None
        for figure in WITH_CI:
            entry[f"{figure}_rank"] = countries.rank(by_country[figure], country)
            entry[f"{figure}_ci"] = cis[figure][column] if cis else None
            entry[f"{figure}_rank_ci"] = cis[f"{figure}_rank"][column] if cis else None
        rows.append(entry)
    rows.sort(key=lambda e: (e["zeroshot_rank"], e["country"]))
    return Fingerprint(target, rows, _summary(rows, target))


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

