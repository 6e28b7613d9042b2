"""The leaderboard: per model, language and strategy, every metric with a bootstrap CI, as markdown and JSON.

The values are the results' own, which runs.py has checked against the aggregation functions of
culture_metrics.metrics applied to the logged records; the CIs apply the same functions to documents resampled with
replacement (percentile intervals, fixed seed, so a report is reproducible to the digit). One definition, so the
report cannot drift from the harness; every metric in METRICS flows into the JSON, while the markdown shows the
paper's Table 1 columns.
"""

from __future__ import annotations

import json
import os
import shutil
import uuid
from collections import defaultdict
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from culture_metrics.metrics import METRICS, Record, change, collapse_warning, error_reduction_of, is_misaligned
from culture_metrics.reporting import markdown, paper
from culture_metrics.reporting.explanations import REPORT_FILE
from culture_metrics.reporting.runs import RunError, Runs, TaskRun
from culture_metrics.task_names import DEFAULT_STRATEGY
from hf_dataset.card import INDONESIA_NOTE
from hf_dataset.languages import LANGUAGE_NAMES, LANGUAGES


if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence
    from pathlib import Path


BOOTSTRAP_SEED = 0
CONFIDENCE = 0.95
# The paper's Table 1 and what goes with it; the JSON holds every metric of METRICS.
TABLE_COLUMNS = (
    "zeroshot_alignment", "selfalign_alignment", "misaligned", "improved", "improved_by_chance",
    "improved_beyond_chance", "unchanged", "decreased", "decreased_by_chance", "error_reduction",
    "zeroshot_invalid_rate", "selfalign_invalid_rate",
)
# Table 1's shares that have a chance level (metrics.py: what sampling noise alone gives them).
CHANCE_LEVELS = {"improved": "improved_by_chance", "decreased": "decreased_by_chance"}
# Above this share of invalid zero-shot responses, "improvement" mostly measures the answer format being learned.
FORMAT_LEARNING = 0.20
REPORT_MARKER = "leaderboard.json"


@dataclass(frozen=True)
class Estimate:
    value: float | int
    ci: tuple[float, float] | None


@dataclass(frozen=True)
class Row:
    """One task run as reported: its estimates, per-category figures and per-document error reductions."""

    run: TaskRun
    metrics: dict[str, Estimate]
    categories: dict[str, dict[str, Any]] | None
    reductions: tuple[float, ...] | None
    paper_model: str | None = None  # the paper's model this run is, in the paper's setting
    paper: dict[str, float] | None = None  # the paper's improved / unchanged / decreased for it, in %


def resample_indices(documents: int, resamples: int, seed: int = BOOTSTRAP_SEED) -> np.ndarray:
    """(resamples, documents) document indices drawn with replacement."""
    return np.random.default_rng(seed).integers(0, documents, size=(resamples, documents))


def interval(values: Sequence[float]) -> tuple[float, float] | None:
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


def categories(run: TaskRun) -> dict[str, dict[str, Any]] | None:
    """Per WVS section: the metrics over its documents, and how many misaligned ones self-alignment improved."""
    if not run.has_samples:
        return None
    grouped: dict[str, list[Record]] = defaultdict(list)
    for doc, record in zip(run.docs, run.records, strict=False):
        grouped[doc.get("category") or "unknown"].append(record)
    return {
        category: {
            "improved_examples": sum(is_misaligned(r) and change(r) == "improved" for r in records),
            **{name: METRICS[name].of(records) for name in sorted(run.recomputable)},
        }
        for category, records in sorted(grouped.items())
    }


def reductions(run: TaskRun) -> tuple[float, ...] | None:
    """Error-rate reduction of each misaligned document that improved: the distribution behind error_reduction."""
    if not run.has_samples:
        return None
    return tuple(error_reduction_of(r) for r in run.records if is_misaligned(r) and change(r) == "improved")


def build(runs: Runs, resamples: int, paper_models: dict[str, str] | None = None) -> list[Row]:
    """The rows in a stable order: strategy, model, then the paper's language order.

    `paper_models` names runs of the paper's models whose names do not say so: {run model: paper model}.
    """
    order = {language: index for index, language in enumerate(LANGUAGES)}
    ordered = sorted(runs.runs, key=lambda r: (r.strategy, r.model, order.get(r.language, len(order)), r.language,
                                               r.country))
    table = paper.load()
    rows = []
    for run in ordered:
        model = None
        if run.strategy == DEFAULT_STRATEGY and run.default_country:
            model = paper.paper_model(run.model, table, paper_models or {})
        rows.append(Row(run, estimates(run, resamples), categories(run), reductions(run), model,
                        paper.figures(table, model, run.language) if model else None))
    return rows


