"""The request plan, the scoring by role and the variant's checks, against scripted results: no lm-eval, no model."""

from __future__ import annotations

import pytest

from culture_metrics import plan, scoring, task_names
from culture_metrics.generation import samples
from culture_metrics.plan import PLACEBO, SELFALIGN, ZEROSHOT, Slot
from culture_metrics.variant import Variant, VariantError


DOC = {"id": "Q1", "question": 1, "country": "USA", "template": "Family is _ important in my life.", "option_a": "very", "option_b": "not",
       "answer": "very", "share_a": 0.9}
REPEATS = 10


def layout(logprob: bool = False, **flags) -> tuple[Slot, ...]:
    return plan.layout(Variant("en", **flags), logprob=logprob, repeats=REPEATS)


@pytest.mark.parametrize(("flags", "logprob", "expected"), [
    ({}, False, [(ZEROSHOT, 10, 0), (SELFALIGN, 10, 0)]),
    ({"placebo": True}, False, [(ZEROSHOT, 10, 0), (SELFALIGN, 10, 0), (PLACEBO, 10, 0)]),
    ({"reshuffle": True}, False, [(ZEROSHOT, 10, 0)] + [(SELFALIGN, 1, d) for d in range(10)]),
    ({"reshuffle": True, "placebo": True}, False,
     [(ZEROSHOT, 10, 0)] + [(SELFALIGN, 1, d) for d in range(10)] + [(PLACEBO, 10, 0)]),
    ({"persona": True, "explain": True}, False, [(ZEROSHOT, 10, 0), (SELFALIGN, 10, 0)]),
    ({"reshuffle": True, "placebo": True}, True, [(ZEROSHOT, 1, 0)] * 2 + [(SELFALIGN, 1, 0)] * 2),
])
def test_each_variant_has_its_layout(flags, logprob, expected):
    """Roles, samples per request and draws, in request order; log-likelihoods sample nothing to draw again."""
    assert [(s.role, s.samples, s.draw) for s in layout(logprob, **flags)] == expected


def test_log_likelihoods_score_both_options_after_both_prompts():
    slots = layout(logprob=True)
    requests = plan.requests(DOC, slots, "zero", ["aligned"], delimiter=" ")
    assert [(r.slot.role, r.prompt, r.continuation) for r in requests] == [
        (ZEROSHOT, "zero", " very"), (ZEROSHOT, "zero", " not"),
        (SELFALIGN, "aligned", " very"), (SELFALIGN, "aligned", " not")]


def test_reshuffled_draws_each_ask_their_own_prompt():
    slots = layout(reshuffle=True)
    assert plan.draws(slots) == REPEATS and plan.draws(layout()) == 1
    draws = [f"aligned {d}" for d in range(REPEATS)]
    requests = plan.requests(DOC, slots, "zero", draws)
    assert [r.prompt for r in requests] == ["zero", *draws]
    assert all(r.continuation is None for r in requests)


def test_the_placebo_is_its_own_request_of_the_zero_shot_prompt():
    """Same prompt as the zero-shot request, its own position (so its own samples on a seeded backend)."""
    slots = layout(placebo=True)
    requests = plan.requests(DOC, slots, "zero", ["aligned"])
    assert [r.prompt for r in requests] == ["zero", "aligned", "zero"]
    assert (requests[0].slot, requests[2].slot) == (Slot(ZEROSHOT, REPEATS), Slot(PLACEBO, REPEATS))


def test_results_are_read_by_role():
    slots = layout(reshuffle=True, placebo=True)
    results = [["z"] * 10, *[[f"s{d}"] for d in range(10)], ["p"] * 10]
    named = plan.responses(slots, results)
    assert named == {ZEROSHOT: ["z"] * 10, SELFALIGN: [f"s{d}" for d in range(10)], PLACEBO: ["p"] * 10}
    assert plan.responses(layout(), [["z"], ["s"]])[PLACEBO] == []
    with pytest.raises(ValueError, match="zip"):
        plan.responses(slots, results[:-1])


