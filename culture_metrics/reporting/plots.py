"""The report's figures, drawn with matplotlib's Agg canvas (no display, no pyplot state).

Each figure has a pixel size fixed by what it holds (the bar figures grow by a fixed height per bar), so that a
report's images are predictable (and testable); matplotlib's constrained layout fits the labels inside it. At a
leaderboard's scale (50 models x 14 languages) the figures that would grow without bound or crowd change form:
Table 1 becomes one image per model beyond bar_figures.TABLE1_MODELS models (cut from one drawing, at least
BAR_HEIGHT pixels a bar), the error reduction and misaligned figures a dot per model beyond bar_figures.MANY_MODELS
models, a target's countries figure dots without arrows beyond ARROW_SERIES runs.
"""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.image import imsave

from culture_metrics.reporting import bar_figures
from culture_metrics.reporting.countries import column_means
from culture_metrics.reporting.eval_results import model_folder
from culture_metrics.reporting.rows import Row, language_label


if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from pathlib import Path

    from matplotlib.axes import Axes
    from matplotlib.legend import Legend


DPI = 100
# name -> (title, width and height in pixels; HEIGHTS below sets the height of the bar figures)
FIGURES: dict[str, tuple[str, tuple[int, int]]] = {
    "table1": ("Misaligned examples improved / unchanged / decreased by self-alignment (Table 1)", (1400, 0)),
    "error_reduction": ("Error-rate reduction of the improved examples (Figures 3 and 6)", (1400, 700)),
    "misaligned": ("Share of examples misaligned zero-shot (Figure 7)", (1400, 700)),
    "categories": ("Improved examples per WVS category (Figure 8)", (1400, 0)),
}
NEED_SAMPLES = ("error_reduction", "categories")
# One figure per target country (countries_<language>_<country>), every run aligned to it as a series: an arrow per
# country and run up to ARROW_SERIES runs (COUNTRIES_SIZE), a dot per country and run beyond (COUNTRIES_MANY_SIZE).
COUNTRIES_SIZE = (1000, 1400)
ARROW_SERIES = 4
COUNTRIES_MANY_SIZE = (1400, 1400)


def draw(rows: Sequence[Row], folder: Path) -> dict[str, dict]:
    """Write every figure the rows allow into `folder`; name -> file, title and size, or why it was not drawn."""
    drawn = {}
    with_samples = [row for row in rows if row.categories is not None]
    for name, (title, (width, height)) in FIGURES.items():
        if name in NEED_SAMPLES and not with_samples:
            drawn[name] = {"file": None, "title": title, "reason": "no run has logged samples"}
            continue
        drawn_rows = with_samples if name in NEED_SAMPLES else rows
        if name == "table1" and len({row.run.name for row in rows}) > bar_figures.TABLE1_MODELS:
            drawn.update(_table1_per_model(folder, title, width, rows))
            continue
        height = HEIGHTS[name](drawn_rows) if name in HEIGHTS else height
        drawn[name] = _save(folder, name, title, (width, height), DRAWERS[name], drawn_rows)
    targets: dict[tuple[str, str], list[Row]] = {}
    for row in rows:
        if row.countries is not None:
            targets.setdefault((row.run.language, row.run.country), []).append(row)
    for (language, country), of_target in targets.items():
        name = f"countries_{language}_{country}"
        title = f"Which countries the model answers like: {language_label(of_target[0].run)} (target {country})"
        many = len(of_target) > ARROW_SERIES
        drawn[name] = _save(folder, name, title, COUNTRIES_MANY_SIZE if many else COUNTRIES_SIZE,
                            _countries_dots if many else _countries, of_target)
    return drawn