def beside_the_paper(row: Row) -> dict[str, Any] | None:
    """The paper's Table 1 figures for this run, ours, and ours minus the paper's, in %."""
    if row.paper is None:
        return None
    ours = {change: _in_percent(row, change) for change in paper.CHANGES}
    return {
        "model": row.paper_model,
        "paper": row.paper,
        "ours": ours,
        "ours_by_chance": {change: _in_percent(row, level) for change, level in CHANCE_LEVELS.items()},
        "difference": {c: None if ours[c] is None else ours[c] - row.paper[c] for c in paper.CHANGES},
    }


def _value(row: Row, name: str) -> float | None:
    estimate = row.metrics.get(name)
    return None if estimate is None else estimate.value


def _in_percent(row: Row, name: str) -> float | None:
    value = _value(row, name)
    return None if value is None else 100 * value


def paper_reference(rows: Sequence[Row]) -> list[dict[str, Any]]:
    """The paper's Table 1 rows for the languages of the report: shown for reference, labelled as the paper's."""
    languages = {row.run.language for row in rows}
    return [{"paper_model": r.model, "checkpoint": r.checkpoint, "temperature": r.temperature,
             "language": r.language, **r.figures} for r in paper.load() if r.language in languages]


def to_json(rows: Sequence[Row], warnings: Sequence[str], figures: dict[str, dict], resamples: int) -> dict:
    return {
        "bootstrap": {"resamples": resamples, "seed": BOOTSTRAP_SEED, "confidence": CONFIDENCE,
                      "over": "documents", "interval": "percentile"},
        "table_columns": list(TABLE_COLUMNS),
        "rows": [
            {
                "model": row.run.name,
                "task": row.run.task,
                "language": row.run.language,
                "country": row.run.country,
                "strategy": row.run.strategy,
                "documents": row.run.figures.get("documents"),
                "samples": row.run.has_samples,
                "temperature": temperature(row.run),
                "format_learning": format_learning(row),
                "beside_the_paper": beside_the_paper(row),
                "metrics": {
                    name: {
                        "value": estimate.value,
                        "ci": list(estimate.ci) if estimate.ci else None,
                        "higher_is_better": METRICS[name].higher_is_better if name in METRICS else None,
                    }
                    for name, estimate in row.metrics.items()
                },
                "categories": row.categories,
                "provenance": row.run.provenance,
                "files": {"results": str(row.run.results_file),
                          "samples": str(row.run.samples_file) if row.run.samples_file else None},
            }
            for row in rows
        ],
        "warnings": list(warnings),
        "figures": figures,
        "paper_table1": {"source": "Choenni & Shutova (2024), Table 1 (culture_metrics/reporting/data/PAPER.md)",
                         "rows": paper_reference(rows)},
    }


def percent(estimate: Estimate | None) -> str:
    if estimate is None or estimate.value is None:
        return "n/a"
    text = f"{100 * estimate.value:.1f}"
    return f"{text} [{100 * estimate.ci[0]:.1f}, {100 * estimate.ci[1]:.1f}]" if estimate.ci else text


def temperature(run: TaskRun) -> float | None:
    """The sampling temperature the run used (None for log-likelihood runs)."""
    value = (run.provenance["generation"].get("generation_kwargs") or {}).get("temperature")
    return None if value is None else float(value)


def format_learning(row: Row) -> bool:
    """Too many zero-shot answers were invalid for the improvement to measure cultural alignment."""
    estimate = row.metrics.get("zeroshot_invalid_rate")
    return estimate is not None and estimate.value > FORMAT_LEARNING


def language_label(run: TaskRun) -> str:
    """'Romanian', or 'English→PAK' when the task was aligned to another country than its language's."""
    name = LANGUAGE_NAMES.get(run.language, run.language)
    return name if run.default_country else f"{name}→{run.country}"


