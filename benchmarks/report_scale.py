"""The report and the gate as runs grow: 1, 14, 70 and 700 full-size task runs, as a leaderboard would hold them.

One full-size run (every English probe, 10 + 10 sampled responses each) of the scripted `wvs-test-copier` backend
(tests/scripted_models.py: no model, so the run takes seconds), or an lm-eval output folder given with --run, is
copied under other model names (its samples file hard-linked), and `python -m culture_metrics report` reads 1, 14,
70, ... of the copies with the default 1,000 resamples; `gate` compares one copy with another. With --languages, a
leaderboard's shape: each model holds the run once per language (50 models x 14 languages at 700), the English run
relabelled as that language and its country (its target specificity left out of the results for the report to
recompute, since the target changes), so that every model is pooled over 14 languages and every language's
countries figure holds every model. Each command runs in its own process, timed with its peak memory. Run from the
repository root:

    python -m benchmarks.report_scale [--sizes 1 14 70 700] [--run FOLDER] [--languages]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

from benchmarks.common import ROOT, TASKS, Child, machine, measure
from culture_metrics.reporting.markdown import table
from hf_dataset.languages import LANGUAGE_COUNTRY, LANGUAGES


ENGLISH = "wvs_selfalign_en"


def scripted_run(out: Path) -> Path:
    """A full-size run of the scripted backend: every English probe."""
    measure([sys.executable, str(ROOT / "tests" / "scripted_models.py"), "run", "--model", "wvs-test-copier",
             "--tasks", "wvs_selfalign_en", "--include_path", str(TASKS), "--log_samples", "--output_path", str(out)])
    return out


def copies(run: Path, count: int, into: Path) -> list[Path]:
    """`count` copies of the run's one results file, each under its own model name, in a folder of its own."""
    (results,) = sorted(run.rglob("results_*.json"))
    data = json.loads(results.read_text(encoding="utf-8"))
    folders = []
    for index in range(count):
        folder = into / f"model-{index:03d}"
        folder.mkdir(parents=True)
        (folder / results.name).write_text(json.dumps({**data, "model_name": folder.name}), encoding="utf-8")
        for samples in results.parent.glob(f"samples_*{results.stem.removeprefix('results')}.jsonl"):
            os.link(samples, folder / samples.name)
        folders.append(folder)
    return folders


def language_copies(run: Path, models: int, into: Path) -> list[Path]:
    """`models` models, each with the English run as every language (`relabelled`), one folder per model and language;
    the samples of a language written once and hard-linked.
    """
    (results,) = sorted(run.rglob("results_*.json"))
    stamp = results.stem.removeprefix("results")
    (samples,) = results.parent.glob(f"samples_{ENGLISH}{stamp}.jsonl")
    folders = []
    for language in LANGUAGES:
        data, lines = relabelled(results.read_text(encoding="utf-8"), samples.read_text(encoding="utf-8"), language)
        written = into / "samples" / f"samples_{ENGLISH.replace('_en', f'_{language}')}{stamp}.jsonl"
        written.parent.mkdir(parents=True, exist_ok=True)
        written.write_text(lines, encoding="utf-8")
        for index in range(models):
            folder = into / f"model-{index:03d}-{language}"
            folder.mkdir(parents=True)
            (folder / results.name).write_text(json.dumps({**data, "model_name": f"model-{index:03d}"}),
                                               encoding="utf-8")
            os.link(written, folder / written.name)
            folders.append(folder)
    return sorted(folders)


def relabelled(results: str, samples: str, language: str) -> tuple[dict, str]:
    """The English run's results and samples as if run on `language`: task, language and country renamed."""
    task, country = ENGLISH.replace("_en", f"_{language}"), LANGUAGE_COUNTRY[language]
    data = json.loads(results.replace(f'"{ENGLISH}"', f'"{task}"'))
    data["configs"][task]["metadata"]["language"] = language
    data["configs"][task]["provenance"]["country"] = country
    data["results"][task] = {key: value for key, value in data["results"][task].items()
                             if not key.startswith("target_specificity")}
    rows = []
    for line in samples.splitlines():
        row = json.loads(line)
        row["doc"] |= {"language": language, "country": country}
        row["documents"]["country"] = country
        rows.append(json.dumps(row, ensure_ascii=False) + "\n")
    return data, "".join(rows)


def _row(label: str, runs: int, child: Child) -> list[str]:
    return [label, f"{child.cpu_seconds:.1f}", f"{1000 * child.cpu_seconds / runs:.0f}", f"{child.seconds:.1f}",
            f"{child.peak_mib:.0f}", f"{child.background_cores:.1f}"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1, 14, 70, 700], help="task runs per report")
    parser.add_argument("--run", type=Path, help="an lm-eval output folder of one task run with logged samples")
    parser.add_argument("--languages", action="store_true",
                        help="each model on all 14 languages (sizes: multiples of 14), the English run relabelled")
    args = parser.parse_args()
    if args.languages and any(size % len(LANGUAGES) for size in args.sizes):
        parser.error(f"with --languages, every size is a number of models x {len(LANGUAGES)} languages")
    print(machine(), flush=True)
    with tempfile.TemporaryDirectory() as work:
        work = Path(work)
        run = args.run or scripted_run(work / "run")
        if args.languages:
            folders = language_copies(run, max(max(args.sizes) // len(LANGUAGES), 2), work / "copies")
        else:
            folders = copies(run, max(max(args.sizes), 2), work / "copies")
        documents = sum(1 for _ in next(folders[0].glob("samples_*.jsonl")).open(encoding="utf-8"))
        command = [sys.executable, "-m", "culture_metrics"]
        rows = []
        for size in args.sizes:
            child = measure([*command, "report", *map(str, folders[:size]), "--out", str(work / f"report-{size}")])
            rows.append(_row(f"report, {size} run{'s' * (size > 1)}", size, child))
        candidate = folders[len(LANGUAGES) if args.languages else 1]  # another model, the same task
        rows.append(_row("gate, 1 run against 1", 1, measure([*command, "gate", str(candidate), "--baseline",
                                                              str(folders[0])])))
    print(f"\nfull-size task runs of {documents} documents, 1000 resamples\n")
    print(table(["command", "CPU s", "CPU ms per run", "wall s", "peak MiB", "other processes' cores"], rows))


if __name__ == "__main__":
    main()
