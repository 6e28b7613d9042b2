"""chrF++ demonstration selection: the project's ``ChrfIndex`` against sacrebleu pair by pair, all 14 languages.

Every probe template of a language (the sentences ChrfSampler compares) is scored against every other probe of that
language, both ways; the scores must be identical. The templates come from the dataset the tasks read (built from
WVS_PROBES, or ../shared when it is beside the checkout). Run from the repository root:

    python -m benchmarks.chrf_selection
"""

from __future__ import annotations

import os
import time
from typing import TYPE_CHECKING

import numpy as np
from sacrebleu.metrics import CHRF

from benchmarks.common import child_env, machine, ratio
from culture_metrics.reporting.markdown import table
from culture_metrics.selection import ChrfIndex
from hf_dataset.languages import LANGUAGES


if TYPE_CHECKING:
    from collections.abc import Callable


def read_sentences(language: str) -> list[str]:
    """The templates of every probe of the language, labelled or not."""
    from culture_metrics.dataset import load_probes

    return load_probes(language)["test"]["template"]


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


def row(label: str, probes: int | str, pairs: int, seconds: dict[str, float]) -> list[object]:
    """One table line: seconds per method, then sacrebleu's time over each index method's."""
    slow, by_scores, by_pairwise = seconds.values()
    return [label, probes, pairs, *(f"{value:.2f}" for value in seconds.values()), ratio(slow, by_scores),
            ratio(slow, by_pairwise)]


def main() -> None:
    os.environ.update(child_env())
    print(machine(), flush=True)
    methods = {"sacrebleu": sacrebleu_scores, "scores()": index_scores, "pairwise()": pairwise_scores}
    rows, total_pairs, totals = [], 0, dict.fromkeys(methods, 0.0)
    for language in LANGUAGES:
        sentences = read_sentences(language)
        pairs = len(sentences) * (len(sentences) - 1)
        results = {name: timed(method, sentences) for name, method in methods.items()}
        for name, (scores, seconds) in results.items():
            assert scores == results["sacrebleu"][0], f"{language}: {name} scores differ from sacrebleu"
            totals[name] += seconds
        total_pairs += pairs
        rows.append(row(language, len(sentences), pairs, {name: seconds for name, (_, seconds) in results.items()}))
    rows.append(row("all", "", total_pairs, totals))
    print(f"\nidentical scores for all {total_pairs} pairs\n")
    print(table(["language", "probes", "pairs", *(f"{name} s" for name in methods), "scores() speed-up",
                 "pairwise() speed-up"], rows))


if __name__ == "__main__":
    main()