def _table1_per_model(folder: Path, title: str, width: int, rows: Sequence[Row]) -> dict[str, dict]:
    """Table 1 as one image per model, table1_<model made file-safe>.png in the rows' model order; "model" in each
    entry names the model.

    Drawn once, every model's bars (labelled with their model) under one title and legend and above one axis, then
    cut: each image is that header, the model's bars and the axis. So every image has the same scale and label
    width, and hundreds of models cost one drawing and a PNG each (a figure each: about 0.1 s of drawing per model).
    """
    by_model: dict[str, list[Row]] = {}
    for row in rows:
        by_model.setdefault(row.run.name, []).append(row)
    ordered = [row for of_model in by_model.values() for row in of_model]
    height = bar_figures.table1_height(ordered)
    figure = _drawn(title, (width, height), bar_figures.table1, ordered)
    figure.canvas.draw()
    pixels = np.asarray(figure.canvas.buffer_rgba())[:, :, :3]
    ax = figure.axes[0]

    def line(y: float) -> int:  # the image row of a height in the bars' coordinates
        return round(height - ax.transData.transform((0, y))[1])

    top, bottom = line(-0.5), line(len(ordered) - 0.5)
    header, footer = pixels[:top + 1], pixels[bottom:]  # each with its edge of the frame
    drawn: dict[str, dict] = {}
    first = 0
    for model, of_model in by_model.items():
        name = stem = f"table1_{model_folder(model)}"
        for suffix in itertools.count(2):  # two names that differ only in characters a file name cannot hold
            if name not in drawn:
                break
            name = f"{stem}_{suffix}"
        band = pixels[line(first - 0.5) + 1:line(first + len(of_model) - 0.5)]
        image = np.concatenate([header, band, footer])
        # zlib level 3: faster than the default and, on these flat colours, no larger
        imsave(folder / f"{name}.png", image, format="png", dpi=DPI, pil_kwargs={"compress_level": 3})
        drawn[name] = {"file": f"{name}.png", "title": f"{title}: {model}", "width": width,
                       "height": image.shape[0], "model": model}
        first += len(of_model)
    return drawn


def _save(folder: Path, name: str, title: str, size: tuple[int, int],
          drawer: Callable[[Figure, Sequence[Row]], None], rows: Sequence[Row]) -> dict:
    _drawn(title, size, drawer, rows).savefig(folder / f"{name}.png", dpi=DPI, format="png")
    return {"file": f"{name}.png", "title": title, "width": size[0], "height": size[1]}


def _drawn(title: str, size: tuple[int, int], drawer: Callable[[Figure, Sequence[Row]], None],
           rows: Sequence[Row]) -> Figure:
    """The figure, its constrained layout engaged once everything is drawn: the same pixels, but an engine present
    while thousands of labels are added is told of each of them (a third of Table 1's time at 700 runs).
    """
    width, height = size
    figure = Figure(figsize=(width / DPI, height / DPI), dpi=DPI)
    FigureCanvasAgg(figure)
    drawer(figure, rows)
    figure.suptitle(title)
    figure.set_layout_engine("constrained")
    return figure


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


