"""The test the sampling tests share: do two backends' responses follow one distribution?

Chi-square on the responses' first words (words seen fewer than 10 times pooled into one cell). A sampled test
fails by chance in one run out of 1000 (FALSE_ALARM) when the two backends do agree; seeded runs make a given
environment give the same verdict every time.
"""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING

from scipy.stats import chi2_contingency


if TYPE_CHECKING:
    from collections.abc import Iterable


FALSE_ALARM = 0.001


def first_word(text: str) -> str:
    words = text.split()
    return words[0] if words else "<empty>"


def first_word_test(expected_texts: Iterable[str], observed_texts: Iterable[str]) -> tuple[float, list[list[int]]]:
    """The p-value that both sets of responses come from one distribution of first words, and its table."""
    expected, observed = Counter(map(first_word, expected_texts)), Counter(map(first_word, observed_texts))
    frequent = [w for w in expected | observed if expected[w] + observed[w] >= 10]
    table = [[expected[w] for w in frequent] + [sum(expected.values()) - sum(expected[w] for w in frequent)],
             [observed[w] for w in frequent] + [sum(observed.values()) - sum(observed[w] for w in frequent)]]
    # the tiny model samples several first words: the test has something to compare
    assert len(frequent) >= 2, table
    return float(chi2_contingency(table).pvalue), table
