"""The paper's Table 2 for any model: improved probes with their demonstrations, answers and explanations.

Reads the logged samples of `_explain` tasks, whose responses carry an explanation after the answer.
"""

from __future__ import annotations

import json
from collections import Counter
from typing import TYPE_CHECKING

from culture_metrics import metrics
from culture_metrics.reporting import markdown


if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

    from culture_metrics.reporting.runs import TaskRun


REPORT_FILE = "explanations.md"


def explanation(response: str, answer: str) -> str:
    """What the response says after naming its answer."""
    text = " ".join(response.split())
    at = text.casefold().find(answer.casefold())
    rest = text[at + len(answer):] if at >= 0 else text
    return rest.lstrip(" .,:;-–—")


def improved_table(samples: Iterable[dict]) -> str:
    """Markdown rows for the misaligned probes that self-alignment improved."""
    rows = []
    for sample in samples:
        record, doc = sample["documents"], sample["doc"]
        if not (metrics.is_misaligned(record) and metrics.change(record) == "improved"):
            continue
        responses = sample["filtered_resps"][1]
        aligned = [(r, a) for r, a in zip(responses, record["selfalign"], strict=False) if a == doc["answer"]]
        said = explanation(*aligned[0]) if aligned else ""
        zero = ", ".join(f"{answer or 'invalid'} x{n}" for answer, n in Counter(record["zeroshot"]).most_common())
        rows.append([f"{doc['id']}: {doc['template']}", doc["answer"], "<br>".join(record["demonstrations"]), zero,
                     doc["answer"], said])
    header = ["probe", "majority answer", "demonstrations", "zero-shot answers", "self-aligned answer", "explanation"]
    return markdown.table(header, rows) + "\n"


def report(runs: Sequence[TaskRun]) -> str | None:
    """explanations.md of a report: one table per logged run that asked for explanations, or None if none did."""
    explained = [run for run in runs if run.explains and run.samples_file]
    if not explained:
        return None
    parts = ["# Improved probes and the model's explanations (the paper's Table 2)\n"]
    for run in explained:
        lines = run.samples_file.read_text(encoding="utf-8").splitlines()
        parts.append(f"## {run.name}: {run.task} ({run.country})\n\n{improved_table(map(json.loads, lines))}")
    return "\n".join(parts)
