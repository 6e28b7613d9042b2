"""The leaderboard's rows: per model, language and strategy, every metric with its CI, per-category figures, the
error reductions behind error_reduction and, for a run of one of the paper's models, its Table 1 beside ours.

The values are the results' own, which runs.py has checked against the aggregation functions of
culture_metrics.metrics applied to the logged records, so the report cannot drift from the harness. Every metric
flows into the JSON; the markdown shows TABLE_COLUMNS, the paper's Table 1 and what goes with it.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any

from culture_metrics.metrics import change, error_reduction_of, is_misaligned
from culture_metrics.reporting import countries, paper, processes, runs
from culture_metrics.reporting.statistics import (
    Estimate,
    aggregate,
    document_values,
    estimates,
    resample_counts,
    resample_indices,
)
from culture_metrics.task_names import DEFAULT_STRATEGY
from hf_dataset.languages import LANGUAGE_NAMES, LANGUAGES


if TYPE_CHECKING:
    from collections.abc import Sequence
    from pathlib import Path

    from culture_metrics.reporting.countries import Fingerprint
    from culture_metrics.reporting.paper import PaperRow
    from culture_metrics.reporting.runs import Runs, TaskRun


TABLE_COLUMNS = (
    "zeroshot_alignment", "selfalign_alignment", "misaligned", "improved", "improved_by_chance",
    "improved_beyond_chance", "target_specificity", "unchanged", "decreased", "decreased_by_chance", "error_reduction",
    "zeroshot_invalid_rate", "selfalign_invalid_rate",
)
LANGUAGE_ORDER = {language: index for index, language in enumerate(LANGUAGES)}
# Table 1's shares that have a chance level (metrics.py: what sampling noise alone gives them).
CHANCE_LEVELS = {"improved": "improved_by_chance", "decreased": "decreased_by_chance"}
# Above this share of invalid zero-shot responses, "improvement" mostly measures the answer format being learned.
FORMAT_LEARNING = 0.20


@dataclass(frozen=True)
class Row:
    """One task run as reported."""

    run: TaskRun
    metrics: dict[str, Estimate]
    categories: dict[str, dict[str, Any]] | None
    reductions: tuple[float, ...] | None
    beside_the_paper: dict[str, Any] | None = None  # paper.beside, for a run of the paper's model in its setting
    countries: Fingerprint | None = None  # every country's alignment, for runs whose records carry their labels


def categories(run: TaskRun, items: dict[str, list[Any]]) -> dict[str, dict[str, Any]] | None:
    """Per WVS section: the metrics over its documents, and how many misaligned ones self-alignment improved.

    `items`: document_values of the run's recomputable metrics.
    """
    if not run.has_samples:
        return None
    grouped: dict[str, list[int]] = defaultdict(list)
    for position, doc in enumerate(run.docs[:len(run.records)]):
        grouped[doc.get("category") or "unknown"].append(position)
    return {
        category: {
            "improved_examples": sum(is_misaligned(r) and change(r) == "improved"
                                     for r in (run.records[i] for i in positions)),
            **{name: aggregate(name, (items[name][i] for i in positions)) for name in sorted(run.recomputable)},
        }
        for category, positions in sorted(grouped.items())
    }


def reductions(run: TaskRun) -> tuple[float, ...] | None:
    """Error-rate reduction of each misaligned document that improved: the distribution behind error_reduction."""
    if not run.has_samples:
        return None
    return tuple(error_reduction_of(r) for r in run.records if is_misaligned(r) and change(r) == "improved")


def build(loaded: Runs, resamples: int, paper_models: dict[str, str] | None = None) -> list[Row]:
    """The rows of runs already read, in a stable order: strategy, model, then the paper's language order.

    `paper_models` names runs of the paper's models whose names do not say so: {run model: paper model}.
    """
    return sorted(map(partial(_row, resamples=resamples, table=paper.load(), paper_models=paper_models or {}),
                      loaded.runs), key=_order)


def read(paths: Sequence[Path], resamples: int, paper_models: dict[str, str] | None = None) -> tuple[Runs, list[Row]]:
    """runs.load and `build` in one: each results file is read and its rows built in the same process, over a
    process per core, so that a run crosses between processes once.
    """
    built = processes.map_runs(partial(_rows_of_file, resamples=resamples, table=paper.load(),
                                       paper_models=paper_models or {}), runs.results_files(paths))
    loaded = runs.gathered(paths, [([row.run for row in file_rows], warnings) for file_rows, warnings in built])
    # The runs gathered keeps (a copy of a run counted once) are those the rows were built on.
    row_of = {id(row.run): row for file_rows, _ in built for row in file_rows}
    return loaded, sorted((row_of[id(run)] for run in loaded.runs), key=_order)


def _rows_of_file(path: Path, **settings: Any) -> tuple[list[Row], list[str]]:
    task_runs, warnings = runs.read(path)
    return [_row(run, **settings) for run in task_runs], warnings


def _order(row: Row) -> tuple:
    run = row.run
    return run.strategy, run.model, LANGUAGE_ORDER.get(run.language, len(LANGUAGE_ORDER)), run.language, run.country


def _row(run: TaskRun, resamples: int, table: list[PaperRow], paper_models: dict[str, str]) -> Row:
    items = document_values(run, run.recomputable)
    bootstrap = bool(resamples and run.records)
    metrics = estimates(run, resample_indices(len(run.records), resamples) if bootstrap else None, items)
    fingerprint = countries.fingerprint(run.records, resample_counts(len(run.records), resamples) if bootstrap else None)
    model = None
    if run.strategy == DEFAULT_STRATEGY and run.default_country:
        model = paper.paper_model(run.model, table, paper_models)
    theirs = paper.figures(table, model, run.language) if model else None
    side = None
    if theirs is not None:
        ours = {c: in_percent(metrics, c) for c in paper.CHANGES}
        side = paper.beside(model, theirs, ours, {c: in_percent(metrics, level) for c, level in CHANCE_LEVELS.items()})
    return Row(run, metrics, categories(run, items), reductions(run), side, fingerprint)


def value(metrics: dict[str, Estimate], name: str) -> float | None:
    estimate = metrics.get(name)
    return None if estimate is None else estimate.value


def in_percent(metrics: dict[str, Estimate], name: str) -> float | None:
    figure = value(metrics, name)
    return None if figure is None else 100 * figure


def temperature(run: TaskRun) -> float | None:
    """The sampling temperature the run used (None for log-likelihood runs)."""
    setting = (run.provenance["generation"].get("generation_kwargs") or {}).get("temperature")
    return None if setting is None else float(setting)


def format_learning(row: Row) -> bool:
    """Too many zero-shot answers were invalid for the improvement to measure cultural alignment."""
    estimate = row.metrics.get("zeroshot_invalid_rate")
    return estimate is not None and estimate.value > FORMAT_LEARNING


def language_label(run: TaskRun) -> str:
    """'Romanian', or 'English→PAK' when the task was aligned to another country than its language's."""
    name = LANGUAGE_NAMES.get(run.language, run.language)
    return name if run.default_country else f"{name}→{run.country}"
