"""Finding the lm-eval outputs of wvs_selfalign tasks and reading them into checked, typed runs.

The report and the gate show nothing that does not pass through here, so every way an input can be wrong is caught
here: unreadable or truncated files, results of other tasks, logged samples that do not belong to their results
(document count, documents of another language, or figures that do not recompute), and conflicting runs of the
same model and task. Those raise RunError, naming the files; what leaves the figures right but worth knowing (no
samples, --limit, a mix of dataset versions) becomes a warning.
"""

from __future__ import annotations

import json
import math
from collections import defaultdict
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from culture_metrics import countries
from culture_metrics.metrics import METRICS, RECORD, Record
from culture_metrics.reporting import processes, results_json
from culture_metrics.task_names import strategy_of
from hf_dataset.collapse import DEFAULT_RULE
from hf_dataset.languages import LANGUAGE_COUNTRY


if TYPE_CHECKING:
    from collections.abc import Sequence


class RunError(Exception):
    """An input the report or the gate cannot use; the CLI prints it as one line and exits 2."""


@dataclass(frozen=True)
class TaskRun:
    """One task of one lm-eval run: its figures, and when logged, one record and one doc per document."""

    model: str
    task: str
    language: str
    country: str
    strategy: str
    fingerprint: str
    figures: dict[str, float]
    provenance: dict[str, Any]
    results_file: Path
    samples_file: Path | None = None
    docs: tuple[dict, ...] = ()
    records: tuple[Record, ...] = ()
    doc_ids: tuple[int, ...] = ()
    recomputable: frozenset[str] = frozenset()
    # Each recomputable metric's value on each document, taken once as the figures are checked (None: not spoken of),
    # but RECORD's, the record itself.
    items: dict[str, tuple] = field(default_factory=dict)
    explains: bool = False

    @property
    def name(self) -> str:
        """The model as a reader knows it: a local folder by its own name, a hub id as it is."""
        return Path(self.model).name if self.model.startswith(("/", "./", "../", "~")) else self.model

    @property
    def has_samples(self) -> bool:
        return self.samples_file is not None

    @property
    def default_country(self) -> bool:
        return LANGUAGE_COUNTRY.get(self.language) == self.country


@dataclass
class Runs:
    runs: list[TaskRun]
    warnings: list[str] = field(default_factory=list)

    @property
    def models(self) -> list[str]:
        return sorted({run.model for run in self.runs})


def load(paths: Sequence[Path]) -> Runs:
    """Every wvs_selfalign task run found in `paths` (results_*.json files or folders holding them)."""
    return gathered(paths, processes.map_runs(read, results_files(paths)))


def gathered(paths: Sequence[Path], read: Sequence[tuple[Sequence[TaskRun], list[str]]]) -> Runs:
    """What `read` gave for each of results_files(paths), in order, checked across files: samples without results,
    the same run given twice, runs on different dataset versions.
    """
    loaded = Runs([])
    for task_runs, warnings in read:
        loaded.runs += task_runs
        loaded.warnings += warnings
    stamps = {(results_file.parent, results_json.stamp(results_file)) for results_file in results_files(paths)}
    for path in paths:
        for samples in sorted(path.resolve().rglob("samples_*.jsonl") if path.is_dir() else ()):
            if (samples.parent, results_json.stamp(samples)) not in stamps:
                loaded.warnings.append(f"{samples}: ignored, no results_*.json of the same run beside it")
    loaded.runs = _without_duplicates(loaded.runs, loaded.warnings)
    _warn_mixed_datasets(loaded.runs, loaded.warnings)
    return loaded


def results_files(paths: Sequence[Path]) -> list[Path]:
    """The results files `paths` name or hold, each once."""
    if not paths:
        raise RunError("no results given")
    found = []
    for path in paths:
        if path.is_file():
            if path.suffix != ".json":
                raise RunError(f"{path}: not an lm-eval results file (results_*.json); give it or its folder")
            found.append(path)
        elif path.is_dir():
            files = sorted(path.rglob("results_*.json"))
            if not files:
                raise RunError(f"{path}: no lm-eval results (results_*.json) in this folder")
            found += files
        else:
            raise RunError(f"{path}: no such file or folder")
    return list(dict.fromkeys(path.resolve() for path in found))


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise RunError(f"{path}: not valid JSON ({error.msg} at line {error.lineno}, column {error.colno}); "
                       "truncated?") from None
    except (OSError, UnicodeDecodeError) as error:
        raise RunError(f"{path}: cannot read ({error})") from None


