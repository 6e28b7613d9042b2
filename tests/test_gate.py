"""`python -m culture_metrics gate`: verdicts on real runs of two models, and refusals of incomparable inputs."""

from __future__ import annotations

import json
import re

import pytest
from test_report import cli, cli_process, copy_run, error, expected_figures, only, untrained_logprob_run


EN = "wvs_selfalign_en_logprob"


@pytest.fixture(scope="session")
def untrained_run(tmp_path_factory):
    return untrained_logprob_run(tmp_path_factory)


@pytest.fixture(scope="module")
def english_untrained(untrained_run, tmp_path_factory):
    """The untrained model's English run alone (its lm_eval run also scored Romanian)."""
    folder = copy_run(untrained_run.folder, tmp_path_factory.mktemp("untrained_en") / "run")
    for samples in folder.rglob("samples_wvs_selfalign_ro_*"):
        samples.unlink()
    results = only(folder, "results_*.json")
    data = json.loads(results.read_text())
    for section in ("results", "configs", "versions", "n-shot", "n-samples", "higher_is_better"):
        data[section].pop("wvs_selfalign_ro_logprob", None)
    results.write_text(json.dumps(data))
    return folder


def check_lines(output: str) -> dict[str, str]:
    """Metric -> its verdict line for the English task."""
    return {match[1]: match[0] for match in re.finditer(rf"^\S+ +{EN} \(en, USA\) (\w+): .*$", output, re.MULTILINE)}


def drop(line: str) -> float:
    return float(re.search(r"drop ([+-][\d.]+)", line)[1])


def test_a_run_against_itself_passes(en_run):
    done = cli("gate", en_run.folder, "--baseline", en_run.folder)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.count("ok ") == 4 and "no regression" in done.stdout


def test_the_untrained_checkpoint_regresses_on_improved(en_logprob_run, english_untrained, untrained_run):
    base = expected_figures(en_logprob_run.samples[EN])
    new = expected_figures(untrained_run.samples[EN])
    assert base["improved"] - new["improved"] >= 0.3  # what the gate is to catch, recomputed from the samples
    done = cli("gate", english_untrained, "--baseline", en_logprob_run.folder)
    assert done.returncode == 1, done.stdout + done.stderr
    lines = check_lines(done.stdout)
    assert set(lines) == {"zeroshot_alignment", "selfalign_alignment", "improved", "improved_beyond_chance"}
    assert lines.pop("improved_beyond_chance").endswith("[not comparable: undefined on one side]")  # nothing sampled
    assert lines["improved"].startswith("REGRESSION") and "95% CI of the drop [+" in lines["improved"]
    assert drop(lines["improved"]) == pytest.approx(base["improved"] - new["improved"], abs=1e-4)
    assert done.stdout.splitlines()[-1].endswith("en improved")
    beyond_every_drop = max(drop(line) for line in lines.values()) + 0.01
    assert cli("gate", english_untrained, "--baseline", en_logprob_run.folder,
               "--max-drop", str(beyond_every_drop)).returncode == 0


def test_a_drop_beyond_max_drop_within_the_noise_passes(en_logprob_run, english_untrained, untrained_run):
    base = expected_figures(untrained_run.samples[EN])
    new = expected_figures(en_logprob_run.samples[EN])
    fell = base["selfalign_alignment"] - new["selfalign_alignment"]
    assert fell > 0.01
    done = cli("gate", en_logprob_run.folder, "--baseline", english_untrained, "--metric", "selfalign_alignment",
               "--max-drop", str(fell / 2))
    assert done.returncode == 0, done.stdout + done.stderr
    line = check_lines(done.stdout)["selfalign_alignment"]
    assert line.startswith("ok") and drop(line) == pytest.approx(fell, abs=1e-4)
    low = float(re.search(r"CI of the drop \[([+-][\d.]+),", line)[1])
    assert low <= 0


