"""The hf-prefix backend returns what `hf` returns: the same greedy responses, the same sampling distribution,
stop sequences and token limits per sequence, responses in request order, through lm-eval's API. Its command line,
`wvs-lm-eval run --model hf-prefix`, is the main job's (tests/test_main_job.py).
"""

from __future__ import annotations

import pytest
import torch
from distributions import FALSE_ALARM, first_word_test
from lm_eval.api.instance import Instance
from lm_eval.api.registry import get_model

import culture_metrics.backends  # noqa: F401  (registers hf-prefix)


@pytest.fixture(scope="module")
def backends(tiny_model):
    """Both backends as lm-eval builds them; batches of 64 (hf draws the 300 samples in 5 calls, not 300)."""
    args = {"pretrained": str(tiny_model), "dtype": "float32", "batch_size": 64, "device": "cpu"}
    return get_model("hf").create_from_arg_obj(args), get_model("hf-prefix").create_from_arg_obj(args)


def requests(prompts: list[str], repeats: int, **gen_kwargs) -> list[Instance]:
    """What lm-eval hands a backend for a sampled task: each request cloned `repeats` times, in task order."""
    kwargs = {"until": ["\nQ:", "\nOptions:"], "max_gen_toks": 16, **gen_kwargs}
    made = [Instance("generate_until", {}, (prompt, dict(kwargs)), idx=0) for prompt in prompts]
    return [request for request in made for _ in range(repeats)]


PROMPTS = [
    "Family is _ in my life\nOptions: important / not important\nAnswer:",
    'Fill in the blank (_) with one of the two options: "agree" or "disagree".\n\nQ: I _ that work is a duty A:',
    "Q: Religion is _ in my life A:",
]


def test_greedy_responses_equal_hf(backends):
    hf, prefix = backends
    batch = requests(PROMPTS, 3, do_sample=False, temperature=0.0)
    expected = hf.generate_until(batch)
    assert prefix.generate_until(batch) == expected
    assert len(set(expected[:3])) == 1  # greedy: the repeats of one prompt agree


def test_responses_stop_on_their_own_and_keep_the_request_order(backends, tiny_model):
    """Mixed prompt lengths, interleaved: each response answers its own prompt, cut at a stop string or the limit."""
    _, prefix = backends
    interleaved = [r for pair in zip(requests(PROMPTS[:2], 4, do_sample=True, temperature=1.0)[::4],
                                     requests(PROMPTS[1:], 4, do_sample=True, temperature=1.0)[::4], strict=True)
                   for r in pair] * 3
    torch.manual_seed(0)
    out = prefix.generate_until(interleaved)
    assert len(out) == len(interleaved)
    for text in out:
        assert "\nQ:" not in text and "\nOptions:" not in text
        assert len(prefix.tok_encode(text, add_special_tokens=False)) <= 16 + 1
    greedy = requests(PROMPTS, 1, do_sample=False, temperature=0.0)
    reordered = [greedy[2], greedy[0], greedy[1], greedy[0]]
    single = {r.args[0]: prefix.generate_until([r])[0] for r in greedy}
    assert prefix.generate_until(reordered) == [single[r.args[0]] for r in reordered]


def test_sampled_responses_follow_hfs_distribution(backends):
    """Chi-square test of the first words of 300 samples from each backend, one prompt, temperature 1."""
    hf, prefix = backends
    batch = requests([PROMPTS[0]], 300, do_sample=True, temperature=1.0)
    torch.manual_seed(1)
    expected = hf.generate_until(batch)
    torch.manual_seed(2)
    pvalue, table = first_word_test(expected, prefix.generate_until(batch))
    assert pvalue > FALSE_ALARM, table
