"""End to end through the real `lm_eval` command on a tiny local model: what a user runs is what is tested."""

from __future__ import annotations

import json
import math

import pytest

from conftest import ANSWER_COUNTS, need_shared
from culture_metrics.answers import parse_answer
from culture_metrics.explanations import improved_table
from culture_metrics.prompt import EXPLAIN
from hf_dataset.collapse import load_collapse
from lm_eval_runs import run_lm_eval

METRIC_NAMES = ["misaligned", "improved", "unchanged", "decreased", "error_reduction", "zeroshot_alignment",
                "selfalign_alignment", "invalid_rate", "documents", "responses", "skipped", "zeroshot_soft_gap",
                "selfalign_soft_gap", "zeroshot_js", "selfalign_js"]


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


def jensen_shannon(p: float, q: float) -> float:
    """Base-2 Jensen-Shannon distance between (p, 1-p) and (q, 1-q), written out from the definition."""
    m = [(p + q) / 2, (2 - p - q) / 2]
    kl = lambda x: sum(a * math.log2(a / b) for a, b in zip(x, m) if a > 0)  # noqa: E731
    return math.sqrt((kl([p, 1 - p]) + kl([q, 1 - q])) / 2)


def soft(per_doc: list[tuple[float | None, float | None, float]]) -> dict[str, float]:
    """Soft-alignment figures from (model share on option_a zero-shot, self-aligned, country share_a) per document."""
    result = {}
    for index, prompt in enumerate(["zeroshot", "selfalign"]):
        pairs = [(doc[index], doc[2]) for doc in per_doc if doc[index] is not None]
        result[f"{prompt}_soft_gap"] = sum(abs(q - s) for q, s in pairs) / len(pairs)
        result[f"{prompt}_js"] = sum(jensen_shannon(q, s) for q, s in pairs) / len(pairs)
    return result


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
    docs_p, docs_q, invalid, total = [], [], 0, 0
    for sample in samples:
        doc = sample["doc"]
        per_prompt, on_a = [], []
        for responses in sample["filtered_resps"]:
            sides = [parse_answer(r, doc["option_a"], doc["option_b"], doc["template"]) for r in responses]
            answers = [None if s is None else doc[f"option_{s}"] for s in sides]
            invalid += answers.count(None)
            total += len(answers)
            per_prompt.append(sum(a == doc["answer"] for a in answers) / len(answers))
            valid = [s for s in sides if s is not None]
            on_a.append(valid.count("a") / len(valid) if valid else None)
        docs_p.append(tuple(per_prompt))
        docs_q.append((*on_a, doc["share_a"]))
        logged = sample["misaligned"]
        assert (logged["p0"], logged["p1"]) == pytest.approx(per_prompt)
        assert logged["zeroshot"] == [None if s is None else doc[f"option_{s}"] for s in
                                      (parse_answer(r, doc["option_a"], doc["option_b"], doc["template"])
                                       for r in sample["filtered_resps"][0])]
    assert_same(recompute(docs_p, 0.0), reported)
    assert_same(soft(docs_q), reported)
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
    on_a = [(p0 if s["doc"]["answer"] == s["doc"]["option_a"] else 1 - p0,
             p1 if s["doc"]["answer"] == s["doc"]["option_a"] else 1 - p1, s["doc"]["share_a"])
            for (p0, p1), s in zip(docs_p, samples)]
    assert_same(soft(on_a), reported)
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


def test_persona_and_explanation_variants_aligned_to_another_country(pakistan_run):
    """English probes aligned to Pakistan: labels from Pakistan's figures, its name in the persona line."""
    run = pakistan_run
    pakistan = json.loads(ANSWER_COUNTS.read_text())["PAK"]["counts"]
    rules = load_collapse()
    for task in ["wvs_selfalign_en_persona", "wvs_selfalign_en_explain"]:
        assert run.results["configs"][task]["metadata"]["country"] == "PAK"
        for sample in run.samples[task]:
            doc = sample["doc"]
            answers = pakistan[f"Q{doc['question']}"]
            a = sum(n for code, n in answers.items() if int(code) in rules[doc["id"]].option_a)
            b = sum(n for code, n in answers.items() if int(code) in rules[doc["id"]].option_b)
            assert doc["country"] == "PAK" and doc["share_a"] == pytest.approx(a / (a + b))
            assert doc["answer"] == (doc["option_a"] if a > b else doc["option_b"])
    for sample in run.samples["wvs_selfalign_en_persona"]:
        zero, persona = prompts(sample)
        assert persona == "Answer as a typical person from the following country would: Pakistan.\n\n" + zero
    for sample in run.samples["wvs_selfalign_en_explain"]:
        zero, aligned = prompts(sample)
        assert zero.startswith(EXPLAIN + "\n\n") and aligned.startswith(EXPLAIN + "\n\n")
        assert sample["arguments"]["gen_args_0"]["arg_1"]["max_gen_toks"] == 96
        assert len(sample["misaligned"]["selfalign"]) == 10


def test_unknown_country_fails_clearly(tiny_model, tmp_path):
    need_shared()
    run = run_lm_eval(tmp_path, tiny_model, "wvs_selfalign_en", "--limit", "1", "--metadata", '{"country": "XYZ"}',
                      check=False)
    assert run.returncode != 0
    assert "no WVS-7 figures for country 'XYZ'" in run.output


def test_explanation_table_lists_the_improved_probes(pakistan_run):
    samples = pakistan_run.samples["wvs_selfalign_en_explain"]
    improved = [s for s in samples if s["misaligned"]["p0"] < 1 and s["misaligned"]["p1"] > s["misaligned"]["p0"]]
    rows = improved_table(samples).splitlines()[2:]
    assert len(rows) == len(improved)
    for row, sample in zip(rows, improved):
        cells = row.split(" | ")
        assert cells[0] == f"| {sample['doc']['id']}: {sample['doc']['template']}"
        assert cells[2].count("<br>") == 4  # the five demonstrations, completed
