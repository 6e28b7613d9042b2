"""Fast chrF++ scoring of one sentence against a fixed pool of candidate sentences.

Few-shot selection ranks every candidate of a language by chrF++ against each test
sentence. Scoring pair by pair re-extracts both sentences' n-grams and intersects
eight Counters per pair in Python. ``ChrfIndex`` extracts each candidate's n-grams
once and stores them as an inverted index, so one hypothesis is matched against the
whole pool with a few numpy calls; ``ChrfIndex.pairwise`` scores the pool against
itself without extracting anything again.

chrF++ is written here from its definition (Popović 2015, 2017: character n-grams of
orders 1 to 6 with whitespace removed, word n-grams of orders 1 and 2, F-beta with
beta 2 over the averaged precisions and recalls), with sacrebleu's choices where the
definition leaves room: punctuation split off a word's end or start, and the average
taken over the orders both sentences have ("effective order"). Only public names of
sacrebleu are used, and only by the tests and the benchmark, which check that the scores
are bit-identical to
``sacrebleu.metrics.CHRF(word_order=2).sentence_score(hypothesis, [candidate]).score``:
n-gram counts are integers (exact in any order), and the floating-point F-score
arithmetic repeats sacrebleu's operations in sacrebleu's order, element-wise.
"""

from __future__ import annotations

import string
from collections import Counter
from itertools import chain, count, repeat
from typing import TYPE_CHECKING, NamedTuple

import numpy as np


if TYPE_CHECKING:
    from collections.abc import Sequence


CHAR_ORDER = 6
WORD_ORDER = 2
BETA = 2
_ORDERS = CHAR_ORDER + WORD_ORDER
_FACTOR = BETA**2
_PUNCTUATION = frozenset(string.punctuation)  # ASCII only, as in sacrebleu
_NO_INTS = np.zeros(0, dtype=np.int64)


def _words(sentence: str) -> list[str]:
    """The sentence's words, a punctuation mark split off the end of a word longer than one character, else off
    its start: chrF++'s tokenisation ('(hi)' gives '(hi' and ')', as in sacrebleu).
    """
    words: list[str] = []
    for word in sentence.split():
        if len(word) > 1 and word[-1] in _PUNCTUATION:
            words += [word[:-1], word[-1]]
        elif len(word) > 1 and word[0] in _PUNCTUATION:
            words += [word[0], word[1:]]
        else:
            words.append(word)
    return words


def _ngram_counters(sentence: str) -> list[Counter]:
    """One Counter per order: character n-grams 1..6 of the sentence without whitespace, then word n-grams 1..2."""
    characters = "".join(sentence.split())
    words = _words(sentence)
    return [
        *(Counter(characters[i:i + n] for i in range(len(characters) - n + 1)) for n in range(1, CHAR_ORDER + 1)),
        *(Counter(" ".join(words[i:i + n]) for i in range(len(words) - n + 1)) for n in range(1, WORD_ORDER + 1)),
    ]


class _Sentence(NamedTuple):
    """A sentence's n-gram statistics in index terms: the n-grams the pool knows, as columns."""

    totals: np.ndarray
    columns: np.ndarray
    counts: np.ndarray


