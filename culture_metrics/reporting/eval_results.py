"""The Hub's evaluation results: per model, one `.eval_results/*.yaml` file per (task, headline metric).

A model repo shows what its `.eval_results/` folder holds (a YAML list of entries: `dataset` {id, task_id,
revision}, `value`, `date`, `source` {url, name}, `notes`), submitted as a pull request. Variants of one benchmark
go in separate files, so each task and headline metric gets its own; the dataset is the Hub dataset the run read,
at the commit it read (`revision`, resolved from the snapshot whether or not the run pinned one), or a placeholder the
user fills where the run built its own probes. Results written before runs recorded the commit carry it only where
the run pinned a revision, and then as pinned; without one the entry has no `revision`.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import yaml

from culture_metrics.reporting.rows import in_percent, temperature


if TYPE_CHECKING:
    from collections.abc import Sequence
    from pathlib import Path

    from culture_metrics.reporting.rows import Row


# The figures a model page shows, in percent (README, "Results on the Hub"). Add a metric here and it is published.
HEADLINE_METRICS = ("selfalign_alignment", "improved_beyond_chance", "target_specificity")
# Where the run read no Hub dataset, or the user publishes the samples elsewhere: to be filled in before the PR.
DATASET_PLACEHOLDER = "FILL-IN-ORG/FILL-IN-DATASET"
SAMPLES_PLACEHOLDER = "https://huggingface.co/datasets/FILL-IN-ORG/FILL-IN-SAMPLES"


def entry(row: Row, metric: str, samples_url: str | None) -> dict[str, Any] | None:
    """The one evaluation result of `metric` in `row`, or None where the run has no value for it."""
    value = in_percent(row.metrics, metric)
    if value is None:
        return None
    provenance = row.run.provenance
    hub = provenance.get("hub_dataset") or {"id": DATASET_PLACEHOLDER, "revision": None}
    dataset = {"id": hub["id"], "task_id": f"{task_key(row)}.{metric}"}
    if hub.get("revision"):
        dataset["revision"] = hub["revision"]
    result: dict[str, Any] = {"dataset": dataset, "value": round(value, 2)}
    if provenance.get("date") is not None:
        result["date"] = datetime.fromtimestamp(float(provenance["date"]), UTC).date().isoformat()
    result["source"] = {"url": samples_url or SAMPLES_PLACEHOLDER, "name": "lm-eval logged samples"}
    result["notes"] = notes(row)
    return result


def notes(row: Row) -> str:
    """The setting a number holds for: metric, format, strategy, temperature, backend, dataset fingerprint."""
    provenance = row.run.provenance
    setting = temperature(row.run)
    return (f"{row.run.task} {row.run.country}: percent; format {provenance.get('format') or 'default'}, "
            f"strategy {row.run.strategy}, temperature {'n/a (log-likelihood)' if setting is None else setting}, "
            f"backend {provenance.get('model_source') or 'unknown'}, "
            f"dataset fingerprint {provenance['dataset_fingerprint']}")


def task_key(row: Row) -> str:
    """The task, with the country when the probes were aligned to another than the language's own."""
    return row.run.task if row.run.default_country else f"{row.run.task}_{row.run.country}"


def model_folder(name: str) -> str:
    """A model's folder name: its Hub id or folder name with every character a path would mangle replaced."""
    return re.sub(r"[^A-Za-z0-9._-]+", "__", name)


def write(out: Path, rows: Sequence[Row], samples_url: str | None) -> list[Path]:
    """Write out/<model>/<task>__<metric>.yaml for every row and headline metric; the paths written."""
    written = []
    for row in rows:
        for metric in HEADLINE_METRICS:
            result = entry(row, metric, samples_url)
            if result is None:
                continue
            path = out / model_folder(row.run.name) / f"{task_key(row)}__{metric}.yaml"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(yaml.safe_dump([result], sort_keys=False, allow_unicode=True), encoding="utf-8")
            written.append(path)
    return written
