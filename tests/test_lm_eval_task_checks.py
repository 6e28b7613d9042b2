"""lm-eval's own per-task checks (its tests/test_tasks.py, BaseTasks), re-implemented and run on every task and
group of the folder, plus stricter checks in the same spirit: what an upstream reviewer's CI would ask of them.
"""

from __future__ import annotations

import logging
from itertools import islice
from typing import TYPE_CHECKING

import pytest
import yaml
from conftest import ROOT, need_shared

from culture_metrics.generation import SAMPLING_DEFAULT
from culture_metrics.metrics import METRICS
from culture_metrics.task import UNEQUAL_COUNTS


if TYPE_CHECKING:
    from pathlib import Path


FOLDER = ROOT / "lm_eval_tasks" / "wvs_selfalign"
LIMIT = 10
# Requests per document: zero-shot and self-aligned prompts, two options each for log-likelihoods, one prompt per
# sample for the reshuffled robustness check.
REQUESTS = {"logprob": 4, "shuffled": 11}


def task_files() -> list[Path]:
    return sorted(FOLDER.glob("wvs_selfalign_*.yaml"))


def group_files() -> list[Path]:
    return sorted(FOLDER.glob("_wvs_selfalign*.yaml"))


def config(path: Path) -> dict:
    return yaml.load(path.read_text(encoding="utf-8"), Loader=yaml.BaseLoader)


@pytest.fixture(scope="module")
def tasks():
    """Every task of the folder, loaded by lm-eval's TaskManager as `--include_path` would (without lm-eval's own)."""
    need_shared()
    from lm_eval.tasks import TaskManager

    names = [config(path)["task"] for path in task_files()]
    loaded = TaskManager(include_path=str(FOLDER), include_defaults=False).load(names)["tasks"]
    assert sorted(loaded) == sorted(names)
    return loaded


def docs(task) -> list[dict]:
    return list(islice(task.test_docs(), LIMIT))


def test_the_folder_holds_every_language_and_variant():
    assert len(task_files()) == 14 * 9 and len(group_files()) == 9


def test_download_and_splits(tasks):
    for name, task in tasks.items():
        task.download(task.config.dataset_kwargs)
        assert task.dataset is not None, name
        assert (task.has_training_docs(), task.has_validation_docs(), task.has_test_docs()) == (False, False, True)
        assert task._config["test_split"] is not None and task.should_decontaminate() is False, name


def test_doc_to_text_and_target(tasks):
    for name, task in tasks.items():
        for doc in docs(task):
            text, target = task.doc_to_text(doc), task.doc_to_target(doc)
            assert isinstance(text, str) and text, name
            if task.config.target_delimiter.isspace():
                assert not text[-1].isspace(), f"{name}: doc_to_text ends in whitespace before a whitespace delimiter"
            assert target in (doc["option_a"], doc["option_b"]), name


def test_build_all_requests(tasks):
    for name, task in tasks.items():
        task.build_all_requests(rank=1, limit=LIMIT, world_size=1)
        assert task.instances, name


def test_construct_requests_from_a_string_context(tasks):
    """lm-eval's test hands construct_requests doc_to_text(doc); stricter: the right number of requests, each a
    whole prompt (never one request per character).
    """
    for name, task in tasks.items():
        variant = name.split("_", 3)[-1] if name.count("_") >= 3 else ""
        for doc in docs(task):
            requests = task.construct_requests(doc=doc, ctx=task.doc_to_text(doc))
            assert len(requests) == REQUESTS.get(variant, 2), name
            assert all(doc["template"] in request.args[0] for request in requests), name


def test_names_aliases_and_tags():
    """Stricter: every alias names the language and the variant; every variant has its tag; versions agree."""
    aliases = set()
    for path in task_files():
        cfg = config(path)
        assert cfg["task"] == path.stem and cfg["metadata"]["version"] == "2.0"
        assert cfg["task_alias"] not in aliases, cfg["task_alias"]
        aliases.add(cfg["task_alias"])
        assert cfg["tag"] and all(tag.endswith("_tasks") for tag in cfg["tag"])


def test_the_sampled_tasks_default_temperature_is_the_one_a_model_without_its_own_samples_at():
    """The YAML's temperature and `culture_metrics.cli.temperature`'s fallback are one figure, written twice."""
    sampled = config(FOLDER / "_default_template_yaml")["generation_kwargs"]
    assert float(sampled["temperature"]) == SAMPLING_DEFAULT


def test_groups_macro_average_every_share_over_languages():
    shares = {name for name, metric in METRICS.items() if metric.higher_is_better is not None}
    for path in group_files():
        cfg = config(path)
        assert len(cfg["task"]) == 14 and cfg["group_alias"].endswith("(macro average over languages)"), path.name
        listed = {entry["metric"] for entry in cfg["aggregate_metric_list"]}
        assert listed == shares, path.name
        assert all(entry["weight_by_size"] == "false" for entry in cfg["aggregate_metric_list"]), path.name


def test_the_readme_follows_lm_evals_template():
    readme = (FOLDER / "README.md").read_text(encoding="utf-8")
    for section in ("### Paper", "### Citation", "### Groups, Tags, and Tasks", "#### Groups", "#### Tags",
                    "#### Tasks", "### Checklist"):
        assert section in readme, section
    for path in group_files():
        assert f"`{config(path)['group']}`" in readme


def test_lm_evals_unequal_counts_warning_is_dropped_for_these_tasks_only(caplog):
    """Our shares rest on different documents by design and our groups are macro averages: the warning that a
    size-weighted group over-weights them says nothing true of these tasks, and still shows for others.
    """
    logger = logging.getLogger("lm_eval.evaluator_utils")
    with caplog.at_level(logging.WARNING, logger="lm_eval.evaluator_utils"):
        for task in ("wvs_selfalign_en", "other_task"):
            logger.warning("[%s] %s (improved,all_responses=3, misaligned,all_responses=10).", task, UNEQUAL_COUNTS)
    assert [record.getMessage().split("]")[0] for record in caplog.records] == ["[other_task"]
