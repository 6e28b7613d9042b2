"""End to end through the real `lm_eval` command on a tiny local model: what a user runs is what is tested."""

from __future__ import annotations

import math

import pytest

from conftest import need_shared
from culture_metrics.answers import parse_answer
from lm_eval_runs import run_lm_eval

METRIC_NAMES = ["misaligned", "improved", "unchanged", "decreased", "error_reduction", "zeroshot_alignment",
                "selfalign_alignment", "invalid_rate", "documents", "responses", "skipped"]


def figures(run, task: str) -> dict[str, float]:
    return {key.split(",")[0]: value for key, value in run.results["results"][task].items() if "," in key
            and "_stderr" not in key}


def prompts(sample: dict) -> list[str]:
    return [sample["arguments"][key]["arg_0"] for key in sorted(sample["arguments"])]


def recompute(docs_p: list[tuple[float, float]], tolerance: float) -> dict[str, float]:
    """The paper's definitions, written out again independently of culture_metrics.metrics."""
    mis = [(p0, p1) for p0, p1 in docs_p if p0 < 1 - tolerance]
    up = [(p0, p1) for p0, p1 in mis if p1 - p0 > tolerance]
    down = [(p0, p1) for p0, p1 in mis if p0 - p1 > tolerance]
    share = (lambda part: len(part) / len(mis)) if mis else (lambda part: math.nan)
    return {
        "misaligned": len(mis) / len(docs_p),
        "improved": share(up),
        "decreased": share(down),
        "unchanged": share(mis) - share(up) - share(down) if mis else math.nan,
        "error_reduction": sum((p1 - p0) / (1 - p0) for p0, p1 in up) / len(up) if up else math.nan,
        "zeroshot_alignment": sum(p0 for p0, _ in docs_p) / len(docs_p),
        "selfalign_alignment": sum(p1 for _, p1 in docs_p) / len(docs_p),
    }


def assert_same(expected: dict[str, float], reported: dict[str, float]) -> None:
    for name, value in expected.items():
        if math.isnan(value):
            assert math.isnan(reported[name]), name
        else:
            assert reported[name] == pytest.approx(value), name


def test_both_prompts_per_document_with_ten_responses_each(en_run):
    samples = en_run.samples["wvs_selfalign_en"]
    assert len(samples) == 10
    for sample in samples:
        zero, aligned = prompts(sample)
        doc = sample["doc"]
        assert zero.startswith(doc["template"] + "\nOptions: ") and zero.endswith("\nAnswer:")
        assert zero.count("Answer:") == 1 and aligned.count("Answer:") == 6
        assert aligned.endswith(zero)
        assert [len(r) for r in sample["resps"]] == [10, 10]
        assert [len(r) for r in sample["filtered_resps"]] == [10, 10]


def test_reported_metrics_equal_a_recomputation_from_the_logged_samples(en_run):
    samples = en_run.samples["wvs_selfalign_en"]
    reported = figures(en_run, "wvs_selfalign_en")
    assert set(METRIC_NAMES) <= set(reported)
    docs_p, invalid, total = [], 0, 0
    for sample in samples:
        doc = sample["doc"]
        per_prompt = []
        for responses in sample["filtered_resps"]:
            sides = [parse_answer(r, doc["option_a"], doc["option_b"], doc["template"]) for r in responses]
            answers = [None if s is None else doc[f"option_{s}"] for s in sides]
            invalid += answers.count(None)
            total += len(answers)
            per_prompt.append(sum(a == doc["answer"] for a in answers) / len(answers))
        docs_p.append(tuple(per_prompt))
        logged = sample["misaligned"]
        assert (logged["p0"], logged["p1"]) == pytest.approx(per_prompt)
    assert_same(recompute(docs_p, 0.0), reported)
    assert reported["invalid_rate"] == pytest.approx(invalid / total)
    assert reported["documents"] == 10 and reported["responses"] == 200 and reported["skipped"] == 1
    assert 0 < invalid < total  # the tiny model gives both valid and invalid answers: the parser is exercised


def test_no_probe_is_among_its_own_demonstrations(en_run):
    for sample in en_run.samples["wvs_selfalign_en"]:
        _, aligned = prompts(sample)
        demos = aligned.split("\n\n")[:-1]
        assert len(demos) == 5
        for demo in demos:
            assert not demo.startswith(sample["doc"]["template"] + "\n")
            assert demo.rsplit("Answer: ", 1)[1] in demo.split("\n")[1]  # the demo's answer is one of its options


def test_results_record_the_country_and_dataset(en_run):
    metadata = en_run.results["configs"]["wvs_selfalign_en"]["metadata"]
    assert metadata["country"] == "USA" and metadata["language"] == "en"
    assert len(metadata["dataset_fingerprint"]) == 16


def test_same_seed_same_prompts_and_metrics_in_a_new_process(en_run, tiny_model, tmp_path):
    again = run_lm_eval(tmp_path, tiny_model, "wvs_selfalign_en", "--limit", "10")
    first, second = en_run.samples["wvs_selfalign_en"], again.samples["wvs_selfalign_en"]
    assert [prompts(s) for s in first] == [prompts(s) for s in second]
    assert [s["resps"] for s in first] == [s["resps"] for s in second]
    assert figures(en_run, "wvs_selfalign_en") == pytest.approx(figures(again, "wvs_selfalign_en"), nan_ok=True)


def test_another_seed_changes_option_orders(en_run, tiny_model, tmp_path):
    other = run_lm_eval(tmp_path, tiny_model, "wvs_selfalign_en", "--limit", "10", "--seed", "0,1234,1234,99")
    options = lambda run: [prompts(s)[0].split("\n")[1] for s in run.samples["wvs_selfalign_en"]]  # noqa: E731
    assert options(en_run) != options(other)


def test_logprob_variant_reads_the_option_likelihoods(en_logprob_run):
    samples = en_logprob_run.samples["wvs_selfalign_en_logprob"]
    docs_p = []
    for sample in samples:
        doc = sample["doc"]
        args = [sample["arguments"][k] for k in sorted(sample["arguments"])]
        assert [a["arg_1"] for a in args] == [" " + doc["option_a"], " " + doc["option_b"]] * 2
        lls = [float(r[0][0]) for r in sample["resps"]]
        per_prompt = []
        for ll_a, ll_b in (lls[:2], lls[2:]):
            p_a = math.exp(ll_a) / (math.exp(ll_a) + math.exp(ll_b))
            per_prompt.append(p_a if doc["answer"] == doc["option_a"] else 1 - p_a)
        docs_p.append(tuple(per_prompt))
    reported = figures(en_logprob_run, "wvs_selfalign_en_logprob")
    assert_same(recompute(docs_p, 0.01), reported)
    assert reported["invalid_rate"] == 0 and reported["responses"] == 40


def test_chat_template_keeps_the_whole_prompt_in_one_user_turn(tiny_model, tmp_path):
    need_shared()
    run = run_lm_eval(tmp_path, tiny_model, "wvs_selfalign_en", "--limit", "2", "--apply_chat_template")
    for sample in run.samples["wvs_selfalign_en"]:
        zero, aligned = prompts(sample)
        for prompt in (zero, aligned):
            assert prompt.count("<|user|>") == 1 and prompt.count("<|assistant|>") == 1
            assert prompt.endswith("Answer:<|end|>\n<|assistant|>")
        assert aligned.count("Answer:") == 6
