"""End to end through lm-eval on a tiny local model: `lm_eval run` carried out in-process (tests/lm_eval_runs.py),
and once as the real command, which must give the same prompts, responses and figures.
"""

from __future__ import annotations

import json
import math

import pytest
from conftest import ANSWER_COUNTS, need_shared
from lm_eval_runs import run_lm_eval, run_lm_eval_cli

from culture_metrics.answers import parse_answer
from culture_metrics.prompt import EXPLAIN, INSTRUCTION
from culture_metrics.reporting.explanations import improved_table
from culture_metrics.task import UNEQUAL_COUNTS
from hf_dataset.collapse import load_collapse


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
    share = (lambda part: len(part) / len(mis)) if mis else (lambda part: None)
    return {
        "misaligned": len(mis) / len(docs_p),
        "improved": share(up),
        "decreased": share(down),
        "unchanged": share(mis) - share(up) - share(down) if mis else None,
        "error_reduction": sum((p1 - p0) / (1 - p0) for p0, p1 in up) / len(up) if up else None,
        "zeroshot_alignment": sum(p0 for p0, _ in docs_p) / len(docs_p),
        "selfalign_alignment": sum(p1 for _, p1 in docs_p) / len(docs_p),
    }


def jensen_shannon(p: float, q: float) -> float:
    """Base-2 Jensen-Shannon distance between (p, 1-p) and (q, 1-q), written out from the definition."""
    m = [(p + q) / 2, (2 - p - q) / 2]
    kl = lambda x: sum(a * math.log2(a / b) for a, b in zip(x, m, strict=False) if a > 0)
    return math.sqrt((kl([p, 1 - p]) + kl([q, 1 - q])) / 2)


def soft(per_doc: list[tuple[float | None, float | None, float]]) -> dict[str, float]:
    """Soft-alignment figures from (model share on option_a zero-shot, self-aligned, country share_a) per document."""
    result = {}
    for index, prompt in enumerate(["zeroshot", "selfalign"]):
        pairs = [(doc[index], doc[2]) for doc in per_doc if doc[index] is not None]
        result[f"{prompt}_soft_gap"] = sum(abs(q - s) for q, s in pairs) / len(pairs)
        result[f"{prompt}_js"] = sum(jensen_shannon(q, s) for q, s in pairs) / len(pairs)
    return result


def assert_same(expected: dict[str, float | None], reported: dict[str, float]) -> None:
    """Equal figures; a share with nothing to be a share of (None) is absent from the results, never NaN."""
    for name, value in expected.items():
        if value is None:
            assert name not in reported, name
        else:
            assert reported[name] == pytest.approx(value), name


def instruction_of(doc: dict, prompt: str) -> str:
    """The paper-format instruction the prompt opens with, checked against the language's wording."""
    line = prompt.split("\n\n", 1)[0]
    opening = INSTRUCTION[doc["language"]].split("{first}")[0]
    assert line.startswith(opening), line
    return line


def test_both_prompts_per_document_with_ten_responses_each(en_run):
    """The default paper format: instruction, completed statements, then Q: ... A:."""
    samples = en_run.samples["wvs_selfalign_en"]
    assert len(samples) == 10
    for sample in samples:
        zero, aligned = prompts(sample)
        doc = sample["doc"]
        opening = instruction_of(doc, zero) + "\n\n"
        assert f'"{doc["option_a"]}"' in opening and f'"{doc["option_b"]}"' in opening
        assert zero == opening + f"Q: {doc['template']} A:"
        statements = aligned.removeprefix(opening).removesuffix(f"Q: {doc['template']} A:").splitlines()
        assert statements == sample["documents"]["demonstrations"] and len(statements) == 5
        assert [len(r) for r in sample["resps"]] == [10, 10]
        assert [len(r) for r in sample["filtered_resps"]] == [10, 10]


def test_a_response_that_starts_with_a_newline_is_read_from_its_first_visible_line(en_run):
    """Leading newlines never end a response: the filter reads the first non-empty line; the raw one is kept."""
    starts_on_new_line = 0
    for sample in en_run.samples["wvs_selfalign_en"]:
        for raw, kept in zip(sample["resps"], sample["filtered_resps"], strict=False):
            for response, filtered in zip(raw, kept, strict=False):
                lines = [line.strip() for line in response.splitlines() if line.strip()]
                assert filtered == (lines[0] if lines else "")
                starts_on_new_line += response.startswith("\n") and bool(lines)
    assert starts_on_new_line > 0  # the tiny model was taught to do this a third of the time


