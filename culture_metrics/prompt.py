"""The one prompt format: a probe, its two options in a seeded per-document order, and the answer slot.

    <sentence with _>
    Options: <first> / <second>
    Answer:

A demonstration is the same block followed by " <answer>". Option order is drawn per document from the seed, so
a model's preference for the first (or second) option cannot pass for alignment.
"""

from __future__ import annotations

import random
from collections.abc import Mapping

DEFAULT_SEED = 1234


def option_order(doc: Mapping, seed: int | None) -> tuple[str, str]:
    """The doc's options in the order the prompt shows them; the same for a seed in every process."""
    rng = random.Random(f"{DEFAULT_SEED if seed is None else seed}:{doc['language']}:{doc['id']}")
    first, second = doc["option_a"], doc["option_b"]
    return (second, first) if rng.random() < 0.5 else (first, second)


def probe_text(doc: Mapping, seed: int | None) -> str:
    first, second = option_order(doc, seed)
    return f"{doc['template']}\nOptions: {first} / {second}\nAnswer:"
