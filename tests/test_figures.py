"""The figures read for one run and for 5 models x 14 languages: the size they say, legible text, no label overlaps."""

from __future__ import annotations

import itertools
import random
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pytest
from matplotlib.patches import FancyArrowPatch
from matplotlib.text import Text
from PIL import Image
from test_statistics import sampled_record

from culture_metrics.metrics import METRICS
from culture_metrics.reporting import bar_figures, plots
from culture_metrics.reporting.leaderboard_html import to_html
from culture_metrics.reporting.leaderboard_markdown import to_markdown
from culture_metrics.reporting.rows import build
from culture_metrics.reporting.runs import Runs, TaskRun
from hf_dataset.languages import LANGUAGE_COUNTRY, LANGUAGES


if TYPE_CHECKING:
    from matplotlib.figure import Figure

CATEGORIES = ("Social Values", "Religious Values", "Political Culture", "Economic Values", "Security",
              "Happiness and Well-being", "Migration", "Ethical Values and Norms")
SMALLEST_FONT = 8  # points, at the figures' 100 dpi


def synthetic_run(model: str, language: str, documents: int, seed: int, countries: int = 0) -> TaskRun:
    """A run of `documents` random records; with `countries`, each labelled by that many WVS-7 countries (the
    target first), as the engine labels them, so that the run has a countries figure.
    """
    rng = random.Random(seed)
    country = LANGUAGE_COUNTRY[language]
    labelling = list(dict.fromkeys([country, *LANGUAGE_COUNTRY.values(), *(f"X{n:02d}" for n in range(64))]))
    records = tuple({**sampled_record(rng, False), "country": country, "option_a": "yes",
                     "countries": {c: [rng.choice(["yes", "no"]), rng.random()] for c in labelling[:countries]}}
                    if countries else sampled_record(rng, False) for _ in range(documents))
    docs = tuple({"question": q, "category": CATEGORIES[q % len(CATEGORIES)], "language": language,
                  "country": country} for q in range(documents))
    generation = {"generation_kwargs": {"temperature": 1.0}}
    return TaskRun(model, f"wvs_selfalign_{language}", language, country, "chrf", "fp",
                   {name: metric.of(records) for name, metric in METRICS.items()},
                   {"generation": generation, "seeds": {}, "dataset_fingerprint": "fp"},
                   Path("results.json"), samples_file=Path("samples.jsonl"), docs=docs, records=records,
                   recomputable=frozenset(METRICS))


def synthetic_rows(models: int, languages: int, documents: int = 40, countries: int = 0) -> list:
    runs = [synthetic_run(f"org-{m}/model-{m}-instruct", language, documents, seed=m * 100 + i, countries=countries)
            for m in range(models) for i, language in enumerate(LANGUAGES[:languages])]
    return build(Runs(runs), resamples=100)


@pytest.fixture(scope="module", params=[(1, 1), (5, 14), (12, 2)],
                ids=["one-run", "5-models-x-14-languages", "12-models-x-2-languages"])
def drawn(request, tmp_path_factory) -> tuple[list, Path, dict]:
    rows = synthetic_rows(*request.param)
    folder = tmp_path_factory.mktemp("figures")
    return rows, folder, plots.draw(rows, folder)


def rendered(name: str, rows: list) -> Figure:
    """The figure as drawn into the report, kept in memory to measure its text."""
    title, (width, height) = plots.FIGURES[name]
    height = plots.HEIGHTS[name](rows) if name in plots.HEIGHTS else height
    return rendered_with(plots.DRAWERS[name], title, (width, height), rows)


def rendered_with(drawer, title: str, size: tuple[int, int], rows: list) -> Figure:
    figure = plots._drawn(title, size, drawer, rows)
    figure.canvas.draw()
    return figure


def assert_readable(figure: Figure) -> None:
    """Everything drawn inside the image, no text under SMALLEST_FONT, no two labels of an axis overlapping."""
    renderer = figure.canvas.get_renderer()
    drawn, whole = figure.get_tightbbox(renderer), figure.bbox  # what is drawn, in inches; the image, in pixels
    assert drawn.x0 >= -0.01 and drawn.y0 >= -0.01
    assert drawn.x1 * plots.DPI <= whole.width + 1 and drawn.y1 * plots.DPI <= whole.height + 1
    for text in figure.findobj(Text):
        if text.get_visible() and text.get_text().strip():
            assert text.get_fontsize() >= SMALLEST_FONT, text.get_text()
    for ax in figure.axes:
        labels = [label.get_window_extent(renderer) for label in ax.get_yticklabels() if label.get_text()]
        assert labels or ax.get_shared_y_axes().get_siblings(ax) != [ax]  # a panel sharing another's labels
        for upper, lower in itertools.pairwise(labels):
            assert not upper.overlaps(lower), upper


def by_model(rows: list) -> list[list]:
    return [[row for row in rows if row.run.name == name] for name in dict.fromkeys(row.run.name for row in rows)]


def test_each_figure_is_an_image_of_the_size_the_report_says(drawn):
    _, folder, figures = drawn
    for name, figure in figures.items():
        with Image.open(folder / figure["file"]) as image:
            assert image.size == (figure["width"], figure["height"]), name