def to_markdown(rows: Sequence[Row], warnings: Sequence[str], figures: dict[str, dict], resamples: int) -> str:
    ci_note = (f"[95% CI: percentile bootstrap over documents, {resamples} resamples, seed {BOOTSTRAP_SEED}]"
               if resamples else "(no bootstrap: --bootstrap 0)")
    headers = ["Model", "Language", "Country", "Strategy", "Docs", "Temperature", "Zero-shot aligned %",
               "Self-aligned %", "Misaligned %", "Improved %", "Improved by chance %", "Improved beyond chance %",
               "Unchanged %", "Decreased %", "Decreased by chance %", "Error reduction %",
               "Invalid zero-shot %", "Invalid self-aligned %"]
    lines = [
        "# Self-alignment leaderboard",
        "",
        ("Zero-shot aligned / self-aligned: mean share of the responses giving the country's majority answer, "
        "without and with the demonstrations. Misaligned: share of the documents whose zero-shot answers are not "
        "all the country's majority answer. Improved / unchanged / decreased: shares of those misaligned documents "
        "after self-alignment (the paper's Table 1). By chance: what sampling noise alone gives improved and "
        "decreased if the demonstrations changed nothing (the exact null, culture_metrics/metrics.py); beyond "
        "chance: improved minus that level, a residual rather than an effect size. Error reduction: mean "
        "error-rate reduction over the improved ones. Invalid: responses that name neither option, zero-shot and "
        "self-aligned apart. "
        f"Values {ci_note}."),
        "",
    ]
    learning = [row for row in rows if format_learning(row)]
    if learning:
        lines += ["## ⚠ Answers that do not count", ""]
        lines += [
            f"- **{row.run.name}, {row.run.task}: {percent(row.metrics['zeroshot_invalid_rate'])}% of the zero-shot "
            f"responses are invalid** (more than {100 * FORMAT_LEARNING:.0f}%). Its improvement mostly measures "
            "the answer format learned from the demonstrations, not cultural alignment; compare the alignment "
            "over valid responses only (`zeroshot_valid_alignment`, `selfalign_valid_alignment` in "
            "leaderboard.json)."
            for row in learning
        ]
        lines.append("")
    collapsed = [(row, warning) for row in rows if (warning := collapse_warning(_value(row, "collapsed")))]
    if collapsed:
        lines += ["## ⚠ Samples that look collapsed", ""]
        lines += [f"- **{row.run.name}, {row.run.task}**: {warning}." for row, warning in collapsed]
        lines.append("")
    if any(row.run.country == "IDN" for row in rows):
        lines += [f"{INDONESIA_NOTE}.", ""]
    if warnings:
        lines += ["## Warnings", "", *(f"- {warning}" for warning in warnings), ""]
    lines += ["## Table 1", "", markdown.table(headers, [
        [row.run.name, language_label(row.run), row.run.country, row.run.strategy,
         row.run.figures.get("documents", "n/a"), _temperature_cell(row.run),
         *(percent(row.metrics.get(name)) for name in TABLE_COLUMNS)]
        for row in rows
    ])]
    if any(not row.run.has_samples for row in rows):
        lines += ["", "Runs without logged samples show the results' figures without CIs or categories."]
    lines += ["", *_paper_section(rows)]
    lines += ["", "## Provenance", "", markdown.table(PROVENANCE_HEADERS, [_provenance_cells(row.run) for row in rows])]
    if any(row.run.explains and row.run.has_samples for row in rows):
        lines += ["", ("The improved probes of the `_explain` runs, with the model's explanations: "
                  f"[{REPORT_FILE}]({REPORT_FILE}).")]
    if figures:
        lines += ["", "## Figures", ""]
        lines += [f"![{figure['title']}]({figure['file']})" if figure["file"] else
                  f"- {figure['title']}: not drawn ({figure['reason']})" for figure in figures.values()]
    lines.append("")
    return "\n".join(lines)


