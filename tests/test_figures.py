"""The figures read for one run and for 5 models x 14 languages: the size they say, legible text, no label overlaps."""

from __future__ import annotations

import itertools
import random
from pathlib import Path

import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.text import Text
from PIL import Image
from test_statistics import sampled_record

from culture_metrics.metrics import METRICS
from culture_metrics.reporting import plots
from culture_metrics.reporting.rows import build
from culture_metrics.reporting.runs import Runs, TaskRun
from hf_dataset.languages import LANGUAGE_COUNTRY, LANGUAGES


CATEGORIES = ("Social Values", "Religious Values", "Political Culture", "Economic Values", "Security",
              "Happiness and Well-being", "Migration", "Ethical Values and Norms")
SMALLEST_FONT = 8  # points, at the figures' 100 dpi


def synthetic_run(model: str, language: str, documents: int, seed: int) -> TaskRun:
    rng = random.Random(seed)
    records = tuple(sampled_record(rng, False) for _ in range(documents))
    country = LANGUAGE_COUNTRY[language]
    docs = tuple({"question": q, "category": CATEGORIES[q % len(CATEGORIES)], "language": language,
                  "country": country} for q in range(documents))
    generation = {"generation_kwargs": {"temperature": 1.0}}
    return TaskRun(model, f"wvs_selfalign_{language}", language, country, "chrf", "fp",
                   {name: metric.of(records) for name, metric in METRICS.items()},
                   {"generation": generation, "seeds": {}, "dataset_fingerprint": "fp"},
                   Path("results.json"), samples_file=Path("samples.jsonl"), docs=docs, records=records,
                   recomputable=frozenset(METRICS))


def synthetic_rows(models: int, languages: int, documents: int = 40) -> list:
    runs = [synthetic_run(f"org-{m}/model-{m}-instruct", language, documents, seed=m * 100 + i)
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
    figure = Figure(figsize=(width / plots.DPI, height / plots.DPI), dpi=plots.DPI, layout="constrained")
    FigureCanvasAgg(figure)
    plots.DRAWERS[name](figure, rows)
    figure.suptitle(title)
    figure.canvas.draw()
    return figure


def test_each_figure_is_an_image_of_the_size_the_report_says(drawn):
    _, folder, figures = drawn
    for name, figure in figures.items():
        with Image.open(folder / figure["file"]) as image:
            assert image.size == (figure["width"], figure["height"]), name


@pytest.mark.parametrize("name", ["table1", "categories"])
def test_bar_figures_have_legible_text_inside_the_image_and_no_overlapping_labels(drawn, name):
    rows = drawn[0]
    figure = rendered(name, rows)
    renderer = figure.canvas.get_renderer()
    drawn, whole = figure.get_tightbbox(renderer), figure.bbox  # what is drawn, in inches; the image, in pixels
    assert drawn.x0 >= -0.01 and drawn.y0 >= -0.01, name
    assert drawn.x1 * plots.DPI <= whole.width + 1 and drawn.y1 * plots.DPI <= whole.height + 1, name
    for text in figure.findobj(Text):
        if text.get_visible() and text.get_text().strip():
            assert text.get_fontsize() >= SMALLEST_FONT, text.get_text()
    for ax in figure.axes:
        labels = [label.get_window_extent(renderer) for label in ax.get_yticklabels() if label.get_text()]
        assert labels
        for upper, lower in itertools.pairwise(labels):
            assert not upper.overlaps(lower), name
    if name == "table1":
        assert len(figure.axes[0].get_yticklabels()) == len(rows)
