"""The served backends through a real OpenAI-compatible server (transformers serve, started once here on loopback):
ten distinct samples per prompt following hf-prefix's distribution, the requests a document costs, a killed server's
run resumed from its cache, and the collapse guard on lm-eval's stock API backend, in the results and in the report;
`n` and seeds against a stand-in server, in-process.
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
from served_runs import CHAT, TASK, evaluate, responses, served
from servers import StandIn
from transformers import AutoTokenizer

from benchmarks.serving import TransformersServe
from culture_metrics.backends.served import sample_seed


@pytest.fixture(scope="module")
def serve(sampling_model, tmp_path_factory):
    """One transformers serve for the tests that only talk to it; they count their requests as differences."""
    need_shared()
    with TransformersServe(sampling_model, tmp_path_factory.mktemp("serve") / "serve.log") as server:
        yield server


def report(run, out) -> str:
    done = subprocess.run([sys.executable, "-m", "culture_metrics", "report", str(run.folder), "--out", str(out)],  # noqa: S603
                          cwd=ROOT, capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    return (out / "leaderboard.md").read_text()


def test_served_chat_draws_ten_distinct_samples_that_follow_hf_prefix(serve, sampling_model, tmp_path):
    documents = 8
    before = serve.requests()
    run = run_lm_eval(tmp_path / "served", None, TASK, "--limit", str(documents), *CHAT,
                      **served(sampling_model, serve.url()))
    sent = serve.requests() - before
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


def test_the_stock_api_backend_is_flagged_as_collapsed(serve, sampling_model, tmp_path):
    """lm-eval's local-chat-completions sends seed 1234 with every request: ten copies of one sample."""
    run = run_lm_eval(tmp_path / "stock", None, TASK, "--limit", "2", *CHAT,
                      **{**served(sampling_model, serve.url()), "backend": "local-chat-completions"})
    assert sum(len(set(resps)) for resps in responses(run)) / len(responses(run)) < 2
    assert run.results["results"][TASK]["collapsed,all_responses"] > 0.5
    warning = run.results["configs"][TASK]["provenance"]["sampling_warning"]
    assert "look collapsed" in warning and "may not be sampling" in warning
    board = report(run, tmp_path / "report")
    assert "## ⚠ Samples that look collapsed" in board and warning.split(":")[1].split(".")[0] in board