def test_reported_metrics_equal_a_recomputation_from_the_logged_samples(en_run):
    samples = en_run.samples["wvs_selfalign_en"]
    reported = figures(en_run, "wvs_selfalign_en")
    assert set(METRIC_NAMES) <= set(reported)
    docs_p, docs_q, invalid, total = [], [], [0, 0], [0, 0]
    for sample in samples:
        doc = sample["doc"]
        per_prompt, on_a = [], []
        for prompt, responses in enumerate(sample["filtered_resps"]):
            sides = [parse_answer(r, doc["option_a"], doc["option_b"], doc["template"]) for r in responses]
            answers = [None if s is None else doc[f"option_{s}"] for s in sides]
            invalid[prompt] += answers.count(None)
            total[prompt] += len(answers)
            per_prompt.append(sum(a == doc["answer"] for a in answers) / len(answers))
            valid = [s for s in sides if s is not None]
            on_a.append(valid.count("a") / len(valid) if valid else None)
        docs_p.append(tuple(per_prompt))
        docs_q.append((*on_a, doc["share_a"]))
        logged = sample["documents"]
        assert (logged["p0"], logged["p1"]) == pytest.approx(per_prompt)
        assert logged["zeroshot"] == [None if s is None else doc[f"option_{s}"] for s in
                                      (parse_answer(r, doc["option_a"], doc["option_b"], doc["template"])
                                       for r in sample["filtered_resps"][0])]
    assert_same(recompute(docs_p, 0.0), reported)
    assert_same(soft(docs_q), reported)
    assert reported["invalid_rate"] == pytest.approx(sum(invalid) / sum(total))
    assert reported["zeroshot_invalid_rate"] == pytest.approx(invalid[0] / total[0])
    assert reported["selfalign_invalid_rate"] == pytest.approx(invalid[1] / total[1])
    assert reported["documents"] == 10 and reported["responses"] == 200 and reported["skipped"] == 2  # Q82, Q215
    assert reported["misaligned_documents"] == sum(p0 < 1 for p0, _ in docs_p)
    assert 0 < sum(invalid) < sum(total)  # the tiny model gives both valid and invalid answers: the parser is exercised


def test_results_are_strict_json_with_counts_as_counts_and_standard_errors(en_run):
    """No NaN anywhere; shares carry lm-eval's standard error, counts carry none and are not to maximise."""
    text = next(en_run.folder.rglob("results_*.json")).read_text()
    json.loads(text, parse_constant=lambda name: pytest.fail(f"results hold {name}"))
    results = en_run.results["results"]["wvs_selfalign_en"]
    hib = en_run.results["higher_is_better"]["wvs_selfalign_en"]
    for name in ("documents", "responses", "skipped", "misaligned_documents", "improved_documents"):
        assert hib[name] is None and results[f"{name}_stderr,all_responses"] == "N/A", name
    for name in ("misaligned", "zeroshot_alignment", "selfalign_alignment", "zeroshot_invalid_rate", "improved"):
        assert isinstance(hib[name], bool) and isinstance(results[f"{name}_stderr,all_responses"], float), name


def test_each_document_is_logged_once_and_small(en_run):
    """The record is logged once, under `documents`; the other metrics log one number (or nothing) each."""
    for sample in en_run.samples["wvs_selfalign_en"]:
        assert [key for key, value in sample.items() if isinstance(value, dict) and "p0" in value] == ["documents"]
        assert len(json.dumps(sample["documents"])) < 3000


def test_no_probe_is_among_its_own_demonstrations(en_run):
    for sample in en_run.samples["wvs_selfalign_en"]:
        doc = sample["doc"]
        shown = sample["documents"]["demonstrations"]
        assert len(shown) == 5
        assert not {doc["template"].replace("_", doc[option]) for option in ("option_a", "option_b")} & set(shown)


def test_results_record_the_country_and_dataset(en_run):
    config = en_run.results["configs"]["wvs_selfalign_en"]
    assert config["provenance"]["country"] == "USA" and config["metadata"]["language"] == "en"
    assert len(config["provenance"]["dataset_fingerprint"]) == 16
    assert "country" not in config["metadata"] and "dataset_fingerprint" not in config["metadata"]


