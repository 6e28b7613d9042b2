"""The folder writer the dataset build, the model conversion and the report share: whole or not at all."""

from __future__ import annotations

import pytest

from hf_dataset.folders import refuse_foreign, staged_folder


class Refused(Exception):
    pass


def names(folder):
    return sorted(path.name for path in folder.iterdir())


def test_a_new_folder_appears_only_when_the_block_ends(tmp_path):
    out = tmp_path / "deep" / "out"
    with staged_folder(out) as staging:
        (staging / "a.txt").write_text("a")
        assert not out.exists() and staging.parent == out.parent
    assert names(out) == ["a.txt"]
    assert names(out.parent) == ["out"]


def test_an_old_folder_is_replaced_whole(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "old.txt").write_text("old")
    with staged_folder(out) as staging:
        (staging / "new.txt").write_text("new")
        assert names(out) == ["old.txt"]
    assert names(out) == ["new.txt"]
    assert names(tmp_path) == ["out"]


def test_a_failure_keeps_the_old_folder_and_leaves_nothing_beside_it(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "old.txt").write_text("old")
    with pytest.raises(RuntimeError, match="half-way"), staged_folder(out) as staging:
        (staging / "new.txt").write_text("new")
        raise RuntimeError("half-way")
    assert names(out) == ["old.txt"]
    assert names(tmp_path) == ["out"]


def test_keep_existing_keeps_what_another_process_wrote_first(tmp_path):
    out = tmp_path / "out"
    with staged_folder(out, keep_existing=True) as staging:
        (staging / "mine.txt").write_text("mine")
        out.mkdir()
        (out / "theirs.txt").write_text("theirs")
    assert names(out) == ["theirs.txt"]
    assert names(tmp_path) == ["out"]


def test_the_staged_folder_has_the_umask_permissions(tmp_path):
    reference = tmp_path / "reference"
    reference.mkdir()
    with staged_folder(tmp_path / "out") as staging:
        assert staging.stat().st_mode == reference.stat().st_mode


@pytest.mark.parametrize("state", ["absent", "empty", "ours"])
def test_absent_empty_or_own_folders_may_be_replaced(tmp_path, state):
    out = tmp_path / "out"
    if state != "absent":
        out.mkdir()
    if state == "ours":
        (out / "MARK").write_text("")
    refuse_foreign(out, lambda folder: (folder / "MARK").exists(), Refused(str(out)))


@pytest.mark.parametrize("state", ["foreign folder", "file"])
def test_anything_else_is_refused(tmp_path, state):
    out = tmp_path / "out"
    if state == "file":
        out.write_text("keep me")
    else:
        out.mkdir()
        (out / "notes.txt").write_text("keep me")
    with pytest.raises(Refused, match="out"):
        refuse_foreign(out, lambda folder: (folder / "MARK").exists(), Refused(str(out)))