class ChrfIndex:
    """chrF++ scorer for many hypotheses against one fixed pool of candidate references.

    Every distinct (order, n-gram) of the pool is a column; for each column the index
    keeps which candidates hold it and how often (CSC-like ``indptr``/postings arrays),
    so matching a hypothesis touches only the candidates sharing its n-grams.
    """

    def __init__(self, candidates: Sequence[str]) -> None:
        self._n = len(candidates)
        extracted = [_ngram_counters(sentence) for sentence in candidates]
        self._vocab: list[dict[str, int]] = []
        n_columns = 0
        for order in range(_ORDERS):
            ngrams = dict.fromkeys(chain.from_iterable(counters[order] for counters in extracted))
            self._vocab.append(dict(zip(ngrams, count(n_columns))))
            n_columns += len(ngrams)
        column_orders = np.repeat(np.arange(_ORDERS), [len(vocab) for vocab in self._vocab])
        self._pool = [self._sentence(counters) for counters in extracted]
        self._ref_totals = np.array([sentence.totals for sentence in self._pool], dtype=np.int64).reshape(-1, _ORDERS).T
        columns = np.concatenate([_NO_INTS, *(sentence.columns for sentence in self._pool)])
        counts = np.concatenate([_NO_INTS, *(sentence.counts for sentence in self._pool)])
        candidate = np.repeat(np.arange(self._n), [len(sentence.columns) for sentence in self._pool])
        by_column = np.argsort(columns, kind="stable")
        self._indptr = np.zeros(n_columns + 1, dtype=np.int64)
        np.cumsum(np.bincount(columns, minlength=n_columns), out=self._indptr[1:])
        self._bins = (column_orders[columns] * self._n + candidate)[by_column]
        self._counts = counts[by_column]

    def __len__(self) -> int:
        return self._n

    def scores(self, hypothesis: str) -> np.ndarray:
        """chrF++ of ``hypothesis`` against every candidate (candidate = reference), as float64."""
        sentence = self._sentence(_ngram_counters(hypothesis))
        return _f_scores(sentence.totals[:, None], self._ref_totals, self._matches(sentence))

    def pairwise(self) -> np.ndarray:
        """Every candidate as hypothesis (row) against every candidate (column), as float64.

        Reuses the pool's own statistics and computes all F-scores in one vectorised pass.
        """
        matches = np.array([self._matches(sentence) for sentence in self._pool]).reshape(self._n, _ORDERS, self._n)
        return _f_scores(self._ref_totals[:, :, None], self._ref_totals[:, None, :], matches.transpose(1, 0, 2))

    def _sentence(self, counters: list[Counter]) -> _Sentence:
        """Map a sentence's Counters onto the index columns, dropping n-grams no candidate has."""
        columns: list[int] = []
        counts: list[int] = []
        for vocab, counter in zip(self._vocab, counters, strict=False):
            columns.extend(map(vocab.get, counter, repeat(-1)))
            counts.extend(counter.values())
        columns_arr = np.array(columns, dtype=np.int64)
        known = columns_arr >= 0
        totals = np.array([sum(counter.values()) for counter in counters], dtype=np.int64)
        return _Sentence(totals, columns_arr[known], np.array(counts, dtype=np.int64)[known])

    def _matches(self, sentence: _Sentence) -> np.ndarray:
        """Clipped match counts, shape (orders, candidates), gathered from the sentence's columns' postings."""
        starts = self._indptr[sentence.columns]
        lengths = self._indptr[sentence.columns + 1] - starts
        ends = np.cumsum(lengths)
        postings = np.repeat(starts - (ends - lengths), lengths) + np.arange(lengths.sum())
        clipped = np.minimum(self._counts[postings], np.repeat(sentence.counts, lengths))
        matches = np.bincount(self._bins[postings], weights=clipped, minlength=_ORDERS * self._n)
        return matches.reshape(_ORDERS, self._n)


def _f_scores(hyp_totals: np.ndarray, ref_totals: np.ndarray, matches: np.ndarray) -> np.ndarray:
    """The chrF++ F-score from per-order statistics (effective-order average), vectorised over pairs.

    Axis 0 of every argument is the n-gram order; the other axes broadcast to the
    pairs. An order counts only if both sides have n-grams of it. Precisions and
    recalls are summed order by order from 0.0, like sacrebleu's loop; adding 0.0 for
    an order that does not count leaves a non-negative sum unchanged, so the sums
    match bit for bit. The remaining products and quotients keep sacrebleu's operand
    order. Counts are small integers, exact in float64.
    """
    valid = (hyp_totals > 0) & (ref_totals > 0)
    precision = np.divide(matches, hyp_totals, out=np.zeros(matches.shape), where=valid)
    recall = np.divide(matches, ref_totals, out=np.zeros(matches.shape), where=valid)
    sum_precision = np.zeros(matches.shape[1:])
    sum_recall = np.zeros(matches.shape[1:])
    for order in range(_ORDERS):
        sum_precision += precision[order]
        sum_recall += recall[order]
    effective_order = valid.sum(axis=0)
    counted = effective_order > 0
    avg_precision = np.divide(sum_precision, effective_order, out=np.zeros(counted.shape), where=counted)
    avg_recall = np.divide(sum_recall, effective_order, out=np.zeros(counted.shape), where=counted)
    numerator = (1 + _FACTOR) * avg_precision * avg_recall
    nonzero = (avg_precision + avg_recall) != 0
    score = np.divide(numerator, _FACTOR * avg_precision + avg_recall, out=np.zeros(counted.shape), where=nonzero)
    return 100 * score


def chrf_scores(hypothesis: str, candidates: Sequence[str]) -> np.ndarray:
    """chrF++ of ``hypothesis`` against each candidate; build a ``ChrfIndex`` to reuse a pool."""
    return ChrfIndex(candidates).scores(hypothesis)