def read(path: Path) -> tuple[list[TaskRun], list[str]]:
    """The wvs_selfalign task runs of one results file, checked against their logged samples, and what is worth a
    warning about them.
    """
    warnings: list[str] = []
    data = _read_json(path)
    if not isinstance(data, dict) or not isinstance(data.get("results"), dict) or not isinstance(
        data.get("configs"), dict
    ):
        raise RunError(f"{path}: not an lm-eval results file (no 'results' and 'configs')")
    ours = [task for task, config in data["configs"].items() if results_json.is_selfalign(config)]
    others = sorted(set(data["configs"]) - set(ours))
    if not ours:
        raise RunError(f"{path}: no wvs_selfalign task in these results (tasks: {', '.join(others) or 'none'})")
    if others:
        warnings.append(f"{path}: ignored results of other tasks: {', '.join(others)}")
    partial = []
    for task in ours:
        counts = results_json.counts(data, task)
        if counts.get("effective") is not None and counts["effective"] < (counts.get("original") or 0):
            partial.append(f"{counts['effective']} of {counts['original']} ({task})")
    if partial:
        warnings.append(f"{path}: scored a subset of the documents (--limit): {', '.join(partial)}; "
                        "not the whole benchmark")
    model = results_json.model_name(data)
    return [_task_run(path, data, task, model, warnings) for task in ours], warnings


def _task_run(path: Path, data: dict, task: str, model: str, warnings: list[str]) -> TaskRun:
    config = data["configs"][task]
    metadata, derived = config["metadata"], config[results_json.PROVENANCE]
    if task not in data["results"]:
        raise RunError(f"{path}: task {task} has a config but no results")
    figures = _figures(path, task, data["results"][task])
    language, country = str(metadata["language"]), str(derived.get("country", ""))
    run = TaskRun(
        model=model,
        task=task,
        language=language,
        country=country,
        strategy=strategy_of(task),
        fingerprint=str(derived["dataset_fingerprint"]),
        figures=figures,
        provenance=results_json.provenance(data, task, model),
        results_file=path,
        explains=bool(metadata.get("explain")),
    )
    effective = results_json.counts(data, task).get("effective")
    samples = _samples_path(path, task)
    if not samples.exists():
        warnings.append(f"{path}: no logged samples for {task} (run lm_eval with --log_samples): "
                        "confidence intervals and categories unavailable")
        return run
    return _with_samples(run, samples, effective, warnings, str(metadata.get("collapse") or DEFAULT_RULE))


def _figures(path: Path, task: str, results: dict) -> dict[str, float]:
    """Metric -> value of the task's one filter ('all_responses' when sampled, 'none' for log-likelihoods)."""
    figures: dict[str, float] = {}
    filters = set()
    for key, value in results.items():
        name, _, filter_name = key.partition(",")
        if filter_name and not name.endswith("_stderr"):
            filters.add(filter_name)
            figures[name] = value
    if len(filters) != 1:
        raise RunError(f"{path}: {task} reports {'several filters' if filters else 'no metric'}; expected one "
                       "filter's metrics")
    return figures


def _samples_path(results_file: Path, task: str) -> Path:
    return results_file.parent / f"samples_{task}_{results_json.stamp(results_file)}.jsonl"


