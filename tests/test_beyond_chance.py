"""Improvement beyond chance, end to end through lm_eval: recomputed from the samples, calibrated on backends whose
demonstrations are known to do nothing or everything, and the placebo draw on every layout and real backends.

Statistical checks are two-sided z-tests on lm-eval's own standard errors at a false-alarm rate of 0.001
(|z| < 3.29); the scripted backends are seeded, so each verdict is deterministic.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import pytest
from conftest import need_shared
from lm_eval_runs import LmEvalRun, run_lm_eval
from scipy.stats import fisher_exact, hypergeom

from culture_metrics.answers import parse_answer
from culture_metrics.reporting.rows import TABLE_COLUMNS


if TYPE_CHECKING:
    from pathlib import Path


Z = 3.29  # two-sided, false-alarm rate 0.001
PLACEBO = ("--metadata", '{"placebo": true}')
EN = "wvs_selfalign_en"
CHANCE = ["improved_by_chance", "decreased_by_chance", "improved_beyond_chance", "decreased_beyond_chance",
          "improved_significant", "improved_significant_by_chance"]
PLACEBO_METRICS = ["placebo_improved", "placebo_improved_by_chance", "placebo_improved_beyond_chance",
                   "selection_free_improved", "selection_free_unchanged", "selection_free_decreased"]


def scripted(out: Path, model: str, tasks: str, *extra: str) -> LmEvalRun:
    need_shared()
    # `pretrained` only names the run (lm-eval takes the model's name from it); the backends ignore it.
    return run_lm_eval(out, None, tasks, *extra, backend=model, model_args=f"pretrained={model},seed=0")


@pytest.fixture(scope="module")
def blind(tmp_path_factory) -> LmEvalRun:
    """Every English probe, on a backend that ignores what precedes the probe."""
    return scripted(tmp_path_factory.mktemp("blind"), "wvs-test-context-blind", EN, *PLACEBO)


@pytest.fixture(scope="module")
def copier(tmp_path_factory) -> LmEvalRun:
    return scripted(tmp_path_factory.mktemp("copier"), "wvs-test-copier", EN, *PLACEBO)


def reported(run: LmEvalRun, task: str = EN) -> dict[str, float]:
    return {key.split(",")[0]: value for key, value in run.results["results"][task].items() if "," in key}


def correct(doc: dict, responses: list[str]) -> int:
    sides = [parse_answer(r, doc["option_a"], doc["option_b"], doc["template"]) for r in responses]
    return sum(side is not None and doc[f"option_{side}"] == doc["answer"] for side in sides)


def draws(sample: dict, placebo: bool) -> tuple[list[str], list[str], list[str]]:
    """Zero-shot, self-aligned (one request, or one per reshuffled draw) and placebo responses, in request order."""
    responses = sample["filtered_resps"]
    aligned = responses[1:-1] if placebo else responses[1:]
    return responses[0], [r for request in aligned for r in request], responses[-1] if placebo else []


def pair(x: int, n0: int, y: int, n1: int) -> dict[str, float] | None:
    """One misaligned document under the null, from scipy: (observed, chance) of improving, decreasing, passing."""
    if x >= n0:
        return None
    null = hypergeom(n0 + n1, x + y, n0)
    given = lambda test: sum(null.pmf(z) for z in range(n0) if test(z)) / null.cdf(n0 - 1)
    up = lambda z: (x + y - z) * n0 > z * n1
    down = lambda z: (x + y - z) * n0 < z * n1
    passes = lambda z: up(z) and null.cdf(z) <= 0.05
    fisher = fisher_exact([[x, n0 - x], [y, n1 - y]], alternative="less").pvalue
    return {"improved": float(up(x)), "improved_by_chance": given(up), "decreased": float(down(x)),
            "decreased_by_chance": given(down), "improved_significant": float(up(x) and fisher <= 0.05),
            "improved_significant_by_chance": given(passes), "unchanged": float(not up(x) and not down(x))}


def recompute(samples: list[dict], placebo: bool) -> dict[str, float | None]:
    """The new metrics from the logged responses alone: parsed here, the null from scipy."""
    per_doc: dict[str, list[float]] = {name: [] for name in CHANCE + PLACEBO_METRICS}
    for sample in samples:
        doc = sample["doc"]
        zero, aligned, second = draws(sample, placebo)
        x, y = correct(doc, zero), correct(doc, aligned)
        if (null := pair(x, len(zero), y, len(aligned))) is None:
            continue
        for name in CHANCE:
            per_doc[name].append(null[name.removesuffix("_beyond_chance")] - null[name.replace("beyond", "by")]
                                 if "beyond" in name else null[name])
        if placebo:
            z = correct(doc, second)
            zero_pair = pair(x, len(zero), z, len(second))
            per_doc["placebo_improved"].append(zero_pair["improved"])
            per_doc["placebo_improved_by_chance"].append(zero_pair["improved_by_chance"])
            per_doc["placebo_improved_beyond_chance"].append(zero_pair["improved"] - zero_pair["improved_by_chance"])
            after = (y * len(second) > z * len(aligned)) - (y * len(second) < z * len(aligned))
            for name, sign in (("improved", 1), ("unchanged", 0), ("decreased", -1)):
                per_doc[f"selection_free_{name}"].append(float(after == sign))
    return {name: sum(values) / len(values) if values else None for name, values in per_doc.items()}


def assert_recomputed(run: LmEvalRun, placebo: bool, task: str = EN) -> dict[str, float]:
    figures = reported(run, task)
    for name, value in recompute(run.samples[task], placebo).items():
        if value is None:
            assert name not in figures, name
        else:
            assert figures[name] == pytest.approx(value, abs=1e-9), name
            assert isinstance(figures[f"{name}_stderr"], float), name
            assert run.results["higher_is_better"][task][name] in (True, False), name
    return figures


def within(figures: dict[str, float], name: str) -> bool:
    return abs(figures[name]) < Z * figures[f"{name}_stderr"]


def test_the_new_metrics_equal_a_recomputation_from_the_samples(en_run):
    figures = assert_recomputed(en_run, placebo=False)
    assert set(CHANCE) <= set(figures) and not set(PLACEBO_METRICS) & set(figures)
    assert figures["improved_beyond_chance"] == pytest.approx(figures["improved"] - figures["improved_by_chance"])


def test_a_model_that_ignores_its_demonstrations_improves_by_chance_only(blind):
    """`improved` lands near 40%, as the null expects; what is beyond chance is 0 within its error."""
    figures = assert_recomputed(blind, placebo=True)
    assert figures["documents"] == 246 and figures["misaligned_documents"] > 150
    assert 0.3 < figures["improved"] < 0.5 and 0.3 < figures["improved_by_chance"] < 0.5
    for name in ("improved_beyond_chance", "decreased_beyond_chance", "placebo_improved_beyond_chance"):
        assert within(figures, name), name
    assert abs(figures["improved_significant"] - figures["improved_significant_by_chance"]) < (
        Z * figures["improved_significant_stderr"] + 0.01)
    # selection-free: the self-aligned draw beats the second zero-shot draw as often as it loses to it
    assert abs(figures["selection_free_improved"] - figures["selection_free_decreased"]) < Z * (
        figures["selection_free_improved_stderr"] + figures["selection_free_decreased_stderr"])


def test_a_model_that_copies_its_demonstrations_improves_beyond_chance(copier):
    figures = assert_recomputed(copier, placebo=True)
    assert figures["improved_beyond_chance"] > max(0.15, Z * figures["improved_beyond_chance_stderr"])
    assert figures["improved_significant"] > 10 * figures["improved_significant_by_chance"]
    assert within(figures, "placebo_improved_beyond_chance")  # the null of the two zero-shot draws holds anyway


def test_placebo_with_reshuffled_demonstrations(tmp_path):
    """Zero-shot (10 samples), ten reshuffled prompts (1 each), then the zero-shot prompt again (10 samples)."""
    run = scripted(tmp_path, "wvs-test-context-blind", f"{EN}_shuffled", "--limit", "4", *PLACEBO)
    for sample in run.samples[f"{EN}_shuffled"]:
        arguments = sample["arguments"]
        prompts = [arguments[key]["arg_0"] for key in sorted(arguments, key=lambda k: int(k.rsplit("_", 1)[1]))]
        assert prompts[-1] == prompts[0] and len(set(prompts[1:-1])) > 1
        assert [len(r) for r in sample["filtered_resps"]] == [10] + [1] * 10 + [10]
        assert [len(sample["documents"][draw]) for draw in ("zeroshot", "selfalign", "placebo")] == [10, 10, 10]
    assert_recomputed(run, placebo=True, task=f"{EN}_shuffled")


@pytest.mark.parametrize("backend", ["hf", "hf-prefix"])
def test_the_placebo_draw_is_independent_of_the_first_on_real_backends(backend, tiny_model, tmp_path):
    need_shared()
    run = run_lm_eval(tmp_path, tiny_model, EN, "--limit", "2", *PLACEBO, backend=backend)
    for sample in run.samples[EN]:
        arguments = sample["arguments"]
        assert arguments["gen_args_2"] == arguments["gen_args_0"]  # the same prompt and settings
        first, second = sample["resps"][0], sample["resps"][2]
        assert len(second) == 10 and sorted(first) != sorted(second)  # a second draw, not the first one again
        assert sample["documents"]["responses"] == 30
    assert_recomputed(run, placebo=True)


def test_the_report_recomputes_the_new_metrics_and_shows_the_chance_level(blind, copier, tmp_path):
    from test_report import board, cli, markdown_rows

    out = tmp_path / "board"
    done = cli("report", blind.folder, copier.folder, "--out", out, "--bootstrap", "200")
    assert done.returncode == 0, done.stderr
    rows = {row["model"]: row for row in board(out)["rows"]}
    markdown = markdown_rows(out)
    for model, run in (("wvs-test-context-blind", blind), ("wvs-test-copier", copier)):
        metrics = rows[model]["metrics"]
        for name, value in recompute(run.samples[EN], placebo=True).items():
            assert metrics[name]["value"] == pytest.approx(value, abs=1e-9), (model, name)
            low, high = metrics[name]["ci"]
            assert low - 1e-12 <= value <= high + 1e-12, (model, name)
        cells = dict(zip(TABLE_COLUMNS, markdown[model, "English", "chrf"][6:], strict=True))
        for name in ("improved_by_chance", "improved_beyond_chance", "decreased_by_chance"):
            low, high = metrics[name]["ci"]
            assert cells[name] == f"{100 * metrics[name]['value']:.1f} [{100 * low:.1f}, {100 * high:.1f}]", name
    assert "Improved by chance %" in (out / "leaderboard.md").read_text()
    assert "The paper's figures carry no chance correction" in (out / "leaderboard.md").read_text()


def test_the_gate_compares_improvement_beyond_chance(blind, copier):
    from test_report import cli

    regressed = cli("gate", blind.folder, "--baseline", copier.folder, "--metric", "improved_beyond_chance")
    assert regressed.returncode == 1, regressed.stdout + regressed.stderr
    assert regressed.stdout.startswith("REGRESSION") and "improved_beyond_chance" in regressed.stdout
    default = cli("gate", copier.folder, "--baseline", blind.folder)  # a default metric: the copier gained on it
    assert re.search(rf"^ok +{EN} \(en, USA\) improved_beyond_chance: ", default.stdout, re.MULTILINE), default.stdout