def _countries_dots(figure: Figure, rows: Sequence[Row]) -> None:
    """Beyond ARROW_SERIES runs aligned to one target: a dot per run and country, no arrows, in two panels sharing
    the countries (sorted by their mean zero-shot alignment over the runs, the target's row highlighted). Left: each
    country's zero-shot and self-aligned alignment, a tick at their means; right: the gain (self-aligned minus
    zero-shot), a tick at its mean, a dashed line at the mean gain toward the other countries, so that the
    target's row beside it reads as the target specificity.

    Why dots: arrows offset within a country's row merge into one band past a few runs and cost a clipped patch
    each (64 countries x 50 runs: most of a report's drawing time). A heat map names each run but needs a row or
    column per run, too small to label at 50 runs, let alone 700 of one language. Dots keep the figure's size and
    cost fixed whatever the number of runs (one scatter per kind) and show where the runs fall and how far they
    spread; which run is which is in Table 1 (its target specificity) and in each run's countries section.
    """
    names = sorted({entry["country"] for row in rows for entry in row.countries.table})
    zeroshot, selfalign = (_country_matrix(rows, names, figure) for figure in ("zeroshot", "selfalign"))
    zeroshot_mean = column_means(zeroshot)[0]
    order = sorted(range(len(names)), key=lambda at: (np.isnan(zeroshot_mean[at]), -zeroshot_mean[at], names[at]))
    names, zeroshot, selfalign = [names[at] for at in order], zeroshot[:, order], selfalign[:, order]
    gain = selfalign - zeroshot
    target = names.index(rows[0].countries.target)
    left, right = figure.subplots(1, 2, sharey=True, width_ratios=[3, 2])
    rank = {kind: np.array([row.countries.summary[f"{kind}_rank"] for row in rows]) for kind in ("zeroshot",
                                                                                                "selfalign")}
    alpha = min(0.6, max(0.15, 8 / len(rows)))
    for ax, values, colour, shift, label in ((left, zeroshot, "C0", -0.15, "zero-shot"),
                                             (left, selfalign, "C1", 0.15, "self-aligned"),
                                             (right, gain, "C4", 0.0, "gain")):
        _dots(ax, values, colour, shift, alpha, f"{label}: a dot per run ({len(rows)})")
    others = np.delete(gain, target, axis=1)
    other_gain = float(np.nanmean(column_means(others)[0])) if np.isfinite(others).any() else np.nan
    right.axvline(0, color="black", linewidth=0.8)
    if not np.isnan(other_gain):
        right.axvline(other_gain, color="grey", linestyle="--", linewidth=1,
                      label=f"mean gain toward the other countries ({other_gain:+.1f})")
    reach = max(5.0, float(np.nanmax(np.abs(gain), initial=0)) * 1.1)
    right.set_xlim(-reach, reach)
    left.set_xlim(0, 100)
    left.set_xlabel("alignment with the country's majority (% of responses)", fontsize=10)
    right.set_xlabel("self-aligned minus zero-shot (points)", fontsize=10)
    left.set_title(f"target {names[target]}'s rank among {len(names)} countries, median over the runs (range): "
                   f"zero-shot {np.median(rank['zeroshot']):g} ({rank['zeroshot'].min()}-{rank['zeroshot'].max()}), "
                   f"self-aligned {np.median(rank['selfalign']):g} ({rank['selfalign'].min()}-"
                   f"{rank['selfalign'].max()})", fontsize=9, loc="left")
    for ax, columns in ((left, 3), (right, 1)):  # each key no wider than its panel
        ax.axhspan(target - 0.5, target + 0.5, color="gold", alpha=0.4)
        ax.grid(axis="x", alpha=0.3)
        _opaque_key(ax.legend(loc="lower left", bbox_to_anchor=(0, 1.03), ncol=columns, fontsize=8, frameon=False))
    left.set_yticks(range(len(names)), names, fontsize=8)
    left.get_yticklabels()[target].set_fontweight("bold")
    left.set_ylim(len(names) - 0.5, -0.5)


def _opaque_key(legend: Legend) -> None:
    """The dots' key opaque, however faint hundreds of runs make the dots themselves."""
    for handle in legend.legend_handles:
        handle.set_alpha(1)


def _country_matrix(rows: Sequence[Row], names: Sequence[str], figure: str) -> np.ndarray:
    """Runs x countries: `figure` of each run's countries table in percent, NaN where a run has no value."""
    column = {name: at for at, name in enumerate(names)}
    matrix = np.full((len(rows), len(names)), np.nan)
    for at, row in enumerate(rows):
        for entry in row.countries.table:
            if entry[figure] is not None:
                matrix[at, column[entry["country"]]] = 100 * entry[figure]
    return matrix


