"""The tasks on a published dataset (WVS_DATASET or metadata `dataset`): read as published, never rebuilt, and
refused whole, in one line, when it is not one `hf_dataset build` wrote for this dataset version.
"""

from __future__ import annotations

import shutil
from types import SimpleNamespace
from typing import TYPE_CHECKING

import datasets
import huggingface_hub
import pyarrow.parquet as pq
import pytest
from conftest import PROBES_ZIP, need_shared
from lm_eval_runs import project_tasks, run_lm_eval
from test_eval_results import parse
from test_report import cli

from culture_metrics import dataset as probes
from hf_dataset.__main__ import main as hf_dataset_cli
from hf_dataset.build import build
from hf_dataset.card import DATASET_VERSION, record_line
from hf_dataset.errors import DataError


if TYPE_CHECKING:
    from pathlib import Path


REPO = "org/wvs-selfalign-probes"
COMMITS = {"v1": "1" * 40, "v0": "0" * 40}


@pytest.fixture
def no_build(monkeypatch, tmp_path) -> Path:
    """An empty project cache and datasets cache, and an upstream source that fails the test if it is ever read."""
    monkeypatch.setenv("WVS_PROBES", str(tmp_path / "nowhere.zip"))
    monkeypatch.setenv("WVS_CACHE_DIR", str(tmp_path / "wvs_cache"))
    monkeypatch.setattr(datasets.config, "HF_DATASETS_CACHE", tmp_path / "hf_datasets")
    monkeypatch.setattr(probes, "read_probe_files", lambda *_: pytest.fail("the upstream probe source was read"))
    return tmp_path


def nothing_cached(root: Path) -> bool:
    return not (root / "wvs_cache").exists() and not (root / "hf_datasets").exists()


def rows(name: str, **settings) -> list[dict]:
    return probes.load_probes(name, **settings)["test"].to_list()


def test_a_published_folder_is_read_as_built_and_the_probe_source_never(built_dataset, no_build, monkeypatch):
    published = datasets.load_dataset(str(built_dataset), name="ro", split="test").to_list()
    assert rows("ro", dataset=str(built_dataset)) == published
    assert probes.load_probes("ro", dataset=str(built_dataset)).hub_dataset is None  # a folder is no Hub dataset
    monkeypatch.setenv("WVS_DATASET", str(built_dataset))
    assert rows("ro") == published
    assert not (no_build / "wvs_cache").exists()  # nothing built


@pytest.mark.parametrize(
    "settings",
    [{}, {"country": "PAK"}, {"collapse": "drop_middle"}, {"clean": True}, {"country": "DEU", "clean": True}],
    ids=["plain", "country", "collapse", "clean", "country-clean"],
)
def test_settings_give_the_same_probes_as_on_a_dataset_built_from_the_source(built_dataset, settings):
    need_shared()
    for language in ("en", "ko"):
        assert rows(language, dataset=str(built_dataset), **settings) == rows(language, **settings), language


def test_a_dataset_labelled_under_another_rule_is_relabelled_to_the_rule_asked_for(tmp_path):
    need_shared()
    other = tmp_path / "drop_middle"
    build(other, PROBES_ZIP, ["ro"], collapse="drop_middle")
    assert rows("ro", dataset=str(other)) == rows("ro")
    assert rows("ro", dataset=str(other), collapse="drop_middle") == rows("ro", collapse="drop_middle")
    assert rows("ro", dataset=str(other)) != rows("ro", collapse="drop_middle")


def copy_with(built: Path, tmp_path: Path, edit) -> Path:
    folder = tmp_path / "published"
    shutil.copytree(built, folder)
    edit(folder)
    return folder


def edit_card(old: str, new: str):
    def edit(folder: Path) -> None:
        card = folder / "README.md"
        assert old in card.read_text()
        card.write_text(card.read_text().replace(old, new))

    return edit


def drop_column(folder: Path) -> None:
    table = pq.read_table(folder / "data" / "ro.parquet")
    pq.write_table(table.drop_columns(["quirk"]), folder / "data" / "ro.parquet")


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda f: shutil.rmtree(f) or f.mkdir(), "no readable README.md, so it is not a folder"),
        (edit_card("<!-- built by hf_dataset -->", ""), "its README.md has no build marker"),
        (edit_card(record_line("paper"), record_line("paper").replace(DATASET_VERSION, "1.0")),
         f"dataset version 1.0, but this project reads version {DATASET_VERSION}"),
        (edit_card(record_line("paper"), ""), "dataset version unknown (built before versions were recorded)"),
        (edit_card("- config_name: ro\n", "- config_name: romanian\n"), "has no config for language 'ro'"),
        (lambda f: (f / "data" / "de.parquet").unlink(), "data/de.parquet of config de is missing or not parquet"),
        (drop_column, "data/ro.parquet of config ro does not hold the columns of dataset version"),
    ],
    ids=["not-a-dataset", "no-marker", "other-version", "no-version", "no-config", "missing-file", "other-columns"],
)
def test_a_folder_that_is_not_this_dataset_is_refused_in_one_line_and_nothing_is_cached(
    built_dataset, no_build, edit, message
):
    folder = copy_with(built_dataset, no_build, edit)
    with pytest.raises(DataError) as error:
        probes.load_probes("ro", dataset=str(folder))
    assert str(error.value).startswith(f"dataset {folder}: ") and message in str(error.value)
    assert "\n" not in str(error.value)
    assert nothing_cached(no_build)


