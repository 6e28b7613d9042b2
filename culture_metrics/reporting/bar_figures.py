"""Table 1 and the categories as horizontal bars: one bar per (model, language), one row per WVS category.

Bars read at a glance for one run and for 5 models x 14 languages alike: the figure grows by a fixed height per bar,
so labels keep their size and never overlap, and every number is written beside what it measures. At 50 models x
14 languages, Table 1 is cut into one image per model (plots.draw) and the categories become one panel.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from culture_metrics.reporting.rows import CHANCE_LEVELS, language_label


if TYPE_CHECKING:
    from collections.abc import Sequence

    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from culture_metrics.reporting.rows import Row


# Pixels per bar, and around the bars (title, legend, axis), at the figures' 100 dpi.
BAR_HEIGHT, MARGIN = 26, 170
# Beyond this many models (x strategies), the categories figure is one panel across them rather than one per model.
MANY_MODELS = 8
# Beyond this many models, Table 1 is one image per model (plots.draw) rather than one image of every run's bar.
TABLE1_MODELS = 8
CHANGE_COLOURS = {"improved": "#2e8b57", "unchanged": "#b8b8b8", "decreased": "#c0392b"}


def table1_height(rows: Sequence[Row]) -> int:
    return MARGIN + BAR_HEIGHT * len(rows)


def categories_height(rows: Sequence[Row]) -> int:
    series = {(row.run.name, row.run.strategy) for row in rows}
    names = {category for row in rows for category in row.categories}
    return MARGIN + (len(series) if len(series) <= MANY_MODELS else 1) * (90 + BAR_HEIGHT * len(names))


def bar_label(row: Row, several_models: bool, several_strategies: bool) -> str:
    parts = [row.run.name] if several_models else []
    return " · ".join([*parts, *([row.run.strategy] if several_strategies else []), language_label(row.run)])


def _share(row: Row, name: str) -> tuple[float, tuple[float, float] | None]:
    estimate = row.metrics.get(name)
    if estimate is None or estimate.value is None:
        return np.nan, None
    return 100 * estimate.value, None if estimate.ci is None else (100 * estimate.ci[0], 100 * estimate.ci[1])


def table1(figure: Figure, rows: Sequence[Row]) -> None:
    """Improved / unchanged / decreased stacked to 100% of the misaligned probes, chance levels as black ticks,
    95% CIs as whiskers at the edges of improved and decreased.
    """
    ax = figure.subplots()
    several_models = len({row.run.name for row in rows}) > 1
    several_strategies = len({row.run.strategy for row in rows}) > 1
    labels = [bar_label(row, several_models, several_strategies) for row in rows]
    segments: dict[str, list[tuple[int, float, float]]] = {name: [] for name in CHANGE_COLOURS}  # y, left, width
    marks: dict[str, list[tuple]] = {name: [] for name in CHANCE_LEVELS}  # chance levels and CI whiskers
    for y, row in enumerate(rows):
        (improved, improved_ci), (unchanged, _), (decreased, decreased_ci) = (
            _share(row, name) for name in CHANGE_COLOURS)
        if np.isnan(improved):
            ax.text(1, y, "n/a: nothing misaligned, or no such share in the results", va="center", fontsize=9)
            continue
        left = 0.0
        for name, width in (("improved", improved), ("unchanged", unchanged), ("decreased", decreased)):
            segments[name].append((y, left, width))
            if width >= 7:  # the share, on a patch of its colour so that a whisker crossing it leaves it legible
                ax.text(left + width / 2, y + 0.05, f"{width:.0f}", ha="center", va="center", fontsize=9,
                        color="white" if name != "unchanged" else "black", zorder=3,
                        bbox={"boxstyle": "round,pad=0.15", "facecolor": CHANGE_COLOURS[name], "edgecolor": "none"})
            left += width
        marks["improved"].append((y, row, improved, improved_ci, False))
        marks["decreased"].append((y, row, 100 - decreased, decreased_ci, True))
    for name, drawn in segments.items():  # one call per kind, not per bar: hundreds of runs draw in a blink
        if drawn:
            y, left, width = zip(*drawn, strict=True)
            ax.barh(y, width, left=left, height=0.72, color=CHANGE_COLOURS[name])
    for name, drawn in marks.items():
        _chance_and_ci(ax, name, drawn)
    ax.set_yticks(range(len(rows)), labels, fontsize=9)
    ax.set_ylim(len(rows) - 0.5, -0.5)
    ax.set_xlim(0, 100)
    ax.set_xlabel("% of the misaligned probes", fontsize=10)
    handles = [Patch(color=colour, label=name) for name, colour in CHANGE_COLOURS.items()]
    handles += [Line2D([], [], color="black", marker="|", linestyle="", markersize=12, markeredgewidth=2,
                       label="chance level"),
                Line2D([], [], color="black", linewidth=1, label="95% CI")]
    ax.legend(handles=handles, loc="lower left", bbox_to_anchor=(0, 1.0), ncol=5, fontsize=9, frameon=False)
    ax.grid(axis="x", alpha=0.3)


def _chance_and_ci(ax: Axes, name: str, marks: Sequence[tuple]) -> None:
    """The chance level of `name` as a tick per bar and its CI as a whisker at the edge of its segment: improved's
    from the left, decreased's from the right (where its segment starts). `marks`: (y, row, edge, ci, mirrored).
    """
    chances, whiskers = [], []
    for y, row, edge, ci, mirrored in marks:
        chance, _ = _share(row, CHANCE_LEVELS[name])
        if not np.isnan(chance):
            chances.append((100 - chance if mirrored else chance, y))
        if ci is not None and not np.isnan(edge):
            low, high = (100 - ci[1], 100 - ci[0]) if mirrored else ci
            whiskers.append((edge, y, max(edge - low, 0), max(high - edge, 0)))
    if chances:
        x, y = zip(*chances, strict=True)
        ax.plot(x, y, "k|", markersize=15, markeredgewidth=2.5)
    if whiskers:
        edge, y, below, above = zip(*whiskers, strict=True)
        ax.errorbar(edge, y, xerr=[below, above], color="black", capsize=3, linewidth=1, linestyle="none")


def categories(figure: Figure, rows: Sequence[Row]) -> None:
    """Per model: improved probes per WVS category over all its languages, 'improved of misaligned' beside each bar
    (each language's own counts are in leaderboard.json). Beyond MANY_MODELS, one panel across the models.
    """
    series = list(dict.fromkeys((row.run.name, row.run.strategy) for row in rows))
    names = sorted({category for row in rows for category in row.categories})
    counts = {key: _category_counts([row for row in rows if (row.run.name, row.run.strategy) == key], names)
              for key in series}
    if len(series) > MANY_MODELS:
        _categories_across(figure.subplots(), counts, names)
        return
    axes = np.atleast_1d(figure.subplots(len(series), 1, squeeze=False)).ravel()
    for ax, key in zip(axes, series, strict=True):
        improved, misaligned = counts[key]
        ax.barh(range(len(names)), improved, height=0.6, color=CHANGE_COLOURS["improved"])
        for at, (count, of) in enumerate(zip(improved, misaligned, strict=True)):
            share = f" ({100 * count / of:.0f}%)" if of else ""
            ax.text(count, at, f"  {count:.0f} of {of:.0f} misaligned{share}", va="center", fontsize=9)
        _category_axis(ax, names)
        ax.set_xlim(0, max(improved.max(initial=0), 1) * 1.3)
        languages = ", ".join(language_label(row.run) for row in rows if (row.run.name, row.run.strategy) == key)
        ax.set_title(f"{' · '.join(key)}: {improved.sum():.0f} improved probes in {languages}", fontsize=10,
                     loc="left", wrap=True)
        ax.set_xlabel("improved probes (misaligned zero-shot, improved by self-alignment)", fontsize=9)


def _category_counts(members: Sequence[Row], names: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """Improved and misaligned probes per category, summed over the runs of one model."""
    improved, misaligned = np.zeros(len(names)), np.zeros(len(names))
    for row in members:
        for category, figures in row.categories.items():
            improved[names.index(category)] += figures["improved_examples"]
            misaligned[names.index(category)] += figures.get("misaligned_documents") or 0
    return improved, misaligned


def _category_axis(ax: Axes, names: Sequence[str]) -> None:
    ax.set_yticks(range(len(names)), names, fontsize=9)
    ax.set_ylim(len(names) - 0.5, -0.5)


def _categories_across(ax: Axes, counts: dict, names: Sequence[str]) -> None:
    """Many models: per category a dot per model (its % of misaligned improved), a tick at the share pooled over
    the models, and the counts behind it written at the right.
    """
    improved = np.array([pair[0] for pair in counts.values()])  # models x categories
    misaligned = np.array([pair[1] for pair in counts.values()])
    shares = np.divide(100 * improved, misaligned, out=np.full(improved.shape, np.nan), where=misaligned > 0)
    for at in range(len(names)):
        ax.plot(shares[:, at], np.full(len(shares), at), "o", color=CHANGE_COLOURS["improved"], alpha=0.45,
                markersize=5)
        total, of = improved[:, at].sum(), misaligned[:, at].sum()
        if of:
            ax.plot([100 * total / of], [at], "k|", markersize=15, markeredgewidth=2.5)
        ax.text(102, at, f"{total:.0f} of {of:.0f} misaligned improved", va="center", fontsize=9)
    _category_axis(ax, names)
    ax.set_xlim(0, 140)
    ax.set_xticks(range(0, 101, 20))
    ax.set_xlabel(f"% of the misaligned probes improved: a dot per model ({len(counts)}), "
                  "the tick pooled over them", fontsize=9)
