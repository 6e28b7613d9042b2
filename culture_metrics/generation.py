"""Generation settings: whether they sample, and the temperature a model samples at when it sets none."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any


if TYPE_CHECKING:
    from collections.abc import Mapping


SAMPLING_DEFAULT = 1.0  # what transformers, vLLM and the OpenAI API sample at when a model sets nothing


def samples(gen_kwargs: Mapping[str, Any]) -> bool:
    """Whether generation settings sample; as in lm-eval's `hf`, a missing temperature means greedy."""
    return bool(gen_kwargs.get("do_sample", True)) and float(gen_kwargs.get("temperature", 0.0) or 0.0) > 0