def _dots(ax: Axes, values: np.ndarray, colour: str, shift: float, alpha: float, label: str) -> None:
    """Runs x countries as dots on the countries' rows (shifted by `shift`), a black tick at each column's mean."""
    rows = np.broadcast_to(np.arange(values.shape[1]) + shift, values.shape)
    ax.scatter(values.ravel(), rows.ravel(), s=12, color=colour, alpha=alpha, linewidths=0, label=label)
    ax.scatter(column_means(values)[0], np.arange(values.shape[1]) + shift, marker="|", s=60, color="black",
               linewidths=1.5, label="mean over the runs" if shift <= 0 else None)


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
    if len(series) > bar_figures.MANY_MODELS:
        _error_reduction_across(ax, rows, series, languages)
        return
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
    if len(series) > bar_figures.MANY_MODELS:
        _misaligned_across(ax, rows, series, languages)
        return
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


def _error_reduction_across(ax: Axes, rows: Sequence[Row], series: list, languages: list[str]) -> None:
    """Beyond MANY_MODELS models (x strategies), where a box per model would be a sliver and its legend longer than
    the figure: per language one box over every model's improved examples (outliers as grey points), and a dot per
    model at its mean.
    """
    pooled: dict[str, list[float]] = {language: [] for language in languages}
    at, means = [], []
    for row in rows:
        values = 100 * np.asarray(row.reductions, dtype=float)
        pooled[language_label(row.run)].extend(values)
        if values.size:
            at.append(languages.index(language_label(row.run)))
            means.append(values.mean())
    kept = [index for index, language in enumerate(languages) if pooled[language]]
    if kept:
        ax.boxplot([pooled[languages[index]] for index in kept], positions=kept, widths=0.6, patch_artist=True,
                   boxprops={"facecolor": "C0", "alpha": 0.3},
                   flierprops={"marker": ".", "markersize": 5, "alpha": 0.5, "markeredgecolor": "none",
                               "markerfacecolor": "grey"})
    jitter = np.random.default_rng(0).uniform(-0.25, 0.25, len(at))
    ax.scatter(np.asarray(at) + jitter, means, s=12, color="C0", alpha=min(0.8, max(0.2, 8 / len(series))),
               label=f"a model's mean ({len(series)} models x strategies); box: all their improved examples")
    _language_axis(ax, languages)
    ax.set_ylabel("error-rate reduction of an improved example (%)")
    _opaque_key(ax.legend(fontsize=8, loc="best"))


def _misaligned_across(ax: Axes, rows: Sequence[Row], series: list, languages: list[str]) -> None:
    """Beyond MANY_MODELS models (x strategies): per language a dot per model (its CI in leaderboard.md), a tick at
    their mean, rather than bars too thin to see under a legend longer than the figure.
    """
    at = np.array([languages.index(language_label(row.run)) for row in rows], dtype=float)
    values = np.array([np.nan if (e := row.metrics.get("misaligned")) is None or e.value is None else 100 * e.value
                       for row in rows])
    jitter = np.random.default_rng(0).uniform(-0.25, 0.25, len(rows))
    ax.scatter(at + jitter, values, s=12, color="C0", alpha=min(0.8, max(0.2, 8 / len(series))),
               label=f"a model ({len(series)} models x strategies)")
    means = [np.nanmean(values[at == index]) if np.isfinite(values[at == index]).any() else np.nan
             for index in range(len(languages))]
    ax.scatter(range(len(languages)), means, marker="_", s=400, color="black", linewidths=2,
               label="mean over the models")
    _language_axis(ax, languages)
    ax.set_ylim(0, 105)
    ax.set_ylabel("misaligned zero-shot (% of examples)")
    _opaque_key(ax.legend(fontsize=8, loc="best"))


def _language_axis(ax: Axes, languages: list[str]) -> None:
    ax.set_xticks(range(len(languages)), languages)
    ax.set_xlim(-0.5, len(languages) - 0.5)
    ax.grid(axis="y", alpha=0.3)


DRAWERS = {"table1": bar_figures.table1, "error_reduction": _error_reduction, "misaligned": _misaligned,
           "categories": bar_figures.categories}
# name -> the figure's height in pixels for these rows: fixed, or growing with the bars it holds.
HEIGHTS = {"table1": bar_figures.table1_height, "categories": bar_figures.categories_height}