def test_a_killed_server_fails_the_run_and_the_rerun_sends_only_what_is_missing(serve, sampling_model, tmp_path):
    documents, cache = 2, tmp_path / "samples.db"
    total = documents * 2 * 10

    def command(server, out, **extra):
        return lm_eval_command(out, None, TASK, "--limit", str(documents), *CHAT,
                               **served(sampling_model, server.url(), **extra))

    with TransformersServe(sampling_model, tmp_path / "first.log") as first:
        child = subprocess.Popen(command(first, tmp_path / "killed", cache=cache, max_retries=2),  # noqa: S603
                                 cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 300
        while first.requests() < total // 3 and time.monotonic() < deadline and child.poll() is None:
            time.sleep(0.2)
        first.stop()
        _, errors = child.communicate(timeout=300)
        answered = first.requests()
    assert child.returncode != 0, errors[-3000:]
    assert total // 3 <= answered < total
    assert errors.strip().splitlines()[-1] == (
        f"ServedChat: the server at {first.url()} failed 2 tries (ClientConnectorError: Cannot connect to host "
        f"127.0.0.1:{first.port} ssl:default [Connect call failed ('127.0.0.1', {first.port})]; max_retries= in "
        f"--model_args); {answered} of {total} samples answered, kept in the cache: run the same command again to "
        f"send only the missing ones")
    assert "never retrieved" not in errors and "Traceback" not in errors

    before = serve.requests()
    resumed = run_lm_eval(tmp_path / "resumed", None, TASK, "--limit", str(documents), *CHAT,
                          **served(sampling_model, serve.url(), cache=cache))
    assert serve.requests() - before == total - answered
    assert f"{answered} of {total} samples read from the cache, {total - answered} to request" in resumed.output
    whole = run_lm_eval(tmp_path / "whole", None, TASK, "--limit", str(documents), *CHAT,
                        **served(sampling_model, serve.url()))
    assert responses(resumed) == responses(whole)
    assert resumed.results["results"] == whole.results["results"]


@pytest.mark.parametrize(("backend", "endpoint"), [("served-chat", "chat/completions"),
                                                   ("served-completions", "completions")])
def test_a_server_that_honours_n_gets_one_request_per_prompt(backend, endpoint):
    need_shared()
    with StandIn() as server:
        run = evaluate(server.url(endpoint), backend, limit=3)
    assert len(server.payloads) == 3 * 2
    assert all(payload["n"] == 10 for payload in server.payloads)
    chat = backend == "served-chat"
    assert all(isinstance(payload["messages" if chat else "prompt"], list if chat else str)
               for payload in server.payloads)
    for resps in responses(run):
        assert len(set(resps)) == 10
        assert [r.split()[-1].split("/")[1] for r in resps] == [str(i) for i in range(10)]  # choices in order


def test_each_sample_has_its_own_seed_whichever_tasks_share_the_run():
    need_shared()
    with StandIn() as server:
        alone = evaluate(server.url(), n="false")
        together = evaluate(server.url(), tasks=(f"{TASK}_random", TASK), n="false")
        reseeded = evaluate(server.url(), n="false", torch_seed=7)  # what --seed's third value sets
    assert len(server.payloads) == 2 * 2 * 10 * 4 and "n" not in server.payloads[0]
    assert responses(alone) == responses(together)
    seeds = [r.split()[-1].split("/")[0] for rs in responses(alone) for r in rs]
    assert len(set(seeds)) == len(seeds)  # no two draws of a document replay each other
    first = alone["samples"][TASK][0]
    assert seeds[0] == str(sample_seed(1234, TASK, first["doc_id"], 0, 0))  # the run's seed: the torch seed
    assert not set(seeds) & {r.split()[-1].split("/")[0] for rs in responses(reseeded) for r in rs}


def test_the_placebo_draw_gets_samples_of_its_own():
    """The second zero-shot draw is its own request: its seeds are not the first draw's."""
    need_shared()
    with StandIn() as server:
        run = evaluate(server.url(), metadata={"placebo": True})
    for sample in run["samples"][TASK]:
        first, _, second = sample["resps"]
        assert sample["arguments"][2] == sample["arguments"][0]  # the same prompt and settings
        assert len(second) == 10 and not set(first) & set(second)


def test_use_cache_keeps_the_samples_and_a_rerun_sends_nothing(tmp_path):
    need_shared()
    with StandIn() as server:
        first = evaluate(server.url(), use_cache=str(tmp_path / "lm_eval_cache"))
        sent = len(server.payloads)
        again = evaluate(server.url(), use_cache=str(tmp_path / "lm_eval_cache"))
    assert sent == 2 * 2 and len(server.payloads) == sent
    assert responses(again) == responses(first)
    assert len({r for rs in responses(first) for r in rs}) == 2 * 2 * 10


def test_a_bad_n_setting_is_refused():
    need_shared()
    with StandIn() as server, pytest.raises(TypeError, match="n='sometimes': expected true"):
        evaluate(server.url(), n="sometimes")
    assert not server.payloads


def test_lm_eval_python_api_reaches_the_served_backends_after_one_import():
    need_shared()
    import culture_metrics.backends

    with StandIn() as server:
        results = evaluate(server.url(), limit=1)
    assert results["config"]["model"] == "served-chat" in culture_metrics.backends.NAMES
    assert results["results"][TASK]["responses,all_responses"] == 20 and len(server.payloads) == 2
