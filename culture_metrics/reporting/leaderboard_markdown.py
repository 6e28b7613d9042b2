"""leaderboard.md: the paper's Table 1 columns with their CIs, the warnings a reader must see first, our figures
beside the paper's, and where every number came from.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from culture_metrics.metrics import collapse_warning
from culture_metrics.reporting import markdown, paper
from culture_metrics.reporting.explanations import REPORT_FILE
from culture_metrics.reporting.rows import (
    FORMAT_LEARNING,
    TABLE_COLUMNS,
    format_learning,
    language_label,
    temperature,
    value,
)
from culture_metrics.reporting.statistics import BOOTSTRAP_SEED, Estimate
from hf_dataset.card import INDONESIA_NOTE
from hf_dataset.languages import LANGUAGE_NAMES


if TYPE_CHECKING:
    from collections.abc import Sequence

    from culture_metrics.reporting.pooled import Pool
    from culture_metrics.reporting.rows import Row
    from culture_metrics.reporting.runs import TaskRun


# The countries a run's section lists by zero-shot rank (and the target wherever it ranks).
SHOWN_COUNTRIES = 10


def percent(estimate: Estimate | None) -> str:
    if estimate is None or estimate.value is None:
        return "n/a"
    text = f"{100 * estimate.value:.1f}"
    return f"{text} [{100 * estimate.ci[0]:.1f}, {100 * estimate.ci[1]:.1f}]" if estimate.ci else text


TABLE1_HEADERS = ["Model", "Language", "Country", "Strategy", "Docs", "Temperature", "Zero-shot aligned %",
                  "Self-aligned %", "Misaligned %", "Improved %", "Improved by chance %", "Improved beyond chance %",
                  "Target specificity %", "Unchanged %", "Decreased %", "Decreased by chance %", "Error reduction %",
                  "Invalid zero-shot %", "Invalid self-aligned %"]


def table1_cells(row: Row) -> list[str]:
    """A run's row of Table 1, as leaderboard.md and leaderboard.html show it."""
    return [row.run.name, language_label(row.run), row.run.country, row.run.strategy,
            str(row.run.figures.get("documents", "n/a")), _temperature_cell(row.run),
            *(percent(row.metrics.get(name)) for name in TABLE_COLUMNS)]


def intro(resamples: int) -> str:
    """What Table 1's columns mean, and how their CIs were drawn."""
    ci_note = (f"[95% CI: percentile bootstrap over documents, {resamples} resamples, seed {BOOTSTRAP_SEED}]"
               if resamples else "(no bootstrap: --bootstrap 0)")
    return ("Zero-shot aligned / self-aligned: mean share of the responses giving the country's majority answer, "
            "without and with the demonstrations. Misaligned: share of the documents whose zero-shot answers are "
            "not all the country's majority answer. Improved / unchanged / decreased: shares of those misaligned "
            "documents after self-alignment (the paper's Table 1). By chance: what sampling noise alone gives "
            "improved and decreased if the demonstrations changed nothing (the exact null, "
            "culture_metrics/metrics.py); beyond chance: improved minus that level, a residual rather than an "
            "effect size. Error reduction: mean error-rate reduction over the improved ones. Target specificity: "
            "the gain toward the target country minus the mean gain toward the other WVS-7 countries (near 0 when "
            "the demonstrations lift agreement with every majority alike, see the countries section). Invalid: "
            f"responses that name neither option, zero-shot and self-aligned apart. Values {ci_note}.")


