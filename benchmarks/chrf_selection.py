"""Time few-shot chrF++ scoring: ``ChrfIndex`` against sacrebleu pair by pair, on the WVS probes.

For every ``<lang>.csv`` in the probe folder, every probe template ([MASK] -> _) is
scored against every other probe of its language both ways; the scores must be
identical. Run from the repository root:

    python -m benchmarks.chrf_selection [--probes DIR]
"""

from __future__ import annotations

import argparse
import csv
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from sacrebleu.metrics import CHRF

from culture_metrics.selection import ChrfIndex

DEFAULT_PROBES = Path("/work/shared/data/value-probing/wvs")


def read_sentences(path: Path) -> list[str]:
    """Probe templates of one language (tab-separated, header line, template in column 3)."""
    with path.open(encoding="utf-8", newline="") as handle:
        rows = csv.reader(handle, delimiter="\t")
        next(rows)
        return [row[2].replace("[MASK]", "_") for row in rows]


def index_scores(sentences: list[str]) -> list[list[float]]:
    """Each sentence against all others: one index per language, ``scores`` per sentence."""
    index = ChrfIndex(sentences)
    return [np.delete(index.scores(sentence), i).tolist() for i, sentence in enumerate(sentences)]


def pairwise_scores(sentences: list[str]) -> list[list[float]]:
    """Each sentence against all others: one index per language, one ``pairwise`` call."""
    matrix = ChrfIndex(sentences).pairwise()
    return matrix[~np.eye(len(sentences), dtype=bool)].reshape(len(sentences), -1).tolist()


def sacrebleu_scores(sentences: list[str]) -> list[list[float]]:
    """Each sentence against all others, one sacrebleu ``sentence_score`` call per pair."""
    metric = CHRF(word_order=2)
    return [
        [metric.sentence_score(hypothesis, [reference]).score for j, reference in enumerate(sentences) if j != i]
        for i, hypothesis in enumerate(sentences)
    ]


def timed(score: Callable[[list[str]], list[list[float]]], sentences: list[str]) -> tuple[list[list[float]], float]:
    """Scores and wall-clock seconds, index construction included."""
    start = time.perf_counter()
    scores = score(sentences)
    return scores, time.perf_counter() - start


def row(label: str, probes: int | str, pairs: int, seconds: dict[str, float]) -> str:
    """One table line: seconds per method, then sacrebleu's time over each index method's."""
    slow, by_scores, by_pairwise = seconds.values()
    cells = "".join(f"{value:>14.3f}" for value in seconds.values())
    return f"{label:<6}{probes:>7}{pairs:>9}{cells}{slow / by_scores:>11.0f}x{slow / by_pairwise:>13.0f}x"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--probes", type=Path, default=DEFAULT_PROBES, help="folder of <lang>.csv probe files")
    args = parser.parse_args()
    paths = sorted(args.probes.glob("*.csv"))
    if not paths:
        parser.error(f"no <lang>.csv files in {args.probes}")

    methods = {"sacrebleu": sacrebleu_scores, "scores()": index_scores, "pairwise()": pairwise_scores}
    print(f"{'lang':<6}{'probes':>7}{'pairs':>9}" + "".join(f"{name + ' s':>14}" for name in methods)
          + f"{'scores() x':>12}{'pairwise() x':>14}")
    total_pairs, totals = 0, dict.fromkeys(methods, 0.0)
    for path in paths:
        sentences = read_sentences(path)
        pairs = len(sentences) * (len(sentences) - 1)
        results = {name: timed(method, sentences) for name, method in methods.items()}
        for name, (scores, seconds) in results.items():
            assert scores == results["sacrebleu"][0], f"{path.stem}: {name} scores differ from sacrebleu"
            totals[name] += seconds
        total_pairs += pairs
        print(row(path.stem, len(sentences), pairs, {name: seconds for name, (_, seconds) in results.items()}))
    print(row("all", "", total_pairs, totals))
    print(f"identical scores for all {total_pairs} pairs")


if __name__ == "__main__":
    main()