def test_same_seed_same_prompts_and_metrics_in_a_new_process(en_run, tiny_model, tmp_path):
    again = run_lm_eval_cli(tmp_path, tiny_model, "wvs_selfalign_en", "--limit", "10")
    first, second = en_run.samples["wvs_selfalign_en"], again.samples["wvs_selfalign_en"]
    assert [prompts(s) for s in first] == [prompts(s) for s in second]
    assert [s["resps"] for s in first] == [s["resps"] for s in second]
    assert figures(en_run, "wvs_selfalign_en") == pytest.approx(figures(again, "wvs_selfalign_en"), nan_ok=True)


def test_another_seed_changes_option_orders(en_run, tiny_model, tmp_path):
    other = run_lm_eval(tmp_path, tiny_model, "wvs_selfalign_en", "--limit", "10", "--seed", "0,1234,1234,99")
    options = lambda run: [prompts(s)[0].split("\n")[0] for s in run.samples["wvs_selfalign_en"]]
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
            for (p0, p1), s in zip(docs_p, samples, strict=False)]
    assert_same(soft(on_a), reported)
    assert reported["invalid_rate"] == 0 and reported["responses"] == 40


@pytest.mark.parametrize(
    ("prompt_format", "flags"),
    [("paper", ["--apply_chat_template"]), ("options", ["--apply_chat_template", "--fewshot_as_multiturn"]),
     ("options", [])],
    ids=["paper-chat", "options-chat-multiturn", "options-plain"],
)
def test_each_format_with_and_without_the_chat_template(tiny_model, tmp_path, prompt_format, flags):
    """Demonstrations stay in the one user turn; a paper instruction becomes the system turn."""
    need_shared()
    run = run_lm_eval(tmp_path, tiny_model, "wvs_selfalign_en", "--limit", "2", *flags,
                      "--metadata", json.dumps({"format": prompt_format}))
    assert run.results["configs"]["wvs_selfalign_en"]["metadata"]["format"] == prompt_format
    for sample in run.samples["wvs_selfalign_en"]:
        doc = sample["doc"]
        zero, aligned = prompts(sample)
        query = f"Q: {doc['template']} A:" if prompt_format == "paper" else f"{doc['template']}\nOptions: "
        for prompt in (zero, aligned):
            assert query in prompt
            if flags:
                assert prompt.count("<|user|>") == 1 and prompt.count("<|assistant|>") == 1
                assert prompt.endswith(("A:<|end|>\n<|assistant|>", "Answer:<|end|>\n<|assistant|>"))
                assert prompt.count("<|system|>") == (prompt_format == "paper")
        if prompt_format == "options":
            assert aligned.count("Answer:") == 6
        assert len(sample["documents"]["zeroshot"]) == len(sample["documents"]["selfalign"]) == 10


def test_shuffled_reshuffles_for_each_sample_through_lm_eval(tiny_model, tmp_path):
    """Robustness check: one zero-shot request with 10 samples, ten self-aligned prompts with one each."""
    need_shared()
    run = run_lm_eval(tmp_path, tiny_model, "wvs_selfalign_en_shuffled", "--limit", "2",
                      "--metadata", '{"collapse": "drop_middle"}')
    for sample in run.samples["wvs_selfalign_en_shuffled"]:
        all_prompts = prompts(sample)
        assert len(all_prompts) == 11 and len(set(all_prompts[1:])) > 1
        assert [len(r) for r in sample["filtered_resps"]] == [10] + [1] * 10
        assert len(sample["documents"]["selfalign"]) == 10
        assert {frozenset(p.split("\n\n", 1)[1].split("Q: ")[0].splitlines()) for p in all_prompts[1:]} == {
            frozenset(sample["documents"]["demonstrations"])}
    assert run.results["configs"]["wvs_selfalign_en_shuffled"]["metadata"]["collapse"] == "drop_middle"


