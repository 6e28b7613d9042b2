"""The exact null "the demonstrations change nothing" for one probe: what sampling noise alone gives.

With k of a probe's responses correct over two draws of `first` and `second` responses, exchangeable under the null,
the number correct in the first draw is hypergeometric. Everything here is a ratio of integer sums of
comb(k, x) * comb(n - k, first - x), exact for the draw sizes a task has (10 + 10). Definitions and derivation:
culture_metrics/metrics.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from math import comb


SIGNIFICANCE = 0.05


@dataclass(frozen=True)
class Null:
    """One probe's null: k correct responses over a first draw of `first` and a second of `second`."""

    k: int
    first: int
    second: int

    def weights(self) -> dict[int, int]:
        """For each x the first draw can hold of the k correct responses, the number of ways it holds x."""
        n = self.first + self.second
        low, high = max(0, self.k - self.second), min(self.k, self.first)
        return {x: comb(self.k, x) * comb(n - self.k, self.first - x) for x in range(low, high + 1)}

    def improves(self, x: int) -> bool:
        """The second draw's share correct beats the first's, with x correct in the first (compared exactly)."""
        return (self.k - x) * self.first > x * self.second

    def decreases(self, x: int) -> bool:
        return (self.k - x) * self.first < x * self.second

    def p_value(self, x: int) -> float:
        """One-sided Fisher exact test of an improvement: P(first draw correct <= x)."""
        return _p_value(self, x)

    def significant(self, x: int, alpha: float = SIGNIFICANCE) -> bool:
        return self.improves(x) and self.p_value(x) <= alpha

    def given_misaligned(self, event: str) -> float:
        """P(event | the first draw is not all correct): event is 'improves', 'decreases' or 'significant'."""
        return _given_misaligned(self, event)


# A run's probes share a handful of nulls (k correct of 10 + 10), and a report reads hundreds of runs: each figure
# is computed once per null.
@cache
def _p_value(null: Null, x: int) -> float:
    weights = null.weights()
    return sum(w for y, w in weights.items() if y <= x) / sum(weights.values())


@cache
def _given_misaligned(null: Null, event: str) -> float:
    test = getattr(null, event)
    weights = {x: w for x, w in null.weights().items() if x < null.first}
    return sum(w for x, w in weights.items() if test(x)) / sum(weights.values())
