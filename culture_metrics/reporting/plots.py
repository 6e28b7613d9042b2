"""The report's figures, drawn with matplotlib's Agg canvas (no display, no pyplot state).

Each figure has a pixel size fixed by what it holds (the bar figures grow by a fixed height per bar), so that a
report's images are predictable (and testable); matplotlib's constrained layout fits the labels inside it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from culture_metrics.reporting import bar_figures
from culture_metrics.reporting.rows import Row, language_label


if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from pathlib import Path


DPI = 100
# name -> (title, width and height in pixels; HEIGHTS below sets the height of the bar figures)
FIGURES: dict[str, tuple[str, tuple[int, int]]] = {
    "table1": ("Misaligned examples improved / unchanged / decreased by self-alignment (Table 1)", (1400, 0)),
    "error_reduction": ("Error-rate reduction of the improved examples (Figures 3 and 6)", (1400, 700)),
    "misaligned": ("Share of examples misaligned zero-shot (Figure 7)", (1400, 700)),
    "categories": ("Improved examples per WVS category (Figure 8)", (1400, 0)),
}
NEED_SAMPLES = ("error_reduction", "categories")
# One figure per target country (countries_<language>_<country>), every run aligned to it as a series.
COUNTRIES_SIZE = (1000, 1400)


def draw(rows: Sequence[Row], folder: Path) -> dict[str, dict]:
    """Write every figure the rows allow into `folder`; name -> file, title and size, or why it was not drawn."""
    drawn = {}
    with_samples = [row for row in rows if row.categories is not None]
    for name, (title, (width, height)) in FIGURES.items():
        if name in NEED_SAMPLES and not with_samples:
            drawn[name] = {"file": None, "title": title, "reason": "no run has logged samples"}
            continue
        drawn_rows = with_samples if name in NEED_SAMPLES else rows
        height = HEIGHTS[name](drawn_rows) if name in HEIGHTS else height
        drawn[name] = _save(folder, name, title, (width, height), DRAWERS[name], drawn_rows)
    targets: dict[tuple[str, str], list[Row]] = {}
    for row in rows:
        if row.countries is not None:
            targets.setdefault((row.run.language, row.run.country), []).append(row)
    for (language, country), of_target in targets.items():
        name = f"countries_{language}_{country}"
        title = f"Which countries the model answers like: {language_label(of_target[0].run)} (target {country})"
        drawn[name] = _save(folder, name, title, COUNTRIES_SIZE, _countries, of_target)
    return drawn


def _save(folder: Path, name: str, title: str, size: tuple[int, int],
          drawer: Callable[[Figure, Sequence[Row]], None], rows: Sequence[Row]) -> dict:
    width, height = size
    figure = Figure(figsize=(width / DPI, height / DPI), dpi=DPI, layout="constrained")
    FigureCanvasAgg(figure)
    drawer(figure, rows)
    figure.suptitle(title)
    figure.savefig(folder / f"{name}.png", dpi=DPI, format="png")
    return {"file": f"{name}.png", "title": title, "width": width, "height": height}


def _countries(figure: Figure, rows: Sequence[Row]) -> None:
    """The countries sorted by the first run's zero-shot alignment; per run (model and strategy), each country's
    zero-shot point with an arrow to its self-aligned point; the target's row highlighted.
    """
    ax = figure.subplots()
    order = [entry["country"] for entry in rows[0].countries.table]
    offsets = np.linspace(-0.3, 0.3, len(rows)) if len(rows) > 1 else [0.0]
    labels = _series_labels([(row.run.model, row.run.strategy) for row in rows])
    for index, (row, offset, label) in enumerate(zip(rows, offsets, labels, strict=True)):
        colour = f"C{index % 10}"
        for entry in row.countries.table:
            if entry["country"] in order and entry["zeroshot"] is not None:
                y = order.index(entry["country"]) + offset
                ax.annotate("", xy=(100 * entry["selfalign"], y), xytext=(100 * entry["zeroshot"], y),
                            arrowprops={"arrowstyle": "->", "color": colour, "lw": 1})
                ax.plot(100 * entry["zeroshot"], y, "o", color=colour, markersize=3)
        summary = row.countries.summary
        ax.plot([], [], "o-", color=colour, markersize=3, label=f"{label.replace(chr(10), ' ')}: target rank "
                f"{summary['zeroshot_rank']} -> {summary['selfalign_rank']}")
    target = order.index(rows[0].countries.target)
    ax.axhspan(target - 0.5, target + 0.5, color="gold", alpha=0.4)
    ax.set_yticks(range(len(order)), order, fontsize=7)
    ax.get_yticklabels()[target].set_fontweight("bold")
    ax.set_ylim(len(order) - 0.5, -0.5)
    ax.set_xlim(0, 100)
    ax.set_xlabel("alignment with the country's majority (% of responses): zero-shot point, arrow to self-aligned")
    ax.grid(axis="x", alpha=0.3)
    ax.legend(fontsize=8, loc="lower right")


def _series(rows: Sequence[Row]) -> list[tuple[str, str]]:
    """Columns of the figures: (model, strategy) in row order."""
    return list(dict.fromkeys((row.run.model, row.run.strategy) for row in rows))


def _languages(rows: Sequence[Row]) -> list[str]:
    return list(dict.fromkeys(language_label(row.run) for row in rows))


def _series_labels(series: list[tuple[str, str]]) -> list[str]:
    """Shortest distinct tails of the model names (paths are long); the strategy when there are several."""
    models = list(dict.fromkeys(model for model, _ in series))
    parts = {model: model.rstrip("/").split("/") for model in models}
    depth = 1
    while len({"/".join(parts[m][-depth:]) for m in models}) < len(models):
        depth += 1
    short = {model: "/".join(parts[model][-depth:]) for model in models}
    several = len({strategy for _, strategy in series}) > 1
    return [f"{short[model]}\n{strategy}" if several else short[model] for model, strategy in series]


def _error_reduction(figure: Figure, rows: Sequence[Row]) -> None:
    series, languages = _series(rows), _languages(rows)
    ax = figure.subplots()
    width = 0.8 / len(series)
    jitter = np.random.default_rng(0)
    colours = [f"C{index % 10}" for index in range(len(series))]
    for row in rows:
        index = series.index((row.run.model, row.run.strategy))
        position = languages.index(language_label(row.run)) + (index - (len(series) - 1) / 2) * width
        values = 100 * np.asarray(row.reductions, dtype=float)
        if values.size:
            box = ax.boxplot(values, positions=[position], widths=width * 0.8, patch_artist=True, showfliers=False)
            box["boxes"][0].set(facecolor=colours[index], alpha=0.4)
            ax.scatter(position + jitter.uniform(-width / 4, width / 4, values.size), values, s=8,
                       color=colours[index])
    for index, label in enumerate(_series_labels(series)):
        ax.scatter([], [], color=colours[index], label=label.replace("\n", " "))
    ax.set_xticks(range(len(languages)), languages)
    ax.set_xlim(-0.5, len(languages) - 0.5)
    ax.set_ylabel("error-rate reduction of an improved example (%)")
    ax.legend(fontsize=8, loc="best")


def _misaligned(figure: Figure, rows: Sequence[Row]) -> None:
    series, languages = _series(rows), _languages(rows)
    ax = figure.subplots()
    width = 0.8 / len(series)
    for index, label in enumerate(_series_labels(series)):
        values, low, high = np.full(len(languages), np.nan), np.zeros(len(languages)), np.zeros(len(languages))
        for row in rows:
            estimate = row.metrics.get("misaligned")
            if (row.run.model, row.run.strategy) != series[index] or estimate is None or estimate.value is None:
                continue
            at = languages.index(language_label(row.run))
            values[at] = 100 * estimate.value
            if estimate.ci:
                low[at], high[at] = values[at] - 100 * estimate.ci[0], 100 * estimate.ci[1] - values[at]
        positions = np.arange(len(languages)) + (index - (len(series) - 1) / 2) * width
        ax.bar(positions, values, width, yerr=[low, high], capsize=3, label=label.replace("\n", " "))
    ax.set_xticks(range(len(languages)), languages)
    ax.set_ylim(0, 105)
    ax.set_ylabel("misaligned zero-shot (% of examples; bars: 95% CI)")
    ax.legend(fontsize=8, loc="best")


DRAWERS = {"table1": bar_figures.table1, "error_reduction": _error_reduction, "misaligned": _misaligned,
           "categories": bar_figures.categories}
# name -> the figure's height in pixels for these rows: fixed, or growing with the bars it holds.
HEIGHTS = {"table1": bar_figures.table1_height, "categories": bar_figures.categories_height}