def test_a_subset_build_lacks_the_other_languages(no_build):
    need_shared()
    subset = no_build / "subset"
    build(subset, PROBES_ZIP, ["en", "ro"])
    assert len(rows("ro", dataset=str(subset))) == 248
    with pytest.raises(DataError, match=f"^dataset {subset}: has no config for language 'de'$"):
        probes.load_probes("de", dataset=str(subset))


@pytest.mark.parametrize(
    ("name", "message"),
    [("./missing", "no such folder"), ("/", "no readable README.md"),
     ("org/name@", "neither an existing folder nor a Hub dataset id"),
     ("not a repo", "neither an existing folder nor a Hub dataset id")],
)
def test_a_name_that_is_neither_a_folder_nor_a_hub_id_is_refused(no_build, name, message):
    with pytest.raises(DataError, match=f"^dataset {name}: {message}"):
        probes.load_probes("ro", dataset=name)


@pytest.fixture
def hub_cache(monkeypatch, no_build, built_dataset) -> Path:
    """An offline Hugging Face cache holding REPO as downloads leave it: v1 this dataset, v0 another version."""
    cache = no_build / "hub"
    repo = cache / f"datasets--{REPO.replace('/', '--')}"
    (repo / "refs").mkdir(parents=True)
    for ref, commit in COMMITS.items():
        shutil.copytree(built_dataset, repo / "snapshots" / commit)
        (repo / "refs" / ref).write_text(commit)
    old = repo / "snapshots" / COMMITS["v0"] / "README.md"
    old.write_text(old.read_text().replace(f'"version": "{DATASET_VERSION}"', '"version": "1.0"'))
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(cache))
    monkeypatch.setattr(datasets.config, "HF_HUB_OFFLINE", True)
    return cache


def test_a_hub_dataset_is_read_offline_at_the_pinned_revision_and_cited_at_its_commit(hub_cache, built_dataset):
    published = datasets.load_dataset(str(built_dataset), name="ro", split="test").to_list()
    for pinned in ("v1", COMMITS["v1"]):
        read = probes.load_probes("ro", dataset=f"{REPO}@{pinned}")
        assert read["test"].to_list() == published
        assert read.hub_dataset == {"id": REPO, "revision": COMMITS["v1"], "pinned": pinned}
    with pytest.raises(DataError, match=f"^dataset {REPO}@v0: dataset version 1.0, but this project reads"):
        probes.load_probes("ro", dataset=f"{REPO}@v0")


@pytest.mark.parametrize("name", [f"{REPO}@v2", f"{REPO}", "org/elsewhere@v1"], ids=["revision", "main", "repo"])
def test_a_hub_dataset_missing_from_the_offline_cache_is_one_line(hub_cache, name):
    with pytest.raises(DataError) as error:
        probes.load_probes("ro", dataset=name)
    assert str(error.value) == (
        f"dataset {name}: not in the local Hugging Face cache, and the Hub cannot be reached or offline mode is on "
        "(HF_HUB_OFFLINE, HF_DATASETS_OFFLINE); run once online to cache it, or set WVS_DATASET to a folder"
    )
    assert nothing_cached(hub_cache.parent)


def test_an_unpinned_run_records_the_commit_it_read_and_its_hub_eval_results_cite_it(hub_cache, tiny_model,
                                                                                      tmp_path):
    (hub_cache / f"datasets--{REPO.replace('/', '--')}" / "refs" / "main").write_text(COMMITS["v1"])
    run = run_lm_eval(tmp_path / "run", tiny_model, "wvs_selfalign_ro", "--limit", "2", env={"WVS_DATASET": REPO})
    cited = {"id": REPO, "revision": COMMITS["v1"], "pinned": None}
    assert run.results["configs"]["wvs_selfalign_ro"]["provenance"]["hub_dataset"] == cited
    out = tmp_path / "eval_results"
    done = cli("report", run.folder, "--out", tmp_path / "board", "--bootstrap", "0", "--eval-results", out)
    assert done.returncode == 0, done.stderr
    files = sorted(out.rglob("*.yaml"))
    assert files
    for path in files:
        assert parse(path)["dataset"] == {"id": REPO, "task_id": f"wvs_selfalign_ro.{path.stem.split('__')[-1]}",
                                          "revision": COMMITS["v1"]}