def _paper_section(rows: Sequence[Row]) -> list[str]:
    """Our Table 1 beside the paper's for runs of its models; otherwise the paper's rows, labelled as such."""
    lines = ["## Beside the paper (Choenni & Shutova, 2024, Table 1)", "",
             ("The paper's figures carry no chance correction: it selects the misaligned probes with the zero-shot "
              "draw it then compares against, so sampling noise alone improves many of them (about 40% for a model "
              "whose demonstrations change nothing). Read them against this report's chance levels."), ""]
    compared = [(row, beside_the_paper(row)) for row in rows if row.paper is not None]
    if compared:
        cell = lambda v: "n/a" if v is None else f"{v:.1f}"
        lines.append(markdown.table(
            ["Model", "Paper's model", "Language", *(f"{c.capitalize()} % (ours / paper / difference)"
                                                     for c in paper.CHANGES), "Improved by chance % (ours)"],
            [[row.run.name, side["model"], language_label(row.run),
              *(f"{cell(side['ours'][c])} / {side['paper'][c]:.0f} / {cell(side['difference'][c])}"
                for c in paper.CHANGES), cell(side["ours_by_chance"]["improved"])]
             for row, side in compared],
        ))
        lines.append("")
    reference = [r for r in paper_reference(rows) if not any(
        row.paper_model == r["paper_model"] and row.run.language == r["language"] for row, _ in compared)]
    if reference:
        lines += [
            "The paper's own figures for the languages of this report (its models, not this report's runs):",
            "",
            markdown.table(["Paper's model", "Checkpoint", "Temperature", "Language", "Improved %", "Unchanged %",
                            "Decreased %"],
                           [[f"paper: {r['paper_model']}", r["checkpoint"], f"{r['temperature']:g}",
                             LANGUAGE_NAMES.get(r["language"], r["language"]),
                             *(f"{r[c]:.0f}" for c in paper.CHANGES)] for r in reference]),
        ]
    return lines


def _temperature_cell(run: TaskRun) -> str:
    value = temperature(run)
    return "n/a (log-likelihoods)" if value is None else f"{value:g}"


PROVENANCE_HEADERS = ["Model", "Task", "Revision", "lm-eval", "Dataset", "Seeds (python, numpy, torch, fewshot)",
                      "Generation", "Docs scored / available", "Results file"]


def _provenance_cells(run: TaskRun) -> list[str]:
    provenance = run.provenance
    generation = provenance["generation"]
    settings = ", ".join(f"{key}={value}" for key, value in (generation.get("generation_kwargs") or {}).items())
    how = f"{generation.get('output_type')}, {generation.get('num_fewshot')}-shot"
    if (generation.get("repeats") or 1) > 1:
        how += f", {generation['repeats']} samples"
    return [
        run.name,
        run.task,
        " ".join(filter(None, [str(provenance.get("revision") or "n/a"), provenance.get("model_sha")])),
        str(provenance.get("lm_eval_version") or "n/a"),
        run.fingerprint,
        ", ".join(str(seed) for seed in provenance["seeds"].values()),
        f"{how}" + (f" ({settings})" if settings else ""),
        f"{run.figures.get('documents', 'n/a')} / {provenance.get('documents_available') or 'n/a'}",
        str(run.results_file),
    ]


def write_tables(folder: Path, rows: Sequence[Row], warnings: Sequence[str], figures: dict[str, dict],
                 resamples: int) -> None:
    board = to_json(rows, warnings, figures, resamples)
    (folder / REPORT_MARKER).write_text(json.dumps(board, indent=1, allow_nan=False) + "\n", encoding="utf-8")
    (folder / "leaderboard.md").write_text(to_markdown(rows, warnings, figures, resamples), encoding="utf-8")


@contextmanager
def staged_folder(out: Path) -> Iterator[Path]:
    """A temporary sibling of `out` that replaces it only once everything is written: whole, or not at all.

    An existing `out` is replaced only if it is a report (holds leaderboard.json) or empty, never another folder.
    """
    if out.exists() and not (out.is_dir() and ((out / REPORT_MARKER).exists() or not any(out.iterdir()))):
        raise RunError(f"{out}: exists and is not a report folder; refusing to replace it")
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = out.parent / f".{out.name}.{uuid.uuid4().hex}.tmp"
    staging.mkdir()  # not mkdtemp: the report keeps the umask's permissions, not 0700
    try:
        yield staging
        if out.exists():
            retired = out.parent / f".{out.name}.{uuid.uuid4().hex}.old"
            os.replace(out, retired)
            os.replace(staging, out)
            shutil.rmtree(retired)
        else:
            os.replace(staging, out)
    finally:
        if staging.exists():
            shutil.rmtree(staging)
