"""The served backends through a real OpenAI-compatible server (transformers serve, started here on loopback):
ten distinct samples per prompt following hf-prefix's distribution, the requests a document costs, a killed server's
run resumed from its cache; `n` and seeds against a stand-in server; and the collapse guard on lm-eval's stock API
backend, in the results and in the report.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest
from conftest import ROOT, need_shared
from distributions import FALSE_ALARM, first_word_test
from lm_eval_runs import lm_eval_command, run_lm_eval
from servers import StandIn
from transformers import AutoTokenizer

from benchmarks.serving import TransformersServe
from culture_metrics.backends.served import sample_seed


TASK = "wvs_selfalign_en"
CHAT = ("--apply_chat_template",)


def served(model, url: str, backend: str = "served-chat", **extra) -> dict:
    """lm_eval_command's options for a served backend (one request at a time: API backends take batch size 1)."""
    args = ",".join([f"model={model}", f"base_url={url}", *(f"{key}={value}" for key, value in extra.items())])
    return {"backend": backend, "model_args": args, "batch_size": 1}


def responses(run, task: str = TASK) -> list[list[str]]:
    """The raw responses of every request of every document, in document and request order."""
    return [resps for row in run.samples[task] for resps in row["resps"]]


def report(run, out) -> str:
    done = subprocess.run([sys.executable, "-m", "culture_metrics", "report", str(run.folder), "--out", str(out)],  # noqa: S603
                          cwd=ROOT, capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    return (out / "leaderboard.md").read_text()


def test_served_chat_draws_ten_distinct_samples_that_follow_hf_prefix(sampling_model, tmp_path):
    need_shared()
    documents = 8
    with TransformersServe(sampling_model, tmp_path / "serve.log") as server:
        run = run_lm_eval(tmp_path / "served", None, TASK, "--limit", str(documents), *CHAT,
                          **served(sampling_model, server.url()))
        sent = server.requests()
    local = run_lm_eval(tmp_path / "local", sampling_model, TASK, "--limit", str(documents), *CHAT,
                        backend="hf-prefix", batch_size=1)

    # transformers serve ignores `n`: one request per sample, 10 per prompt, two prompts a document
    assert sent == documents * 2 * 10
    template = AutoTokenizer.from_pretrained(sampling_model)
    sent_prompts = [template.apply_chat_template(json.loads(arguments["arg_0"][0]), tokenize=False,
                                                 add_generation_prompt=True)
                    for row in run.samples[TASK] for arguments in row["arguments"].values()]
    assert sent_prompts == [arguments["arg_0"] for row in local.samples[TASK]
                            for arguments in row["arguments"].values()]
    distinct = [len(set(resps)) for resps in responses(run)]
    assert all(len(resps) == 10 for resps in responses(run))
    assert sum(distinct) / len(distinct) >= 9, distinct  # hf-prefix on the same prompts: 9.9 of 10
    pvalue, table = first_word_test([r for rs in responses(local) for r in rs],
                                    [r for rs in responses(run) for r in rs])
    assert pvalue > FALSE_ALARM, table

    results = run.results["results"][TASK]
    assert results["collapsed,all_responses"] < 0.5
    assert "sampling_warning" not in run.results["configs"][TASK]["provenance"]
    assert "look collapsed" not in report(run, tmp_path / "report")


def test_the_stock_api_backend_is_flagged_as_collapsed(sampling_model, tmp_path):
    """lm-eval's local-chat-completions sends seed 1234 with every request: ten copies of one sample."""
    need_shared()
    with TransformersServe(sampling_model, tmp_path / "serve.log") as server:
        run = run_lm_eval(tmp_path / "stock", None, TASK, "--limit", "3", *CHAT,
                          **{**served(sampling_model, server.url()), "backend": "local-chat-completions"})
    assert sum(len(set(resps)) for resps in responses(run)) / len(responses(run)) < 2
    assert run.results["results"][TASK]["collapsed,all_responses"] > 0.5
    warning = run.results["configs"][TASK]["provenance"]["sampling_warning"]
    assert "look collapsed" in warning and "may not be sampling" in warning
    board = report(run, tmp_path / "report")
    assert "## ⚠ Samples that look collapsed" in board and warning.split(":")[1].split(".")[0] in board


def test_a_killed_server_fails_the_run_and_the_rerun_sends_only_what_is_missing(sampling_model, tmp_path):
    need_shared()
    documents, cache = 3, tmp_path / "samples.db"
    total = documents * 2 * 10

    def command(server, out, **extra):
        return lm_eval_command(out, None, TASK, "--limit", str(documents), *CHAT,
                               **served(sampling_model, server.url(), **extra))

    with TransformersServe(sampling_model, tmp_path / "first.log") as first:
        child = subprocess.Popen(command(first, tmp_path / "killed", cache=cache), cwd=ROOT, stdout=subprocess.PIPE,  # noqa: S603
                                 stderr=subprocess.STDOUT, text=True)
        deadline = time.monotonic() + 300
        while first.requests() < total // 3 and time.monotonic() < deadline and child.poll() is None:
            time.sleep(0.2)
        first.stop()
        output, _ = child.communicate(timeout=300)
        answered = first.requests()
    assert child.returncode != 0, output[-3000:]
    assert f"the server at {first.url()} failed after 3 tries" in output
    assert "they are cached: run the same command again to send only the missing ones" in output
    assert total // 3 <= answered < total

    with TransformersServe(sampling_model, tmp_path / "second.log") as second:
        resumed = run_lm_eval(tmp_path / "resumed", None, TASK, "--limit", str(documents), *CHAT,
                              **served(sampling_model, second.url(), cache=cache))
        assert second.requests() == total - answered
    with TransformersServe(sampling_model, tmp_path / "third.log") as third:
        whole = run_lm_eval(tmp_path / "whole", None, TASK, "--limit", str(documents), *CHAT,
                            **served(sampling_model, third.url()))
    assert responses(resumed) == responses(whole)
    assert resumed.results["results"] == whole.results["results"]


@pytest.mark.parametrize(("backend", "endpoint", "chat"), [
    ("served-chat", "chat/completions", CHAT),
    ("served-completions", "completions", ()),
])
def test_a_server_that_honours_n_gets_one_request_per_prompt(backend, endpoint, chat, tmp_path):
    need_shared()
    with StandIn() as server:
        run = run_lm_eval(tmp_path / "n", None, TASK, "--limit", "3", *chat,
                          **served("stand-in", server.url(endpoint), backend=backend))
    assert len(server.payloads) == 3 * 2
    assert all(payload["n"] == 10 for payload in server.payloads)
    assert all(isinstance(payload["messages" if chat else "prompt"], list if chat else str)
               for payload in server.payloads)
    for resps in responses(run):
        assert len(set(resps)) == 10
        assert [r.split()[-1].split("/")[1] for r in resps] == [str(i) for i in range(10)]  # choices in order


def test_each_sample_has_its_own_seed_whichever_tasks_share_the_run(tmp_path):
    need_shared()
    with StandIn() as server:
        options = served("stand-in", server.url(), n="false")
        alone = run_lm_eval(tmp_path / "alone", None, TASK, "--limit", "2", *CHAT, **options)
        together = run_lm_eval(tmp_path / "together", None, f"{TASK}_random,{TASK}", "--limit", "2", *CHAT, **options)
        reseeded = run_lm_eval(tmp_path / "reseeded", None, TASK, "--limit", "2", "--seed", "0,1234,7,1234", *CHAT,
                               **options)
    assert len(server.payloads) == 2 * 2 * 10 * 4 and "n" not in server.payloads[0]
    assert responses(alone) == responses(together)
    seeds = [r.split()[-1].split("/")[0] for rs in responses(alone) for r in rs]
    assert len(set(seeds)) == len(seeds)  # no two draws of a document replay each other
    first = alone.samples[TASK][0]
    assert seeds[0] == str(sample_seed(1234, TASK, first["doc_id"], 0, 0))  # the run's seed: --seed's third value
    assert not set(seeds) & {r.split()[-1].split("/")[0] for rs in responses(reseeded) for r in rs}


def test_the_placebo_draw_gets_samples_of_its_own(tmp_path):
    """The second zero-shot draw is its own request: its seeds are not the first draw's."""
    need_shared()
    with StandIn() as server:
        run = run_lm_eval(tmp_path / "placebo", None, TASK, "--limit", "2", *CHAT, "--metadata", '{"placebo": true}',
                          **served("stand-in", server.url()))
    for sample in run.samples[TASK]:
        first, _, second = sample["resps"]
        assert sample["arguments"]["gen_args_2"] == sample["arguments"]["gen_args_0"]
        assert len(second) == 10 and not set(first) & set(second)


def test_use_cache_keeps_the_samples_and_a_rerun_sends_nothing(tmp_path):
    need_shared()
    with StandIn() as server:
        options = served("stand-in", server.url())
        first = run_lm_eval(tmp_path / "first", None, TASK, "--limit", "2", *CHAT, "--use_cache",
                            str(tmp_path / "lm_eval_cache"), **options)
        sent = len(server.payloads)
        again = run_lm_eval(tmp_path / "again", None, TASK, "--limit", "2", *CHAT, "--use_cache",
                            str(tmp_path / "lm_eval_cache"), **options)
    assert sent == 2 * 2 and len(server.payloads) == sent
    assert responses(again) == responses(first)
    assert len({r for rs in responses(first) for r in rs}) == 2 * 2 * 10


def test_a_bad_n_setting_is_refused_in_one_line(tmp_path):
    need_shared()
    with StandIn() as server:
        run = run_lm_eval(tmp_path / "bad", None, TASK, "--limit", "1", *CHAT,
                          **served("stand-in", server.url(), n="sometimes"), check=False)
    assert run.returncode != 0 and "n='sometimes': expected true" in run.output
    assert not server.payloads


def test_lm_eval_python_api_reaches_the_served_backends_after_one_import():
    need_shared()
    import lm_eval
    from lm_eval.tasks import TaskManager

    import culture_metrics.backends

    with StandIn() as server:
        results = lm_eval.simple_evaluate(
            model="served-chat", model_args=f"model=stand-in,base_url={server.url()}", tasks=[TASK], limit=1,
            apply_chat_template=True, task_manager=TaskManager(include_path=str(ROOT / "lm_eval_tasks")))
    assert results["config"]["model"] == "served-chat" in culture_metrics.backends.NAMES
    assert results["results"][TASK]["responses,all_responses"] == 20 and len(server.payloads) == 2
