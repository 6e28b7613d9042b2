"""Markdown tables, the one way the report, the explanations and the benchmarks write them."""

from __future__ import annotations

from typing import TYPE_CHECKING


if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence


def cell(value: object) -> str:
    """One table cell: whitespace (newlines included) collapsed, pipes escaped, so a cell cannot break its row."""
    return " ".join(str(value).split()).replace("|", "\\|")


def row(cells: Iterable[object]) -> str:
    return "| " + " | ".join(cell(value) for value in cells) + " |"


def table(header: Sequence[str], rows: Iterable[Iterable[object]]) -> str:
    return "\n".join([row(header), row(["---"] * len(header)), *(row(cells) for cells in rows)])