def test_task_metadata_names_the_dataset_and_the_fingerprint_is_the_built_ones(built_dataset):
    need_shared()

    def fingerprint(**metadata) -> str:
        task = project_tasks(metadata).load(["wvs_selfalign_en"])
        return task["tasks"]["wvs_selfalign_en"].provenance()["dataset_fingerprint"]

    assert fingerprint(dataset=str(built_dataset), country="PAK") == fingerprint(country="PAK")


def test_lm_eval_on_a_published_folder_records_the_fingerprint_of_a_run_that_built_it(tiny_model, built_dataset,
                                                                                     tmp_path):
    need_shared()
    built = run_lm_eval(tmp_path / "built", tiny_model, "wvs_selfalign_ro", "--limit", "2")
    published = run_lm_eval(tmp_path / "published", tiny_model, "wvs_selfalign_ro", "--limit", "2", env={
        "WVS_DATASET": str(built_dataset), "WVS_PROBES": str(tmp_path / "nowhere.zip"),
        "WVS_CACHE_DIR": str(tmp_path / "cache")})
    fingerprints = [run.results["configs"]["wvs_selfalign_ro"]["provenance"]["dataset_fingerprint"]
                    for run in (built, published)]
    assert fingerprints[0] == fingerprints[1]
    assert [s["doc"] for s in built.samples["wvs_selfalign_ro"]] == [s["doc"] for s in
                                                                      published.samples["wvs_selfalign_ro"]]
    assert not (tmp_path / "cache").exists()


def test_lm_eval_on_a_wrong_folder_stops_with_one_line(tiny_model, tmp_path):
    (tmp_path / "wrong").mkdir()
    (tmp_path / "wrong" / "README.md").write_text("# some other dataset\n")
    run = run_lm_eval(tmp_path / "out", tiny_model, "wvs_selfalign_ro", "--limit", "1", check=False,
                      env={"WVS_DATASET": str(tmp_path / "wrong"), "WVS_CACHE_DIR": str(tmp_path / "cache")})
    assert run.returncode != 0
    message = (f"wvs_selfalign_ro cannot be built: dataset {tmp_path / 'wrong'}: its README.md has no build marker, "
               "so it is not one `python -m hf_dataset build` wrote\n")
    assert message in run.output and run.output.index(message) < run.output.index("Traceback")
    assert not (tmp_path / "cache").exists()


def test_push_to_hub_uploads_the_folder_and_prints_the_revision_to_pin(monkeypatch, tmp_path, capsys):
    need_shared()
    pushed = []

    def upload_folder(_, **kwargs):
        pushed.append(kwargs)
        return SimpleNamespace(oid=COMMITS["v1"])  # the one field of huggingface_hub.CommitInfo the CLI reads

    monkeypatch.setattr(huggingface_hub.HfApi, "create_repo", lambda _, *args, **kwargs: pushed.append((args, kwargs)))
    monkeypatch.setattr(huggingface_hub.HfApi, "upload_folder", upload_folder)
    out = tmp_path / "ds"
    assert hf_dataset_cli(["build", "--probes", str(PROBES_ZIP), "--languages", "ro", "--out", str(out),
                           "--push-to-hub", REPO]) == 0
    assert pushed == [((REPO,), {"repo_type": "dataset", "exist_ok": True}),
                      {"folder_path": str(out), "repo_id": REPO, "repo_type": "dataset"}]
    assert f"run the tasks on it with WVS_DATASET={REPO}@{COMMITS['v1']}" in capsys.readouterr().out


def test_a_failed_push_is_one_line_and_keeps_the_built_folder(monkeypatch, tmp_path, capsys):
    need_shared()

    def offline(*_, **__):
        raise ConnectionError("Connection refused\n(details)")

    monkeypatch.setattr(huggingface_hub.HfApi, "create_repo", offline)
    out = tmp_path / "ds"
    assert hf_dataset_cli(["build", "--probes", str(PROBES_ZIP), "--languages", "ro", "--out", str(out),
                           "--push-to-hub", REPO]) == 2
    error = capsys.readouterr().err
    assert error.startswith(f"error: cannot push {out} to the Hub dataset {REPO}: Connection refused (the folder")
    assert error.count("\n") == 1 and (out / "data" / "ro.parquet").is_file()