def _with_samples(run: TaskRun, path: Path, effective: int | None, warnings: list[str], collapse: str) -> TaskRun:
    rows = _read_samples(path)
    where = f"{path} (samples) and {run.results_file} (results)"
    expected = run.figures.get("documents", effective)
    if expected is not None and len(rows) != expected:
        raise RunError(f"{where} do not match: {len(rows)} logged documents, {expected} in the results of {run.task}")
    for number, row in enumerate(rows, 1):
        doc = row["doc"]
        if (doc.get("language"), doc.get("country")) != (run.language, run.country):
            raise RunError(f"{where} do not match: document {number} is {doc.get('language')}/{doc.get('country')}, "
                           f"the task {run.task} is {run.language}/{run.country}")
    # The countries' labels are not logged: each record gets them again from its document, under the run's rule.
    records = tuple({**row["record"], **countries.of_document(row["doc"], collapse)} for row in rows)
    figures, items, lacking = dict(run.figures), {}, {}
    for name, metric in METRICS.items():
        try:
            items[name] = tuple(map(metric.item, records))
            value = metric.of_values(items[name])
        except (KeyError, TypeError) as error:
            items.pop(name, None)
            lacking[name] = str(error)
            continue
        if name not in figures:
            figures[name] = value
        elif not same_value(figures[name], value):
            raise RunError(f"{where} do not match: {run.task} {name} is {figures[name]} in the results but "
                           f"{value} recomputed from the samples")
    if lacking:
        warnings.append(f"{path}: the logged records lack {', '.join(sorted(set(lacking.values())))} (written by "
                        f"another version of the task?): {', '.join(lacking)} shown from the results, without a CI, "
                        "where the results have them")
    recomputable = frozenset(items)
    items.pop(RECORD, None)  # each document's record again: no value to keep (document_values counts the records)
    return replace(
        run,
        figures=figures,
        samples_file=path,
        docs=tuple(row["doc"] for row in rows),
        records=records,
        doc_ids=tuple(row["doc_id"] for row in rows),
        recomputable=recomputable,
        items=items,
    )


def _read_samples(path: Path) -> list[dict]:
    """The logged documents in doc_id order, each with its record (logged once, under `documents`)."""
    try:
        lines = path.read_bytes().splitlines()
    except OSError as error:
        raise RunError(f"{path}: cannot read ({error})") from None
    rows, seen = [], set()
    for number, line in enumerate(lines, 1):
        try:
            row = _parsed(line)
        except json.JSONDecodeError as error:
            raise RunError(f"{path}: line {number} is not valid JSON ({error.msg}); truncated?") from None
        except UnicodeDecodeError as error:
            raise RunError(f"{path}: line {number} cannot be read ({error})") from None
        if not (isinstance(row, dict) and isinstance(row.get(RECORD), dict) and isinstance(row.get("doc"), dict)
                and "doc_id" in row):
            raise RunError(f"{path}: line {number} holds no wvs_selfalign document record (under {RECORD!r})")
        if row["doc_id"] in seen:
            raise RunError(f"{path}: document {row['doc_id']} is logged twice (line {number})")
        seen.add(row["doc_id"])
        rows.append({"doc_id": row["doc_id"], "doc": row["doc"], "record": row[RECORD]})
    if not rows:
        raise RunError(f"{path}: no logged documents")
    return sorted(rows, key=lambda row: row["doc_id"])


def _parsed(line: bytes) -> Any:
    """One JSON line: orjson reads a leaderboard's samples three times faster than json, which reads what orjson
    refuses and lm-eval may write (NaN, Infinity).
    """
    try:
        return orjson.loads(line)
    except orjson.JSONDecodeError:
        return json.loads(line)


def same_value(a: Any, b: Any) -> bool:
    """Equal up to float rounding; None (a share with nothing to be a share of) equals only None."""
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)
    return a == b


def _without_duplicates(runs: list[TaskRun], warnings: list[str]) -> list[TaskRun]:
    """One run per model, task and country: a copy is counted once, two different runs are an error."""
    kept: dict[tuple[str, str, str], TaskRun] = {}
    for run in runs:
        key = (run.model, run.task, run.country)
        first = kept.setdefault(key, run)
        if first is run:
            continue
        shared = first.figures.keys() & run.figures.keys()
        if first.fingerprint != run.fingerprint or not all(same_value(first.figures[n], run.figures[n]) for n in shared):
            raise RunError(f"two different runs of {run.task} ({run.country}) for model {run.model}: "
                           f"{first.results_file} and {run.results_file}; report them separately")
        warnings.append(f"{run.results_file}: same figures as {first.results_file} for {run.task}, counted once")
        if run.has_samples and not first.has_samples:
            kept[key] = run
    return list(kept.values())


def _warn_mixed_datasets(runs: list[TaskRun], warnings: list[str]) -> None:
    by_language: dict[tuple[str, str], dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for run in runs:
        by_language[run.language, run.country][run.fingerprint].append(f"{run.model} {run.task}")
    for (language, country), fingerprints in by_language.items():
        if len(fingerprints) > 1:
            versions = "; ".join(f"{fp}: {', '.join(who)}" for fp, who in sorted(fingerprints.items()))
            warnings.append(f"{language} ({country}): runs rest on different dataset versions ({versions}); "
                            "their figures are not comparable")
