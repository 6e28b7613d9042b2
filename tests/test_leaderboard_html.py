"""leaderboard.html in a real browser (headless Chromium): offline, Table 1 sorts, every figure renders."""

from __future__ import annotations

import re
import shutil
import subprocess
from html import unescape
from typing import TYPE_CHECKING

import pytest
from test_figures import synthetic_rows

from culture_metrics.reporting import bar_figures, report_folder
from culture_metrics.reporting.leaderboard_html import REPORT_FILE
from culture_metrics.reporting.leaderboard_markdown import TABLE1_HEADERS


if TYPE_CHECKING:
    from pathlib import Path


CHROMIUM = shutil.which("chromium")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="needs Debian's chromium (.ci/run installs it)")


@pytest.fixture(scope="module")
def page(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("html") / "board"
    report_folder.write(out, synthetic_rows(3, 4), ["a warning a reader must see"], 50)
    return out / REPORT_FILE


def dom(page: Path, query: str = "") -> str:
    """The page's DOM after its scripts ran, as Chromium dumps it."""
    done = subprocess.run(  # noqa: S603
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--virtual-time-budget=5000", "--dump-dom",
         f"{page.as_uri()}{query}"], capture_output=True, text=True, timeout=120, check=True)
    return done.stdout


def column(document: str, header: str) -> list[str]:
    table = re.search(r'<table id="table1".*?</table>', document, re.DOTALL).group(0)
    body = table.split("<tbody>", 1)[1]
    at = TABLE1_HEADERS.index(header)
    return [unescape(re.findall(r"<td>(.*?)</td>", row)[at]) for row in re.findall(r"<tr>(.*?)</tr>", body)]


def leading(cells: list[str]) -> list[float]:
    return [float(cell.split()[0]) for cell in cells if cell != "n/a"]


def test_the_page_needs_no_network(page):
    text = page.read_text(encoding="utf-8")
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", text) and "<link" not in text
    assert text.count('src="data:image/png;base64,') == 4


def test_table1_sorts_in_the_browser_and_every_figure_renders(page):
    unsorted = dom(page)
    assert 'data-figures-rendered="4"' in unsorted
    improved = column(unsorted, "Improved %")
    assert len(improved) == 12 and leading(improved) != sorted(leading(improved), reverse=True)
    descending = dom(page, "?sort=Improved+%25&order=desc")
    assert leading(column(descending, "Improved %")) == sorted(leading(improved), reverse=True)
    assert 'aria-sort="descending">Improved %' in descending
    by_language = column(dom(page, "?sort=Language"), "Language")
    assert by_language == sorted(by_language)


def test_beyond_a_few_models_each_models_table1_renders_in_model_order(tmp_path):
    out = tmp_path / "board"
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(bar_figures, "TABLE1_MODELS", 2)
        report_folder.write(out, synthetic_rows(3, 2), [], 0)
    document = dom(out / REPORT_FILE)
    titles = re.findall(r'<img alt="([^"]*)"', document)
    assert [title.rsplit(": ", 1)[1] for title in titles[:3]] == [f"org-{m}/model-{m}-instruct" for m in range(3)]
    assert len(titles) == 6 and f'data-figures-rendered="{len(titles)}"' in document
