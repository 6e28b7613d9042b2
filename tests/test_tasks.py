"""The task objects as lm-eval builds them (no model needed): documents, demonstrations, option order, skips."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest
from conftest import need_shared
from lm_eval_runs import project_tasks
from sacrebleu.metrics import CHRF

from culture_metrics.prompt import INSTRUCTION, option_order
from culture_metrics.variant import VariantError
from hf_dataset.errors import DataError
from hf_dataset.languages import LANGUAGES


STRATEGIES = ["", "_random", "_random_cat", "_chrf_cat", "_shuffled"]


@pytest.fixture(scope="session")
def task_manager():
    need_shared()
    return project_tasks()


def load_task(task_manager, name: str, seed: int = 1234, metadata: dict | None = None):
    if metadata:
        task_manager = project_tasks(metadata)
    task = task_manager.load([name])["tasks"][name]
    task.set_fewshot_seed(seed)
    return task


def demonstrations(task, doc) -> list[dict]:
    return task.sampler.sample(5, eval_doc=doc)


def prompts(task, doc) -> list[str]:
    """Every prompt of a document's requests, as lm-eval builds them: fewshot_context, then construct_requests."""
    return task.request_prompts(doc)


@pytest.mark.parametrize(("variant", "count"), [("", 2), ("_logprob", 4), ("_shuffled", 11), ("_persona", 2)])
def test_a_string_context_makes_the_documents_requests(task_manager, variant, count):
    """lm-eval hands construct_requests one string: the zero-shot and self-aligned requests are built from it."""
    task = load_task(task_manager, f"wvs_selfalign_ro{variant}")
    doc = task.test_docs()[0]
    context = task.fewshot_context(doc, task.config.num_fewshot)
    requests = task.construct_requests(doc, context, metadata=(task.config.task, 0, task.config.repeats))
    assert len(requests) == count
    assert context in {request.args[0] for request in requests}

@pytest.mark.parametrize("language", LANGUAGES)
def test_no_demonstration_leaks_the_probe_or_its_question(task_manager, language):
    """Every strategy, every document: 5 labelled demonstrations, none from the probe's own WVS question."""
    for strategy in STRATEGIES:
        task = load_task(task_manager, f"wvs_selfalign_{language}{strategy}")
        for doc in task.test_docs():
            demos = demonstrations(task, doc)
            assert len(demos) == 5 and len({d["id"] for d in demos}) == 5
            assert all(d["question"] != doc["question"] for d in demos), (strategy, doc["id"])
            assert all(d["answer"] is not None and d["language"] == language for d in demos)


def test_chrf_demonstrations_are_the_five_best_by_sacrebleu(task_manager):
    task = load_task(task_manager, "wvs_selfalign_de")
    docs = list(task.test_docs())
    chrf = CHRF(word_order=2)
    for doc in docs[::40]:
        pool = [d for d in docs if d["question"] != doc["question"]]
        scores = [chrf.sentence_score(doc["template"], [d["template"]]).score for d in pool]
        best = [pool[i]["id"] for i in np.argsort(-np.array(scores), kind="stable")[:5]]
        assert [d["id"] for d in demonstrations(task, doc)] == best


def test_category_strategies_stay_in_the_category_when_it_is_large_enough(task_manager):
    for strategy in ["_random_cat", "_chrf_cat"]:
        task = load_task(task_manager, f"wvs_selfalign_en{strategy}")
        docs = list(task.test_docs())
        for doc in docs:
            same = {d["id"] for d in docs if d["category"] == doc["category"] and d["question"] != doc["question"]}
            demos = demonstrations(task, doc)
            if len(same) >= 5:
                assert all(d["id"] in same for d in demos)
            else:
                assert same <= {d["id"] for d in demos}  # topped up from other categories


def test_shuffled_reshuffles_the_chrf_set_for_each_sample(task_manager):
    """The paper's robustness check: each of the 10 samples sees the chrF++ demonstrations in its own order."""
    chrf = load_task(task_manager, "wvs_selfalign_ro")
    shuffled = load_task(task_manager, "wvs_selfalign_ro_shuffled")
    docs = list(chrf.test_docs())[::25]
    for doc in docs:
        requests = shuffled.construct_requests(doc, shuffled.fewshot_context(doc, 5), metadata=("t", 0, 10))
        assert [r.repeats for r in requests] == [10] + [1] * 10
        all_prompts = [r.args[0] for r in requests]
        assert all_prompts[0] == prompts(chrf, doc)[0]
        orders = {tuple(p.split("\n\n", 1)[1].split("Q: ")[0].splitlines()) for p in all_prompts[1:]}
        assert len(orders) >= 5  # 10 draws of 5! orders
        assert {frozenset(o) for o in orders} == {frozenset(chrf.demonstrations(doc))}
    again = load_task(task_manager, "wvs_selfalign_ro_shuffled")
    assert prompts(again, docs[0]) == prompts(shuffled, docs[0])
    other = load_task(task_manager, "wvs_selfalign_ro_shuffled", seed=7)
    assert prompts(other, docs[0])[1:] != prompts(shuffled, docs[0])[1:]


