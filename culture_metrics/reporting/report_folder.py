"""The report folder: leaderboard.json, .md and .html (runs, and pooled over languages), the figures and the
explanations table, written whole or not at all.

An existing folder is replaced only if it is a report (holds leaderboard.json) or empty, never another folder.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from culture_metrics.reporting import explanations, leaderboard_html
from culture_metrics.reporting.leaderboard_json import to_json
from culture_metrics.reporting.leaderboard_markdown import to_markdown
from culture_metrics.reporting.pooled import pools
from culture_metrics.reporting.runs import RunError
from hf_dataset.folders import refuse_foreign, staged_folder


if TYPE_CHECKING:
    from collections.abc import Sequence
    from pathlib import Path

    from culture_metrics.reporting.rows import Row


REPORT_MARKER = "leaderboard.json"


def write(out: Path, rows: Sequence[Row], warnings: Sequence[str], resamples: int) -> None:
    """Draw the figures and write the tables into a sibling of `out` that replaces it once all is written."""
    from culture_metrics.reporting import plots  # matplotlib only where figures are drawn

    refuse_foreign(out, lambda folder: (folder / REPORT_MARKER).exists(),
                   RunError(f"{out}: exists and is not a report folder; refusing to replace it"))
    with staged_folder(out) as folder:
        figures = plots.draw(rows, folder)
        pooled = pools(rows, resamples)
        board = to_json(rows, pooled, warnings, figures, resamples)
        (folder / REPORT_MARKER).write_text(json.dumps(board, indent=1, allow_nan=False) + "\n", encoding="utf-8")
        (folder / "leaderboard.md").write_text(to_markdown(rows, pooled, warnings, figures, resamples), encoding="utf-8")
        (folder / leaderboard_html.REPORT_FILE).write_text(
            leaderboard_html.to_html(rows, pooled, warnings, figures, folder, resamples), encoding="utf-8")
        explained = explanations.report([row.run for row in rows])
        if explained:
            (folder / explanations.REPORT_FILE).write_text(explained, encoding="utf-8")