def test_direction_comes_from_the_metric(en_logprob_run, english_untrained, untrained_run):
    """misaligned: lower is better, so the trained model's higher share is the regression."""
    assert (expected_figures(en_logprob_run.samples[EN])["misaligned"]
            > expected_figures(untrained_run.samples[EN])["misaligned"] + 0.05)
    done = cli_process("gate", en_logprob_run.folder, "--baseline", english_untrained, "--metric", "misaligned")
    assert done.returncode == 1, done.stdout + done.stderr
    assert list(check_lines(done.stdout)) == ["misaligned"]
    reverse = cli_process("gate", english_untrained, "--baseline", en_logprob_run.folder, "--metric", "misaligned")
    assert reverse.returncode == 0, reverse.stdout + reverse.stderr


def test_without_samples_the_plain_difference_decides_and_says_so(en_logprob_run, english_untrained, tmp_path):
    new = copy_run(en_logprob_run.folder, tmp_path / "new", samples=False)
    base = copy_run(english_untrained, tmp_path / "base", samples=False)
    done = cli("gate", new, "--baseline", base)
    assert "plain difference, no CI" in done.stdout and "no logged samples" in done.stderr
    assert done.returncode == 1  # zeroshot_alignment fell by more than 0.05, and without CIs that is enough
    assert check_lines(done.stdout)["zeroshot_alignment"].startswith("REGRESSION")


def rewrite(folder, change) -> None:
    results = only(folder, "results_*.json")
    data = json.loads(results.read_text())
    change(data)
    results.write_text(json.dumps(data))


def other_fingerprint(data: dict) -> None:
    data["configs"][EN]["provenance"]["dataset_fingerprint"] = "0123456789abcdef"


def no_improved(data: dict) -> None:
    del data["results"][EN]["improved,none"]


def fewer_documents(data: dict) -> None:
    data["results"][EN]["documents,none"] = 9


@pytest.mark.parametrize(("change", "samples", "message"), [
    (other_fingerprint, True, "other dataset version (fingerprint 0123456789abcdef"),
    (fewer_documents, False, "the runs scored different documents"),
])
def test_incomparable_runs_exit_2(change, samples, message, en_logprob_run, tmp_path):
    new = copy_run(en_logprob_run.folder, tmp_path / "new", samples=samples)
    rewrite(new, change)
    assert message in error(cli("gate", new, "--baseline", en_logprob_run.folder))


def test_a_share_absent_from_the_results_is_not_comparable(en_logprob_run, tmp_path):
    """lm-eval reports no `improved` when nothing is misaligned: undefined, so neither a pass nor a regression."""
    new = copy_run(en_logprob_run.folder, tmp_path / "new", samples=False)
    rewrite(new, no_improved)
    done = cli("gate", new, "--baseline", en_logprob_run.folder)
    assert done.returncode == 0, done.stdout + done.stderr
    assert check_lines(done.stdout)["improved"].endswith("[not comparable: undefined on one side]")


def test_other_tasks_several_models_and_unreadable_input_exit_2(en_run, en_logprob_run, untrained_run, tmp_path):
    assert "different tasks: only in RESULTS: wvs_selfalign_en (USA)" in error(
        cli("gate", en_run.folder, "--baseline", en_logprob_run.folder))
    both = tmp_path / "both"
    copy_run(en_logprob_run.folder, both / "a")
    copy_run(untrained_run.folder, both / "b")
    assert "RESULTS holds runs of several models" in error(cli("gate", both, "--baseline", en_logprob_run.folder))
    broken = copy_run(en_logprob_run.folder, tmp_path / "broken")
    results = only(broken, "results_*.json")
    results.write_text(results.read_text()[:-200])
    assert f"error: {results}: not valid JSON" in error(cli("gate", en_logprob_run.folder, "--baseline", broken))
    done = cli("gate", en_logprob_run.folder, "--baseline", broken, "--metric", "nonsense")
    assert done.returncode == 2 and "invalid choice: 'nonsense'" in done.stderr