def test_persona_and_explanation_variants_aligned_to_another_country(pakistan_run):
    """English probes aligned to Pakistan: labels from Pakistan's figures, its name in the persona line."""
    run = pakistan_run
    pakistan = json.loads(ANSWER_COUNTS.read_text())["PAK"]["counts"]
    rules = load_collapse()
    for task in ["wvs_selfalign_en_persona", "wvs_selfalign_en_explain"]:
        assert run.results["configs"][task]["provenance"]["country"] == "PAK"
        for sample in run.samples[task]:
            doc = sample["doc"]
            answers = pakistan[f"Q{doc['question']}"]
            a = sum(n for code, n in answers.items() if int(code) in rules[doc["id"]].sides().option_a)
            b = sum(n for code, n in answers.items() if int(code) in rules[doc["id"]].sides().option_b)
            assert doc["country"] == "PAK" and doc["share_a"] == pytest.approx(a / (a + b))
            assert doc["answer"] == (doc["option_a"] if a > b else doc["option_b"])
    for sample in run.samples["wvs_selfalign_en_persona"]:
        zero, persona = prompts(sample)
        assert persona == "Answer as a typical person from the following country would: Pakistan.\n\n" + zero
    for sample in run.samples["wvs_selfalign_en_explain"]:
        zero, aligned = prompts(sample)
        assert f"\n\n{EXPLAIN}\n\n" in zero and f"\n\n{EXPLAIN}\n\n" in aligned
        assert sample["arguments"]["gen_args_0"]["arg_1"]["max_gen_toks"] == 96
        assert len(sample["documents"]["selfalign"]) == 10


def test_unknown_country_fails_clearly(tiny_model, tmp_path):
    need_shared()
    run = run_lm_eval(tmp_path, tiny_model, "wvs_selfalign_en", "--limit", "1", "--metadata", '{"country": "XYZ"}',
                      check=False)
    assert run.returncode != 0
    message = "wvs_selfalign_en cannot be built: no WVS-7 figures for country 'XYZ'"
    assert message in run.output
    assert run.output.index(message) < run.output.index("Traceback")  # seen first, not only at the bottom


def test_a_missing_probe_source_fails_clearly(tiny_model, tmp_path):
    need_shared()
    run = run_lm_eval(tmp_path, tiny_model, "wvs_selfalign_ro", "--limit", "1", check=False,
                      env={"WVS_PROBES": str(tmp_path / "nowhere.zip"), "WVS_CACHE_DIR": str(tmp_path / "cache")})
    assert run.returncode != 0
    message = f"wvs_selfalign_ro cannot be built: cannot read the WVS probes from {tmp_path / 'nowhere.zip'}"
    assert message in run.output and run.output.index(message) < run.output.index("Traceback")
    assert "Set WVS_PROBES to a local folder" in run.output


def test_explanation_table_lists_the_improved_probes(pakistan_run):
    samples = pakistan_run.samples["wvs_selfalign_en_explain"]
    improved = [s for s in samples if s["documents"]["p0"] < 1 and s["documents"]["p1"] > s["documents"]["p0"]]
    rows = improved_table(samples).splitlines()[2:]
    assert len(rows) == len(improved)
    for row, sample in zip(rows, improved, strict=False):
        cells = row.split(" | ")
        assert cells[0] == f"| {sample['doc']['id']}: {sample['doc']['template']}"
        assert cells[2].count("<br>") == 4  # the five demonstrations, completed


def test_a_group_prints_macro_averages_without_lm_evals_weighting_warning(tiny_model, tmp_path):
    """`--tasks wvs_selfalign`: all 14 languages, each share the plain mean over the languages that have it, and no
    warning that a share resting on fewer documents is over-weighted.
    """
    need_shared()
    run = run_lm_eval(tmp_path, tiny_model, "wvs_selfalign", "--limit", "2")
    group = run.results["groups"]["wvs_selfalign"]
    per_task = {task: run.results["results"][task] for task in run.results["group_subtasks"]["wvs_selfalign"]}
    assert len(per_task) == 14
    for name in ("zeroshot_alignment", "selfalign_alignment", "misaligned", "improved", "zeroshot_invalid_rate"):
        values = [figures[key] for figures in per_task.values() if (key := f"{name},all_responses") in figures]
        assert group[f"{name},all_responses"] == pytest.approx(sum(values) / len(values)), name
    assert UNEQUAL_COUNTS not in run.output
    assert "WVS self-alignment: chrF++ (macro average over languages)" in run.output and "Romanian (chrF++)" in run.output