def test_same_seed_same_demonstrations_in_any_document_order(task_manager):
    """Demonstrations depend on the seed and the probe only, not on which documents were seen before."""
    first = load_task(task_manager, "wvs_selfalign_tr_random")
    docs = list(first.test_docs())
    forward = {d["id"]: [x["id"] for x in demonstrations(first, d)] for d in docs}
    second = load_task(task_manager, "wvs_selfalign_tr_random")
    backward = {d["id"]: [x["id"] for x in demonstrations(second, d)] for d in reversed(docs)}
    assert forward == backward
    other_seed = load_task(task_manager, "wvs_selfalign_tr_random", seed=7)
    assert forward != {d["id"]: [x["id"] for x in demonstrations(other_seed, d)] for d in docs}


def test_option_order_is_seeded_per_document_and_balanced(task_manager):
    task = load_task(task_manager, "wvs_selfalign_en")
    docs = list(task.test_docs())
    firsts = Counter(option_order(d, 1234)[0] == d["option_a"] for d in docs)
    assert 0.35 < firsts[True] / len(docs) < 0.65
    assert [option_order(d, 1234) for d in docs] == [option_order(d, 1234) for d in docs]
    assert [option_order(d, 1234) for d in docs] != [option_order(d, 99) for d in docs]


def test_paper_format_instruction_statements_and_question(task_manager):
    """The default: an instruction in the probe's language naming both options, completed statements, Q: ... A:."""
    for language in LANGUAGES:
        task = load_task(task_manager, f"wvs_selfalign_{language}")
        doc = task.test_docs()[3]
        first, second = option_order(doc, 1234)
        zero, aligned = prompts(task, doc)
        opening = INSTRUCTION[language].format(first=first, second=second) + "\n\n"
        assert zero == opening + f"Q: {doc['template']} A:"
        statements = task.demonstrations(doc)
        assert aligned == opening + "".join(f"{s}\n" for s in statements) + f"Q: {doc['template']} A:"
        assert all("_" not in s and s for s in statements)


def test_options_format_is_a_setting(task_manager):
    task = load_task(task_manager, "wvs_selfalign_en", metadata={"format": "options"})
    doc = task.test_docs()[0]
    first, second = option_order(doc, 1234)
    block = f"{doc['template']}\nOptions: {first} / {second}\nAnswer:"
    zero, aligned = prompts(task, doc)
    assert zero == block and aligned.endswith("\n\n" + block) and aligned.count("\nAnswer: ") == 5
    assert task.variant.format == task.provenance()["format"] == "options"
    with pytest.raises(VariantError, match="unknown prompt format 'html'; known: paper options"):
        load_task(task_manager, "wvs_selfalign_en", metadata={"format": "html"})


def test_collapse_rule_and_clean_subset_are_settings(task_manager):
    paper = load_task(task_manager, "wvs_selfalign_en")
    drop = load_task(task_manager, "wvs_selfalign_en", metadata={"collapse": "drop_middle"})
    answers = {d["id"]: d["answer"] for d in paper.test_docs()}
    other = {d["id"]: d["answer"] for d in drop.test_docs()}
    assert answers["Q124"] == "disagree" and other["Q124"] == "agree"
    assert paper.provenance()["dataset_fingerprint"] != drop.provenance()["dataset_fingerprint"]
    full = load_task(task_manager, "wvs_selfalign_ko")
    clean = load_task(task_manager, "wvs_selfalign_ko", metadata={"clean": True})
    assert 0 < len(clean.test_docs()) < len(full.test_docs())
    assert set(clean.test_docs()["quirk"]) == {""}


def test_unlabelled_probes_are_skipped_and_counted(task_manager):
    task = load_task(task_manager, "wvs_selfalign_id")
    full = task.dataset["test"]
    assert task.skipped == sum(a is None for a in full["answer"]) > 60
    assert len(task.test_docs()) == len(full) - task.skipped
    assert task.provenance()["skipped_unlabelled"] == task.skipped
    assert "skipped_unlabelled" not in task.config.metadata


def test_a_language_without_labels_fails_clearly(task_manager):
    task = load_task(task_manager, "wvs_selfalign_id")
    task._labelled = None
    task.dataset["test"] = task.dataset["test"].map(lambda row: {**row, "answer": None})
    with pytest.raises(DataError, match="no probe of language 'id' has a label for country IDN"):
        task.test_docs()