def test_a_sampled_record_scores_each_role_from_its_own_responses():
    """Zero-shot all wrong, self-aligned all right, placebo half: a record that mixed them up would show it."""
    slots = layout(placebo=True)
    results = [["not"] * 10, ["very"] * 10, ["very", "not"] * 5]
    record = scoring.sampled_record(DOC, slots, results, skipped=3, demonstrations=["d"], distinct=[1, 1, 2],
                                    collapse="paper")
    assert (record["p0"], record["p1"]) == (0.0, 1.0)
    assert record["zeroshot"] == ["not"] * 10 and record["selfalign"] == ["very"] * 10
    assert record["placebo"] == ["very", "not"] * 5
    assert (record["q0"], record["q1"], record["responses"], record["skipped"]) == (0.0, 1.0, 30, 3)


def test_invalid_responses_count_against_agreement_but_not_the_option_share():
    record = scoring.sampled_record(DOC, layout(), [["???"] * 10, ["very"] * 5 + ["maybe"] * 5], skipped=0,
                                    demonstrations=[], distinct=[], collapse="paper")
    assert record["zeroshot"] == [None] * 10 and record["q0"] is None and record["p0"] == 0.0
    assert (record["p1"], record["q1"]) == (0.5, 1.0)


def test_a_logprob_record_reads_each_option_by_name():
    """Zero-shot prefers option_b by e (q0 = 1/(1+e)); self-aligned prefers option_a by as much."""
    results = [(-2.0, False), (-1.0, False), (-1.0, False), (-2.0, False)]
    record = scoring.logprob_record(DOC, layout(logprob=True), results, skipped=0, demonstrations=[],
                                    collapse="paper")
    assert record["q0"] == pytest.approx(0.2689414) and record["q1"] == pytest.approx(0.7310586)
    assert (record["p0"], record["p1"]) == (record["q0"], record["q1"]) and record["responses"] == 4


@pytest.mark.parametrize(("metadata", "message"), [
    ({"language": "en", "format": "html"}, "unknown prompt format 'html'; known: paper options"),
    ({"language": "en", "reshufle": True}, "unknown metadata key 'reshufle'; did you mean 'reshuffle'"),
    ({"language": "en", "placebo": "yes"}, "metadata placebo: 'yes' is not a bool"),
    ({"language": "en", "country": 7}, "metadata country: 7 is not a str"),
    ({"language": "en", "collapse": "drop"}, "unknown collapse rule 'drop'; known: paper drop_middle"),
    ({"language": "xx"}, "unknown language 'xx'"),
    ({"format": "paper"}, "metadata has no language"),
])
def test_a_wrong_setting_fails_clearly(metadata, message):
    with pytest.raises(VariantError, match=message):
        Variant.from_metadata(metadata)


def test_the_variant_reads_its_settings_and_lets_lm_evals_own_through():
    """lm-eval adds its version and the --model_args (pretrained, ...) to every task's metadata."""
    variant = Variant.from_metadata({"version": 2.0, "language": "ur", "placebo": True, "country": "PAK",
                                     "dataset": "", "pretrained": "/models/x", "dtype": "float32"})
    assert variant == Variant("ur", placebo=True, country="PAK")
    assert (variant.format, variant.collapse, variant.dataset) == ("paper", "paper", None)


@pytest.mark.parametrize(("name", "language", "variant", "strategy"), [
    ("wvs_selfalign_en", "en", "", "chrf"),
    ("wvs_selfalign_ro_random_cat", "ro", "random_cat", "random_cat"),
    ("wvs_selfalign_en_persona_chrf", "en", "persona_chrf", "persona_chrf"),
])
def test_task_names_parse_and_print_back(name, language, variant, strategy):
    parsed = task_names.parse(name)
    assert (parsed.language, parsed.variant, parsed.strategy, str(parsed)) == (language, variant, strategy, name)


@pytest.mark.parametrize("name", ["hellaswag", "wvs_selfalign", "wvs_selfalign_"])
def test_other_task_names_are_refused(name):
    with pytest.raises(task_names.TaskNameError, match="is not a wvs_selfalign task"):
        task_names.parse(name)
    assert task_names.strategy_of(name) == name


@pytest.mark.parametrize(("settings", "sampling"), [
    ({"do_sample": True, "temperature": 1.0}, True),
    ({"temperature": 0.6}, True),
    ({"do_sample": True}, False),
    ({"do_sample": False, "temperature": 1.0}, False),
    ({"do_sample": True, "temperature": 0.0}, False),
    ({"temperature": None}, False),
])
def test_settings_sample_only_with_a_temperature_above_zero(settings, sampling):
    assert samples(settings) is sampling
