"""The task objects as lm-eval builds them (no model needed): documents, demonstrations, option order, skips."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest
from sacrebleu.metrics import CHRF

from conftest import ROOT, need_shared
from culture_metrics.prompt import option_order
from hf_dataset.errors import DataError
from hf_dataset.languages import LANGUAGES

STRATEGIES = ["", "_random", "_random_cat", "_chrf_cat", "_shuffled"]


@pytest.fixture(scope="session")
def task_manager():
    need_shared()
    from lm_eval.tasks import TaskManager

    return TaskManager(include_path=str(ROOT / "lm_eval_tasks"))


def load_task(task_manager, name: str, seed: int = 1234):
    task = task_manager.load([name])["tasks"][name]
    task.set_fewshot_seed(seed)
    return task


def demonstrations(task, doc) -> list[dict]:
    return task.sampler.sample(5, eval_doc=doc)


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


def test_shuffled_is_the_chrf_set_in_another_order(task_manager):
    chrf = load_task(task_manager, "wvs_selfalign_ro")
    shuffled = load_task(task_manager, "wvs_selfalign_ro_shuffled")
    reordered = 0
    for doc in chrf.test_docs():
        a = [d["id"] for d in demonstrations(chrf, doc)]
        b = [d["id"] for d in demonstrations(shuffled, doc)]
        assert sorted(a) == sorted(b)
        reordered += a != b
    assert reordered > len(chrf.test_docs()) / 2


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
    prompt = task.doc_to_text(docs[0])
    first, second = option_order(docs[0], 1234)
    assert prompt == f"{docs[0]['template']}\nOptions: {first} / {second}\nAnswer:"


def test_unlabelled_probes_are_skipped_and_counted(task_manager):
    task = load_task(task_manager, "wvs_selfalign_id")
    full = task.dataset["test"]
    assert task.skipped == sum(a is None for a in full["answer"]) > 60
    assert len(task.test_docs()) == len(full) - task.skipped
    assert task.config.metadata["skipped_unlabelled"] == task.skipped


def test_a_language_without_labels_fails_clearly(task_manager):
    task = load_task(task_manager, "wvs_selfalign_id")
    task._labelled = None
    task.dataset["test"] = task.dataset["test"].map(lambda row: {**row, "answer": None})
    with pytest.raises(DataError, match="no probe of language 'id' has a label for country IDN"):
        task.test_docs()
