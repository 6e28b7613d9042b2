"""The project installed into a fresh environment, as a user installs it: `lm_eval --tasks wvs_selfalign_ro` works
as written after the one documented step, and the package carries everything the tasks need.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import TYPE_CHECKING

import pytest
from conftest import PROBES_ZIP, ROOT, need_shared

from benchmarks.serving import TransformersServe


if TYPE_CHECKING:
    from pathlib import Path


def run(command: list[str], **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(command, capture_output=True, text=True, timeout=1800, **kwargs, check=False)  # noqa: S603


@pytest.fixture(scope="module")
def fresh_env(tmp_path_factory) -> Path:
    """A new virtual environment with the project installed from a copy of the checkout (not editable)."""
    venv = tmp_path_factory.mktemp("fresh") / "venv"
    assert run([sys.executable, "-m", "venv", str(venv)]).returncode == 0
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    for step in (["torch==2.13.0"], [str(ROOT)]):
        done = run([*pip, *step])
        assert done.returncode == 0, done.stderr[-3000:]
    return venv


def test_lm_eval_finds_the_tasks_by_name_after_install(fresh_env, tiny_model, tmp_path):
    need_shared()
    python, lm_eval = str(fresh_env / "bin" / "python"), str(fresh_env / "bin" / "lm_eval")
    env = {**os.environ, "WVS_PROBES": str(PROBES_ZIP), "WVS_CACHE_DIR": str(tmp_path / "cache")}
    command = [lm_eval, "--model", "hf", "--model_args", f"pretrained={tiny_model},dtype=float32",
               "--tasks", "wvs_selfalign_ro", "--limit", "2", "--batch_size", "8", "--output_path", str(tmp_path / "out")]
    before = run(command, env=env, cwd=tmp_path)
    assert before.returncode != 0 and "wvs_selfalign_ro" in before.stdout + before.stderr

    done = run([python, "-m", "lm_eval_tasks", "install"], env=env, cwd=tmp_path)
    assert done.returncode == 0 and "installed the wvs_selfalign tasks" in done.stdout, done.stderr
    after = run(command, env=env, cwd=tmp_path)
    assert after.returncode == 0, after.stderr[-4000:]
    (results_file,) = (tmp_path / "out").rglob("results_*.json")
    results = json.loads(results_file.read_text())["results"]["wvs_selfalign_ro"]
    assert results["documents,all_responses"] == 2 and results["responses,all_responses"] == 40

    assert run([python, "-m", "lm_eval_tasks", "uninstall"], env=env, cwd=tmp_path).returncode == 0
    assert run(command, env=env, cwd=tmp_path).returncode != 0


def test_the_readme_served_command_runs_after_the_readme_install(fresh_env, sampling_model, tmp_path):
    """The project's own install brings what the served backends need (lm-eval[api]); after the tasks are
    installed, wvs-lm-eval finds them where lm-eval does and adds no --include_path that would override each one.
    """
    need_shared()
    python, wvs_lm_eval = str(fresh_env / "bin" / "python"), str(fresh_env / "bin" / "wvs-lm-eval")
    env = {**os.environ, "WVS_PROBES": str(PROBES_ZIP), "WVS_CACHE_DIR": str(tmp_path / "cache")}
    assert run([python, "-m", "lm_eval_tasks", "install"], env=env, cwd=tmp_path).returncode == 0
    try:
        with TransformersServe(sampling_model, tmp_path / "serve.log") as server:
            done = run([wvs_lm_eval, "run", "--model", "served-chat", "--model_args",
                        f"model={sampling_model},base_url={server.url()},cache={tmp_path / 'served.db'}",
                        "--tasks", "wvs_selfalign_ro", "--apply_chat_template", "--limit", "2",
                        "--output_path", str(tmp_path / "out")], env=env, cwd=tmp_path)
            assert server.requests() == 2 * 2 * 10
    finally:
        run([python, "-m", "lm_eval_tasks", "uninstall"], env=env, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-4000:]
    assert "overrides existing task" not in done.stdout + done.stderr
    (results_file,) = (tmp_path / "out").rglob("results_*.json")
    results = json.loads(results_file.read_text())["results"]["wvs_selfalign_ro"]
    assert results["responses,all_responses"] == 40 and results["collapsed,all_responses"] < 0.5


def test_the_package_declares_its_task_folder_for_lm_eval_plugins(fresh_env):
    """lm-eval releases with task plugins read the `lm_eval.tasks` entry point: it must name the installed folder."""
    python = str(fresh_env / "bin" / "python")
    probe = ("import importlib.metadata as md, importlib.util, pathlib;"
             "(ep,) = md.entry_points(group='lm_eval.tasks');"
             "spec = importlib.util.find_spec(ep.value);"
             "folder = pathlib.Path(list(spec.submodule_search_locations)[0]);"
             "print(ep.name, len(list(folder.glob('*.yaml'))), len(list(folder.glob('*_yaml'))))")
    done = run([python, "-c", probe], cwd="/")
    assert done.stdout.split() == ["wvs_selfalign", str(14 * 9 + 9), "8"], done.stderr  # tasks, groups; templates


def test_the_package_declares_its_model_backends_for_lm_eval_plugins(fresh_env):
    """lm-eval releases with model plugins read the `lm_eval.models` entry points: each must load its backend."""
    probe = ("import importlib.metadata as md;"
             "print(sorted((ep.name, ep.load().__name__) for ep in md.entry_points(group='lm_eval.models')))")
    done = run([str(fresh_env / "bin" / "python"), "-c", probe], cwd="/")
    assert done.stdout.strip() == str([("hf-prefix", "HFPrefixLM"), ("served-chat", "ServedChat"),
                                       ("served-completions", "ServedCompletions")]), done.stderr[-2000:]
