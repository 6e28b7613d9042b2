"""leaderboard.html: the report in one file a browser opens offline; styles, script and figures inline.

Table 1 sorts on a click on its header (numbers by value, `n/a` last). `?sort=<column>&order=desc` in the address
sorts on load, and the page marks on <body> how many figures the browser decoded: a headless browser's DOM dump
then shows both, so the page is tested as a reader sees it.
"""

from __future__ import annotations

import base64
import html
from typing import TYPE_CHECKING

from culture_metrics.reporting.leaderboard_markdown import (
    TABLE1_HEADERS,
    intro,
    pooled_note,
    pooled_table,
    table1_cells,
)


if TYPE_CHECKING:
    from collections.abc import Sequence
    from pathlib import Path

    from culture_metrics.reporting.pooled import Pool
    from culture_metrics.reporting.rows import Row


REPORT_FILE = "leaderboard.html"
STYLE = """
body{font:14px/1.45 system-ui,sans-serif;margin:2em auto;max-width:1500px;padding:0 1em;color:#222}
.scroll{overflow-x:auto}
table{border-collapse:collapse;font-size:12px;margin:1em 0}
th,td{border:1px solid #ccc;padding:3px 6px;text-align:left;white-space:nowrap}
th{background:#f2f2f2;position:sticky;top:0}
table.sortable th{cursor:pointer}
th[aria-sort=ascending]::after{content:" \\25B2"} th[aria-sort=descending]::after{content:" \\25BC"}
tr:nth-child(even) td{background:#fafafa}
img{max-width:100%;height:auto;display:block;margin:1em 0;border:1px solid #eee}
.warnings li{color:#8a4b00}
"""
# Sorting by the leading number of a cell ("12.3 [8.1, 16.0]" -> 12.3), text otherwise; `n/a` sorts last.
SCRIPT = """
function sortTable(table, column, descending) {
  const key = cell => { const n = parseFloat(cell.textContent); return isNaN(n) ? cell.textContent : n; };
  const rows = Array.from(table.tBodies[0].rows);
  rows.sort((a, b) => {
    const x = key(a.cells[column]), y = key(b.cells[column]);
    if (a.cells[column].textContent === 'n/a') return 1;
    if (b.cells[column].textContent === 'n/a') return -1;
    const order = typeof x === 'number' && typeof y === 'number' ? x - y : String(x).localeCompare(String(y));
    return descending ? -order : order;
  });
  rows.forEach(row => table.tBodies[0].appendChild(row));
  Array.from(table.tHead.rows[0].cells).forEach((th, i) =>
    th.setAttribute('aria-sort', i === column ? (descending ? 'descending' : 'ascending') : 'none'));
}
document.querySelectorAll('table.sortable').forEach(table =>
  Array.from(table.tHead.rows[0].cells).forEach((th, i) => th.addEventListener('click', () =>
    sortTable(table, i, th.getAttribute('aria-sort') === 'ascending'))));
window.addEventListener('load', () => {
  const images = Array.from(document.images);
  document.body.dataset.figuresRendered = images.filter(img => img.complete && img.naturalWidth > 0).length;
  const asked = new URLSearchParams(location.search);
  const table = document.getElementById('table1');
  const column = Array.from(table.tHead.rows[0].cells).findIndex(th => th.textContent === asked.get('sort'));
  if (column >= 0) sortTable(table, column, asked.get('order') === 'desc');
});
"""


def _table(headers: Sequence[str], rows: Sequence[Sequence[str]], table_id: str = "", sortable: bool = False) -> str:
    attributes = (f' id="{table_id}"' if table_id else "") + (' class="sortable"' if sortable else "")
    head = "".join(f'<th aria-sort="none">{html.escape(h)}</th>' for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in row) + "</tr>" for row in rows)
    return f'<div class="scroll"><table{attributes}><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>'


def to_html(rows: Sequence[Row], pooled: Sequence[Pool], warnings: Sequence[str], figures: dict[str, dict],
            folder: Path, resamples: int) -> str:
    """The page; `folder` holds the figures' PNGs, embedded as data URLs."""
    parts = ["<h1>Self-alignment leaderboard</h1>", f"<p>{html.escape(intro(resamples))}</p>"]
    if warnings:
        items = "".join(f"<li>{html.escape(warning)}</li>" for warning in warnings)
        parts.append(f'<h2>Warnings</h2><ul class="warnings">{items}</ul>')
    parts += ["<h2>Table 1</h2><p>Click a column header to sort.</p>",
              _table(TABLE1_HEADERS, [table1_cells(row) for row in rows], "table1", sortable=True)]
    if pooled:
        parts += ["<h2>Pooled over languages</h2>", f"<p>{html.escape(pooled_note(resamples))}</p>",
                  _table(*pooled_table(pooled), sortable=True)]
    drawn = [figure for figure in figures.values() if figure["file"]]
    if drawn:
        parts.append("<h2>Figures</h2>")
    for figure in drawn:
        data = base64.b64encode((folder / figure["file"]).read_bytes()).decode("ascii")
        parts.append(f'<figure><img alt="{html.escape(figure["title"])}" width="{figure["width"]}" '
                     f'height="{figure["height"]}" src="data:image/png;base64,{data}"></figure>')
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<title>Self-alignment leaderboard</title>"
            f"<style>{STYLE}</style></head><body>{''.join(parts)}<script>{SCRIPT}</script></body></html>\n")