def to_markdown(rows: Sequence[Row], pooled: Sequence[Pool], warnings: Sequence[str], figures: dict[str, dict],
                resamples: int) -> str:
    lines = [
        "# Self-alignment leaderboard",
        "",
        intro(resamples),
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
    collapsed = [(row, warning) for row in rows if (warning := collapse_warning(value(row.metrics, "collapsed")))]
    if collapsed:
        lines += ["## ⚠ Samples that look collapsed", ""]
        lines += [f"- **{row.run.name}, {row.run.task}**: {warning}." for row, warning in collapsed]
        lines.append("")
    if any(row.run.country == "IDN" for row in rows):
        lines += [f"{INDONESIA_NOTE}.", ""]
    if warnings:
        lines += ["## Warnings", "", *(f"- {warning}" for warning in warnings), ""]
    lines += ["## Table 1", "", markdown.table(TABLE1_HEADERS, [table1_cells(row) for row in rows])]
    if any(not row.run.has_samples for row in rows):
        lines += ["", "Runs without logged samples show the results' figures without CIs or categories."]
    lines += _pooled_section(pooled, resamples)
    lines += ["", *_paper_section(rows)]
    lines += _countries_section(rows)
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


def _countries_section(rows: Sequence[Row]) -> list[str]:
    """Per run: the target's rank among the WVS-7 countries before and after the demonstrations, its specificity,
    and the first countries by zero-shot alignment (every country in leaderboard.json).
    """
    shown = [row for row in rows if row.countries is not None]
    if not shown:
        return []
    lines = ["", "## Which countries each run answers like", "",
             ("The same responses held against every WVS-7 country's majority (each country over the probes its "
              "figures label; the others left out and counted). Rank 1 = closest; a rank's interval is its 95% "
              "bootstrap interval. Specificity: the gain toward the target minus the mean gain toward the other "
              "countries, in points, on all responses and on valid responses only."), ""]
    for row in shown:
        fp, s = row.countries, row.countries.summary
        lines += [
            f"### {row.run.name}, {language_label(row.run)} ({row.run.strategy})", "",
            (f"Target {s['target']}: zero-shot rank {_rank(s['zeroshot_rank'], s['zeroshot_rank_ci'])} of "
             f"{s['countries']}, self-aligned rank {_rank(s['selfalign_rank'], s['selfalign_rank_ci'])}. Closest "
             f"zero-shot: {', '.join(s['closest'])}. Target specificity "
             f"{percent(row.metrics.get('target_specificity'))}, on valid responses only "
             f"{percent(row.metrics.get('target_specificity_valid'))}."),
        ]
        if not s["rank_ordered"]:
            lines.append(f"The target's zero-shot rank could be anywhere from {s['zeroshot_rank_ci'][0]} to "
                         f"{s['zeroshot_rank_ci'][1]}: the countries around it are in no established order on this "
                         "run.")
        lines += ["", markdown.table(
            ["Rank", "Country", "Zero-shot %", "Self-aligned %", "Self-aligned rank", "Probes (left out)"],
            [[_rank(e["zeroshot_rank"], e["zeroshot_rank_ci"]), f"**{e['country']}**" if e["target"] else e["country"],
              percent(Estimate(e["zeroshot"], e["zeroshot_ci"])), percent(Estimate(e["selfalign"], e["selfalign_ci"])),
              _rank(e["selfalign_rank"], e["selfalign_rank_ci"]), f"{e['probes']} ({e['left_out']})"]
             for e in fp.table if e["zeroshot_rank"] <= SHOWN_COUNTRIES or e["target"]],
        ), ""]
    return lines


def _rank(rank: int, ci: tuple[int, int] | None) -> str:
    return f"{rank} [{ci[0]}-{ci[1]}]" if ci else f"{rank}"


def pooled_table(pooled: Sequence[Pool]) -> tuple[list[str], list[list[str]]]:
    """Headers and rows of the shares pooled over each model's languages."""
    names = [name for name in TABLE_COLUMNS if any(name in pool.metrics for pool in pooled)]
    return (["Model", "Strategy", "Languages", "Docs", "Questions", *(name.replace("_", " ") + " %" for name in names)],
            [[pool.model, pool.strategy, " ".join(pool.languages), str(pool.documents), str(pool.questions),
              *(percent(pool.metrics.get(name)) for name in names)] for pool in pooled])


def pooled_note(resamples: int) -> str:
    ci = (f"95% CI: percentile bootstrap over WVS questions, all languages of a drawn question together, {resamples} "
          "resamples" if resamples else "no bootstrap")
    return ("Each share over the documents it rests on in all of a model's languages (`improved`: the misaligned "
            f"ones), not an average of the languages' figures; {ci}.")


def _pooled_section(pooled: Sequence[Pool], resamples: int) -> list[str]:
    if not pooled:
        return []
    return ["", "## Pooled over languages", "", pooled_note(resamples), "", markdown.table(*pooled_table(pooled))]


def _paper_section(rows: Sequence[Row]) -> list[str]:
    """Our Table 1 beside the paper's for runs of its models; otherwise the paper's rows, labelled as such."""
    lines = ["## Beside the paper (Choenni & Shutova, 2024, Table 1)", "",
             ("The paper's figures carry no chance correction: it selects the misaligned probes with the zero-shot "
              "draw it then compares against, so sampling noise alone improves many of them (about 40% for a model "
              "whose demonstrations change nothing). Read them against this report's chance levels."), ""]
    compared = [(row, row.beside_the_paper) for row in rows if row.beside_the_paper is not None]
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
    reference = [r for r in paper.reference(paper.load(), {row.run.language for row in rows}) if not any(
        side["model"] == r["paper_model"] and row.run.language == r["language"] for row, side in compared)]
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
