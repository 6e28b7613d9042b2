"""Shares pooled over a model's languages: over the documents they rest on, with question-clustered intervals."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pytest
from test_statistics import SHARES, sampled_record

from culture_metrics.metrics import METRICS
from culture_metrics.reporting.pooled import pools, question_intervals
from culture_metrics.reporting.rows import Row
from culture_metrics.reporting.runs import TaskRun
from culture_metrics.reporting.statistics import as_arrays, document_values, interval, resample_indices, resampled_means
from hf_dataset.languages import LANGUAGE_COUNTRY


def language_run(language: str, records: list[dict], questions: list[int], model: str = "model") -> TaskRun:
    country = LANGUAGE_COUNTRY[language]
    return TaskRun(model, f"wvs_selfalign_{language}", language, country, "chrf", "fp", {}, {}, Path("r.json"),
                   samples_file=Path("s.jsonl"), records=tuple(records), recomputable=frozenset(METRICS),
                   docs=tuple({"question": q, "language": language, "country": country} for q in questions))


def row(run: TaskRun) -> Row:
    return Row(run, {}, None, None)


def test_a_pooled_share_rests_on_the_documents_it_speaks_of_in_every_language():
    rng = random.Random(1)
    runs = [language_run(lang, [sampled_record(rng, False) for _ in range(n)], list(range(n)))
            for lang, n in (("en", 40), ("ro", 7), ("de", 25))]
    (pool,) = pools([row(run) for run in runs], 50)
    assert pool.languages == ("en", "ro", "de") and pool.documents == 72 and pool.questions == 40
    everything = [record for run in runs for record in run.records]
    for name in SHARES:
        assert pool.metrics[name].value == METRICS[name].of(everything), name
    low, high = pool.metrics["improved"].ci
    assert low <= pool.metrics["improved"].value <= high


def test_the_bootstrap_draws_whole_questions_with_all_their_languages():
    rng = random.Random(2)
    questions = [q for _ in range(3) for q in range(30)]
    records = [sampled_record(rng, False) for _ in questions]
    items = document_values(language_run("en", records, questions), SHARES)
    got = question_intervals(items, SHARES, questions, 40)
    drawn = resample_indices(30, 40)
    for name, ci in zip(SHARES, got, strict=True):
        draws = [METRICS[name].of([r for q in draw for r, rq in zip(records, questions, strict=True) if rq == q])
                 for draw in drawn]
        expected = interval([np.nan if d is None else d for d in draws])
        assert ci == (None if expected is None else pytest.approx(expected)), name


def test_a_question_asked_alike_in_every_language_widens_the_interval_beyond_the_probes_one():
    rng = random.Random(3)
    base = [sampled_record(rng, False) for _ in range(60)]
    runs = [language_run(lang, base, list(range(60))) for lang in ("en", "ro", "de", "el")]
    (pool,) = pools([row(run) for run in runs], 400)
    items = document_values(language_run("en", base * 4, list(range(60)) * 4), ["selfalign_alignment"])
    probes = interval(resampled_means(*as_arrays(items), resample_indices(240, 400))[0])
    low, high = pool.metrics["selfalign_alignment"].ci
    assert high - low > 1.5 * (probes[1] - probes[0])


def test_single_languages_and_other_countries_are_not_pooled():
    rng = random.Random(4)
    records = [sampled_record(rng, False) for _ in range(5)]
    alone = language_run("en", records, list(range(5)))
    elsewhere = TaskRun("model", "wvs_selfalign_ro", "ro", "PAK", "chrf", "fp", {}, {}, Path("r.json"),
                        samples_file=Path("s.jsonl"), records=tuple(records), recomputable=frozenset(METRICS),
                        docs=tuple({"question": q} for q in range(5)))
    assert pools([row(alone), row(elsewhere), row(language_run("de", records, list(range(5)), "other"))], 10) == []
