"""The benchmarks keep measuring like against like: run on the tiny model, their own checks (the loops' prompts are
the harness's, the numbers of samples match, both stopping criteria give the same responses) must hold.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from conftest import need_shared


ROOT = Path(__file__).resolve().parents[1]


def benchmark(name: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", f"benchmarks.{name}", *args], cwd=ROOT, capture_output=True,  # noqa: S603
                          text=True, timeout=900, check=False)


def table_rows(output: str) -> list[list[str]]:
    rows = [line.strip("| ").split(" | ") for line in output.splitlines() if line.startswith("| ")]
    return rows[2:]


def test_sampling_speed_compares_the_harness_and_the_loops_on_identical_prompts(tiny_model):
    need_shared()
    done = benchmark("sampling_speed", "--model", str(tiny_model), "--limit", "1", "--batch-sizes", "1")
    assert done.returncode == 0, done.stderr[-3000:]
    assert "first 1 documents, 20 sampled responses in all, identical prompts" in done.stdout
    variants = [row[0] for row in table_rows(done.stdout)]
    assert variants == ["harness `--batch_size 1`", "harness `--model hf-prefix`", "loop `naive`", "loop `grouped`",
                        "loop `prefix`"]
    assert all(float(row[1]) > 0 and float(row[6]) > 0 for row in table_rows(done.stdout))


def test_batch_stopping_gives_the_same_responses_under_both_criteria(tiny_model):
    need_shared()
    done = benchmark("batch_stopping", "--model", str(tiny_model), "--limit", "1")
    assert done.returncode == 0, done.stderr[-3000:]
    assert re.search(r"2 batches of 10 samples of one prompt, max_gen_toks \d+, identical responses", done.stdout)
    (lm_eval, per_sequence) = table_rows(done.stdout)
    assert float(lm_eval[2]) >= float(per_sequence[2])


def test_logprob_and_sampled_are_compared_on_the_same_documents(tiny_model):
    need_shared()
    done = benchmark("logprob_vs_sampled", "--model", str(tiny_model), "--limit", "2")
    assert done.returncode == 0, done.stderr[-3000:]
    assert [row[0] for row in table_rows(done.stdout)[:2]] == ["`wvs_selfalign_en`", "`wvs_selfalign_en_logprob`"]
    assert "p1 (self-aligned)" in done.stdout


def test_served_requests_compares_both_api_backends_on_the_same_prompts(tiny_model):
    need_shared()
    done = benchmark("served_requests", "--model", str(tiny_model), "--limit", "1")
    assert done.returncode == 0, done.stderr[-3000:]
    assert "first 1 documents, identical prompts" in done.stdout
    (stock, served) = table_rows(done.stdout)
    assert stock[0] == "`local-chat-completions`" and served[0] == "`served-chat`"
    assert stock[1] == served[1] == str(1 * 2 * 10)  # transformers serve ignores n: 20 requests a document each
    assert float(served[5]) > float(stock[5])  # distinct responses per prompt


def test_report_scale_times_reports_of_growing_size_and_the_gate():
    need_shared()
    done = benchmark("report_scale", "--sizes", "1", "2")
    assert done.returncode == 0, done.stderr[-3000:]
    assert "full-size task runs of 246 documents, 1000 resamples" in done.stdout
    rows = table_rows(done.stdout)
    assert [row[0] for row in rows] == ["report, 1 run", "report, 2 runs", "gate, 1 run against 1"]
    assert all(float(row[1]) > 0 for row in rows)


def test_report_scale_holds_a_leaderboards_shape_the_report_accepts():
    """Every model on the 14 languages: the relabelled copies must pass the report's checks of samples against results."""
    need_shared()
    done = benchmark("report_scale", "--sizes", "14", "--languages")
    assert done.returncode == 0, done.stderr[-3000:]
    rows = table_rows(done.stdout)
    assert [row[0] for row in rows] == ["report, 14 runs", "gate, 1 run against 1"]