@pytest.mark.parametrize("name", ["table1", "categories", "error_reduction", "misaligned"])
def test_figures_have_legible_text_inside_the_image_and_no_overlapping_labels(drawn, name):
    rows = drawn[0]  # beyond a few models Table 1 is cut per model from this very figure
    figure = rendered(name, rows)
    assert_readable(figure)
    if name == "table1":
        assert len(figure.axes[0].get_yticklabels()) == len(rows)
    if name in ("error_reduction", "misaligned"):  # a legend entry per model up to a few, two beyond
        models = len({row.run.name for row in rows})
        assert len(figure.axes[0].get_legend().get_texts()) == (models if models <= bar_figures.MANY_MODELS else
                                                                 {"error_reduction": 1, "misaligned": 2}[name])


def test_table1_is_one_image_per_model_beyond_a_few_models_listed_in_model_order(monkeypatch, tmp_path):
    languages = {0: ["en", "ro"], 1: ["el"], 2: ["ur", "fa"]}
    rows = build(Runs([synthetic_run(f"org-{m}/model-{m}", language, 40, seed=10 * m + i)
                       for m, of_model in languages.items() for i, language in enumerate(of_model)]), 50)
    whole = plots.draw(rows, tmp_path)
    assert "table1" in whole and not [name for name in whole if name.startswith("table1_")]
    monkeypatch.setattr(bar_figures, "TABLE1_MODELS", 2)
    (tmp_path / "split").mkdir()
    figures = plots.draw(rows, tmp_path / "split")
    names = [f"table1_org-{m}__model-{m}" for m in languages]
    assert [name for name in figures if name.startswith("table1")] == names
    assert not (tmp_path / "split" / "table1.png").exists()
    heights = []
    for name, of_model in zip(names, by_model(rows), strict=True):
        assert figures[name]["file"] == f"{name}.png" and figures[name]["model"] == of_model[0].run.name
        assert figures[name]["title"].endswith(f": {of_model[0].run.name}")
        with Image.open(tmp_path / "split" / f"{name}.png") as image:
            assert image.size == (figures[name]["width"], figures[name]["height"]) == (1400, image.height)
            assert improved_bars(image) == len(of_model)
        heights.append(image.height)
    # the same header and axis around each model's bars, at least BAR_HEIGHT pixels a bar
    bar = heights[0] - heights[1]
    assert heights[0] == heights[2] and bar >= bar_figures.BAR_HEIGHT and heights[1] - bar < bar_figures.MARGIN
    markdown = to_markdown(rows, [], [], figures, 0)
    assert [markdown.index(f"]({name}.png)") for name in names] == sorted(markdown.index(f"]({name}.png)")
                                                                       for name in names)
    page = to_html(rows, [], [], figures, tmp_path / "split", 0)
    assert page.count('src="data:image/png;base64,') == len(figures)
    assert [page.index(f'alt="{figures[name]["title"]}"') for name in names] == sorted(
        page.index(f'alt="{figures[name]["title"]}"') for name in names)


def improved_bars(image: Image.Image) -> int:
    """How many bars of improved's colour a column through their left ends crosses."""
    pixels = np.asarray(image.convert("RGB"))
    green = (np.abs(pixels.astype(int) - [0x2E, 0x8B, 0x57]).sum(axis=2) < 30)[:-60]  # above the legend's patch
    column = green[:, np.flatnonzero(green.sum(axis=0) > 0)[0] + 3]
    return int(np.count_nonzero(np.diff(column.astype(int)) == 1) + column[0])


def test_model_names_a_file_name_cannot_tell_apart_get_their_own_table1_image(monkeypatch, tmp_path):
    monkeypatch.setattr(bar_figures, "TABLE1_MODELS", 1)
    rows = build(Runs([synthetic_run(model, "en", 20, seed) for seed, model in enumerate(["org/a", "org__a"])]), 0)
    figures = plots.draw(rows, tmp_path)
    assert [figures[name]["model"] for name in ("table1_org__a", "table1_org__a_2")] == ["org/a", "org__a"]


def test_countries_figure_has_arrows_for_a_few_runs_and_dots_beyond(monkeypatch, tmp_path):
    rows = synthetic_rows(3, 1, documents=30, countries=20)
    few = rendered_with(plots._countries, "few", plots.COUNTRIES_SIZE, rows)
    assert len(few.axes[0].texts) == 3 * 20  # an arrow (annotation) per run and country
    assert plots.draw(rows, tmp_path)["countries_en_USA"]["width"] == plots.COUNTRIES_SIZE[0]
    monkeypatch.setattr(plots, "ARROW_SERIES", 2)
    (tmp_path / "many").mkdir()
    drawn = plots.draw(rows, tmp_path / "many")["countries_en_USA"]
    with Image.open(tmp_path / "many" / drawn["file"]) as image:
        assert image.size == plots.COUNTRIES_MANY_SIZE == (drawn["width"], drawn["height"])
    many = rendered_with(plots._countries_dots, drawn["title"], plots.COUNTRIES_MANY_SIZE, rows)
    assert_readable(many)
    left, right = many.axes[:2]
    assert not left.texts and not right.texts and not many.findobj(FancyArrowPatch)
    # a dot per run and country: zero-shot and self-aligned on the left, the gain on the right
    assert [len(c.get_offsets()) for c in left.collections] == [3 * 20, 20, 3 * 20, 20]
    assert [len(c.get_offsets()) for c in right.collections] == [3 * 20, 20]
    labels = [label.get_text() for label in left.get_yticklabels()]
    assert sorted(labels) == sorted(entry["country"] for entry in rows[0].countries.table)
    assert left.get_yticklabels()[labels.index("USA")].get_fontweight() == "bold"
