"""Shared fixtures: the upstream data in ../shared, an isolated cache, a tiny local model, real lm_eval runs."""

from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from lm_eval_runs import LmEvalRun, run_lm_eval
from tiny_model import build_tiny_model


ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"
PROBES_ZIP = SHARED / "value-probing" / "probes.zip"
PROBES_DIR = SHARED / "value-probing" / "wvs"
QUESTIONS = SHARED / "wvs7" / "questions.json"
ANSWER_COUNTS = SHARED / "wvs7" / "answer_counts.json"


def need_shared() -> None:
    """The upstream probes are third-party data read from ../shared, never copied into the project."""
    if not PROBES_ZIP.exists():
        if os.environ.get("CI"):
            pytest.fail(f"{PROBES_ZIP} is missing: CI must run with ../shared beside the checkout")
        pytest.skip(f"{PROBES_ZIP} not found")


@pytest.fixture(scope="session", autouse=True)
def isolated_cache(tmp_path_factory) -> Path:
    """Every test run gets its own dataset cache, fed from ../shared, offline."""
    cache = tmp_path_factory.mktemp("wvs_cache")
    os.environ["WVS_CACHE_DIR"] = str(cache)
    os.environ["WVS_PROBES"] = str(PROBES_ZIP)
    os.environ.pop("WVS_DATASET", None)  # the tests build the dataset unless they name a published one
    os.environ["HF_DATASETS_CACHE"] = str(cache / "hf_datasets")
    for var in ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE", "TRANSFORMERS_OFFLINE"):
        os.environ[var] = "1"
    return cache


@pytest.fixture(scope="session")
def built_dataset(tmp_path_factory) -> Path:
    need_shared()
    from hf_dataset.build import build

    out = tmp_path_factory.mktemp("dataset") / "wvs"
    build(out, PROBES_ZIP)
    return out


@pytest.fixture(scope="session")
def default_model_run(isolated_cache) -> subprocess.CompletedProcess:
    """`python -m scripts.default_model` into the session's cache, once: its test reads the conversion (about 40 s on
    2 CPU cores), and the main job finds it there instead of converting again.
    """
    return subprocess.run([sys.executable, "-m", "scripts.default_model"], cwd=ROOT, capture_output=True, text=True,
                          timeout=600, check=False)


def english_corpus(seed: int = 0) -> list[str]:
    """Prompts in both of the task's formats, answered at random, from the project's own English probes.

    A third of the `paper` answers start on a new line, as small models' zero-shot answers often do.
    """
    rng = random.Random(seed)
    rows = [line.split("\t") for line in (ROOT / "hf_dataset" / "probes" / "en.tsv").read_text().splitlines()[1:]]
    corpus = []
    for _, template, a, b, _ in rows:
        first, second = (a, b) if rng.random() < 0.5 else (b, a)
        corpus.append(f"{template}\nOptions: {first} / {second}\nAnswer: {rng.choice([a, b])}\n")
        shown = template.replace("_", rng.choice([a, b]))
        start = "\n" if rng.random() < 1 / 3 else " "
        corpus.append(f'{shown}\nQ: {template} A:{start}{rng.choice([a, b])}\n')
    return corpus


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory) -> Path:
    return build_tiny_model(tmp_path_factory.mktemp("tiny_model"), english_corpus(), train_steps=150)


@pytest.fixture(scope="session")
def sampling_model(tiny_model, tmp_path_factory) -> Path:
    """The tiny model with a generation config that samples: transformers serve samples only then."""
    folder = tmp_path_factory.mktemp("served") / "tiny"
    shutil.copytree(tiny_model, folder)
    config = json.loads((folder / "generation_config.json").read_text())
    (folder / "generation_config.json").write_text(json.dumps({**config, "do_sample": True}))
    return folder


@pytest.fixture(scope="session")
def en_run(tiny_model, tmp_path_factory) -> LmEvalRun:
    """One sampled run of wvs_selfalign_en on 10 documents, shared by the tests that read its output."""
    need_shared()
    return run_lm_eval(tmp_path_factory.mktemp("en_run"), tiny_model, "wvs_selfalign_en", "--limit", "10")


@pytest.fixture(scope="session")
def en_logprob_run(tiny_model, tmp_path_factory) -> LmEvalRun:
    """The `options` format, in which five demonstrations move the tiny model's option likelihoods most."""
    need_shared()
    return run_lm_eval(tmp_path_factory.mktemp("en_logprob"), tiny_model, "wvs_selfalign_en_logprob", "--limit", "10",
                       "--metadata", '{"format": "options"}')


@pytest.fixture(scope="session")
def pakistan_run(tiny_model, tmp_path_factory) -> LmEvalRun:
    """The persona and explanation variants on English probes aligned to Pakistan."""
    need_shared()
    return run_lm_eval(
        tmp_path_factory.mktemp("pakistan"), tiny_model, "wvs_selfalign_en_persona,wvs_selfalign_en_explain",
        "--limit", "8", "--metadata", '{"country": "PAK"}',
    )
