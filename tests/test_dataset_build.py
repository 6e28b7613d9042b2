"""The dataset build: real upstream data in, a loadable labelled dataset out, and every bad input refused whole."""

from __future__ import annotations

import json
import shutil
import zipfile
from typing import TYPE_CHECKING

import datasets
import pytest
from commands import run_main, run_module
from conftest import ANSWER_COUNTS, PROBES_DIR, PROBES_ZIP, need_shared

from hf_dataset.__main__ import main
from hf_dataset.build import build, build_tables
from hf_dataset.collapse import RULES, Sides, label, load_collapse, parse_codes
from hf_dataset.errors import DataError
from hf_dataset.languages import LANGUAGE_COUNTRY, LANGUAGES


if TYPE_CHECKING:
    import subprocess
    from pathlib import Path


COLUMNS = ["id", "question", "category", "language", "country", "template", "option_a", "option_b", "quirk",
           "answer", "share_a", "respondents"]
PAPER_PROBES = 237  # per language, in the paper


def build_cli(*args: str) -> subprocess.CompletedProcess:
    """`python -m hf_dataset build` in this process."""
    return run_main(main, "build", *args)


def test_builds_all_14_languages_from_zip_and_folder_identically(built_dataset, tmp_path):
    from_folder = tmp_path / "from_folder"
    done = build_cli("--probes", str(PROBES_DIR), "--out", str(from_folder))
    assert done.returncode == 0, done.stderr
    for lang in LANGUAGES:
        a = datasets.load_dataset(str(built_dataset), name=lang, split="test")
        b = datasets.load_dataset(str(from_folder), name=lang, split="test")
        assert a.column_names == COLUMNS
        assert a.to_list() == b.to_list()
        assert len(a) > 150
        assert set(a["language"]) == {lang} and set(a["country"]) == {LANGUAGE_COUNTRY[lang]}
        assert all(t.count("_") == 1 for t in a["template"])


def test_card_lists_counts_and_exclusions_per_language(built_dataset):
    card = (built_dataset / "README.md").read_text()
    for lang in LANGUAGES:
        ds = datasets.load_dataset(str(built_dataset), name=lang, split="test")
        labelled = sum(a is not None for a in ds["answer"])
        assert f"- config_name: {lang}\n" in card
        assert f"| {lang} |" in card and f"| {LANGUAGE_COUNTRY[lang]} | {len(ds)} | {labelled} |" in card
    assert "Economic Values section, excluded by the paper" in card
    assert "Indonesia's WVS-7 figures cover Q1-Q198" in card
    assert "This build uses the `paper` rule" in card
    assert "license: gpl-3.0" in card and "@inproceedings{choenni-shutova-2024-self-alignment" in card


def independent_labels_hold(dataset: Path, rule: str) -> int:
    """Recompute every label from the raw figures in ../shared and the collapse table, by hand."""
    counts = json.loads(ANSWER_COUNTS.read_text())
    rules = load_collapse()
    checked = 0
    for lang in LANGUAGES:
        country = LANGUAGE_COUNTRY[lang]
        for row in datasets.load_dataset(str(dataset), name=lang, split="test"):
            answers = counts[country]["counts"].get(f"Q{row['question']}")
            if rules[row["id"]].countries and country not in rules[row["id"]].countries:
                answers = None
            if answers is None:
                assert row["answer"] is None and row["share_a"] is None
                continue
            sides = rules[row["id"]].sides(rule)
            a = sum(n for code, n in answers.items() if int(code) in sides.option_a)
            b = sum(n for code, n in answers.items() if int(code) in sides.option_b)
            assert row["respondents"] == a + b
            assert row["share_a"] == pytest.approx(a / (a + b))
            assert row["answer"] == (row["option_a"] if a > b else row["option_b"] if b > a else None)
            checked += 1
    return checked


def test_labels_match_an_independent_count(built_dataset):
    assert independent_labels_hold(built_dataset, "paper") > 3000


def test_drop_middle_rule_builds_and_differs_only_where_a_middle_exists(built_dataset, tmp_path):
    out = tmp_path / "drop_middle"
    done = build_cli("--probes", str(PROBES_ZIP), "--collapse", "drop_middle", "--out", str(out))
    assert done.returncode == 0, done.stderr
    assert "collapse rule: drop_middle" in done.stdout
    assert independent_labels_hold(out, "drop_middle") > 3000
    rules = load_collapse()
    for lang in LANGUAGES:
        paper = datasets.load_dataset(str(built_dataset), name=lang, split="test")
        other = datasets.load_dataset(str(out), name=lang, split="test")
        differ = {p["id"] for p, o in zip(paper, other, strict=True) if p["answer"] != o["answer"]}
        with_middle = {i for i, r in rules.items() if r.sides("paper") != r.sides("drop_middle")}
        assert differ <= with_middle, lang
        assert differ or lang == "id", lang  # the rule matters in every fully covered country


def test_us_labels_reproduce_the_papers_published_examples(built_dataset):
    """The paper's Table 2 prints US labels for the immigration items; "Hard to say" must count as disagree."""
    rows = {r["id"]: r for r in datasets.load_dataset(str(built_dataset), name="en", split="test")}
    published = {"Q124": "disagree", "Q126": "disagree", "Q128": "disagree", "Q129": "disagree"}
    assert {q: rows[q]["answer"] for q in published} == published
    # Where "Agree" beats "Disagree" and "Hard to say" together, both rules give agree.
    assert [rows[q]["answer"] for q in ("Q122", "Q123", "Q127")] == ["agree"] * 3


def test_every_language_keeps_at_least_the_papers_probe_count(built_dataset):
    rules = load_collapse()
    for lang in LANGUAGES:
        ds = datasets.load_dataset(str(built_dataset), name=lang, split="test")
        assert len(ds) >= PAPER_PROBES, lang
        assert [r for r in ds["id"]] == list(rules), lang  # every probe id the collapse table knows, in order
        if lang != "id":
            assert sum(a is not None for a in ds["answer"]) >= PAPER_PROBES, lang
    korean = datasets.load_dataset(str(built_dataset), name="ko", split="test")
    political = [r for r in korean if r["category"] == "Political Interest & Political Participation"]
    assert len(political) == 35 and sum(bool(r["quirk"]) for r in political) >= 30  # Q199-Q234 less Q223


def test_quirk_column_names_the_repairs_and_is_empty_for_clean_probes(built_dataset):
    english = datasets.load_dataset(str(built_dataset), name="en", split="test")
    assert set(english["quirk"]) == {""}
    german = {r["id"]: r for r in datasets.load_dataset(str(built_dataset), name="de", split="test")}
    assert german["Q46"]["quirk"] == "typo-option" and german["Q128"]["quirk"].startswith("reversed-statement")
    assert german["Q1"]["quirk"] == ""
    assert all(german[f"Q{n}"]["quirk"] == "neighbour-option" for n in range(18, 27))
    assert german["Q18"]["option_b"] != german["Q7"]["option_b"]  # no longer "discouraged"


def test_indonesia_is_partial_and_unlabelled_probes_are_kept(built_dataset):
    ds = datasets.load_dataset(str(built_dataset), name="id", split="test")
    late = [row for row in ds if row["question"] >= 199]
    assert late and all(row["answer"] is None and row["respondents"] is None for row in late)
    early = [row for row in ds if row["question"] < 82]
    assert all(row["answer"] is not None or row["share_a"] == 0.5 for row in early)  # Indonesia has a real tie


@pytest.mark.parametrize(
    ("codes", "rule", "expected"),
    [
        ({1: 700, 2: 200, 3: 50, 4: 50}, ("1-2", "3-4", ""), ("a", 0.9, 1000)),  # 4-point
        ({1: 10, 2: 20, 3: 500, 4: 30, 5: 40}, ("1-2", "4-5", "3"), ("b", 0.3, 100)),  # midpoint left out
        ({1: 10, 2: 20, 3: 500, 4: 30, 5: 40}, ("1-2", "3-5", ""), ("b", 0.05, 600)),  # midpoint with option_b
        ({1: 5, 5: 30, 6: 10, 10: 70}, ("6-10", "1-5", ""), ("a", 80 / 115, 115)),  # reversed 1-10 scale
        ({0: 40, 1: 900, 2: 60}, ("2", "0", "1"), ("a", 0.6, 100)),  # reversed codes, 1 = hard to say
        ({1: 50, 2: 50}, ("1", "2", ""), (None, 0.5, 100)),  # tie: no label
        ({3: 10}, ("1", "2", "3"), (None, None, None)),  # only neutral answers
    ],
)
def test_collapse_of_each_scale_type(codes, rule, expected):
    result = label(codes, Sides(*(parse_codes(part, "test") for part in rule)))
    assert (result.side, result.respondents) == (expected[0], expected[2])
    assert result.share_a == (None if expected[1] is None else pytest.approx(expected[1]))


def test_an_answer_code_outside_the_table_is_an_error():
    with pytest.raises(DataError, match=r"ROU Q7: answer code\(s\) \[9\]"):
        label({1: 5, 9: 1}, Sides(frozenset({1}), frozenset({2}), frozenset()), where="ROU Q7")


def test_unknown_collapse_rule_is_refused(tmp_path):
    done = build_cli("--probes", str(PROBES_DIR), "--collapse", "median", "--out", str(tmp_path / "out"))
    assert done.returncode == 2 and "invalid choice: 'median'" in done.stderr
    with pytest.raises(DataError, match="unknown collapse rule 'median'; known: paper drop_middle"):
        build_tables(PROBES_DIR, ["en"], collapse="median")
    assert RULES == ("paper", "drop_middle")


def write_wvs_csv(path: Path, rows: list[dict[str, int | str]]) -> None:
    """A small file in the official WVS-7 CSV layout: quoted header, identification columns, then Q1..Q259."""
    header = ["version", "doi", "A_WAVE", "B_COUNTRY", "B_COUNTRY_ALPHA"] + [f"Q{n}" for n in range(1, 260)]
    lines = [",".join(f'"{h}"' for h in header)]
    for row in rows:
        values = ["5-0-0", "10.14281/18241.20", "7", str(row.get("B_COUNTRY", 360)), f'"{row["B_COUNTRY_ALPHA"]}"']
        values += [str(row.get(f"Q{n}", -4)) for n in range(1, 260)]
        lines.append(",".join(values))
    path.write_text("\n".join(lines) + "\n")


def test_wvs_csv_completes_indonesia(tmp_path):
    need_shared()
    # 3 agree-ish (1-2) and 1 disagree (4-5) on Q235 (1-2 good vs 3-4 bad); a -1 (don't know) left out.
    answers = [1, 2, 2, 4, -1]
    write_wvs_csv(tmp_path / "wvs.csv", [{"B_COUNTRY_ALPHA": "IDN", "Q235": a, "Q1": 1} for a in answers])
    out = tmp_path / "ds"
    done = build_cli("--probes", str(PROBES_ZIP), "--languages", "id", "--wvs-csv", str(tmp_path / "wvs.csv"),
                     "--out", str(out))
    assert done.returncode == 0, done.stderr
    rows = {r["id"]: r for r in datasets.load_dataset(str(out), name="id", split="test")}
    rule = load_collapse()["Q235"].sides()
    a = sum(1 for x in answers if x in rule.option_a)
    b = sum(1 for x in answers if x in rule.option_b)
    assert rows["Q235"]["respondents"] == a + b == 4
    assert rows["Q235"]["share_a"] == pytest.approx(a / (a + b))
    assert rows["Q1"]["respondents"] == len(answers)  # the recount replaces Indonesia's figures entirely
    assert rows["Q2"]["answer"] is None  # every answer missing (-4) -> no label


def test_wvs_csv_bad_value_names_the_line(tmp_path):
    write_wvs_csv(tmp_path / "wvs.csv", [{"B_COUNTRY_ALPHA": "IDN", "Q5": 1}, {"B_COUNTRY_ALPHA": "IDN", "Q5": "x"}])
    done = build_cli("--probes", str(PROBES_DIR), "--languages", "id", "--wvs-csv", str(tmp_path / "wvs.csv"),
                     "--out", str(tmp_path / "ds"))
    assert done.returncode == 2
    assert "wvs.csv: line 3: Q5 = 'x' is not a number" in done.stderr
    assert not (tmp_path / "ds").exists()


def corrupted_folder(tmp_path: Path, lang: str, edit) -> Path:
    """A copy of the upstream folder (in the test's temporary folder only) with one file edited."""
    need_shared()
    folder = tmp_path / "probes"
    shutil.copytree(PROBES_DIR, folder)
    path = folder / f"{lang}.csv"
    path.write_bytes(edit(path.read_bytes()))
    return folder


def replace_line(number: int, change):
    def edit(raw: bytes) -> bytes:
        lines = raw.split(b"\n")
        lines[number - 1] = change(lines[number - 1])
        return b"\n".join(lines)

    return edit


def set_column(index: int, value: bytes):
    return lambda line: b"\t".join(value if i == index else c for i, c in enumerate(line.split(b"\t")))


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (replace_line(5, lambda line: line + b"\textra"), r"ro\.csv: line 5: expected 5 tab-separated columns, found 6"),
        (replace_line(5, set_column(2, b"")), r"ro\.csv: line 5 \(Q4\): empty template"),
        (replace_line(5, set_column(2, b"no blank here")), r"ro\.csv: line 5 \(Q4\): the template must hold exactly one blank"),
        (replace_line(6, set_column(1, b"4")), r"ro\.csv: line 6: duplicate probe id Q4 \(first on line 5\)"),
        (replace_line(7, lambda line: line + b"\xff\xfe"), r"ro\.csv: line 7: not valid UTF-8"),
        (replace_line(5, set_column(1, b"999")), r"WVS-7 has no question Q999"),
        (replace_line(5, set_column(1, b"4z")), r"ro\.csv: line 5: probe id Q4z is missing from the collapse table"),
        (replace_line(5, set_column(4, b"")), r"ro\.csv: line 5 \(Q4\): empty option"),
    ],
    ids=["columns", "empty-template", "no-blank", "duplicate-id", "encoding", "unknown-question", "not-in-collapse",
         "empty-option"],
)
def test_malformed_probe_file_is_refused_whole(tmp_path, edit, message):
    folder = corrupted_folder(tmp_path, "ro", edit)
    out = tmp_path / "out"
    done = build_cli("--probes", str(folder), "--out", str(out))
    assert done.returncode == 2
    assert done.stderr.startswith("error: ")
    assert pytest.importorskip("re").search(message, done.stderr), done.stderr
    assert not out.exists()
    assert [p.name for p in tmp_path.iterdir()] == ["probes"]  # no staging folder left either


def edit_probe(probe: bytes, column: int, value: bytes):
    """Set one column of the line holding upstream probe number `probe`."""

    def edit(raw: bytes) -> bytes:
        lines = raw.split(b"\n")
        return b"\n".join(
            set_column(column, value)(line) if line.split(b"\t")[1:2] == [probe] else line for line in lines
        )

    return edit


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (edit_probe(b"46", 4, b"other"), r"\(Q46\): .*probe_quirks\.tsv: line \d+ expects option_b"),
        (edit_probe(b"128", 2, b"[MASK] something else"), r"\(Q128\): .*probe_quirks\.tsv: line \d+ expects .* once"),
        (edit_probe(b"90", 2, b"[MASK] another sentence"), r"\(Q90\): the template is not the one .* rewrites"),
    ],
    ids=["option", "fragment", "whole-template"],
)
def test_a_repair_that_does_not_fit_the_source_stops_the_build(tmp_path, edit, message):
    folder = corrupted_folder(tmp_path, "de", edit)
    done = build_cli("--probes", str(folder), "--languages", "de", "--out", str(tmp_path / "out"))
    assert done.returncode == 2
    assert pytest.importorskip("re").search(message, done.stderr), done.stderr
    assert not (tmp_path / "out").exists()


def test_checksum_mismatch_is_refused(tmp_path):
    need_shared()
    bad_zip = tmp_path / "probes.zip"
    with zipfile.ZipFile(PROBES_ZIP) as src, zipfile.ZipFile(bad_zip, "w") as dst:
        for item in src.infolist():
            dst.writestr(item, src.read(item.filename))
    done = build_cli("--probes", str(bad_zip), "--out", str(tmp_path / "out"))
    assert done.returncode == 2
    assert "does not match the pinned bdb368f3" in done.stderr
    assert not (tmp_path / "out").exists()


def test_unknown_language_is_refused(tmp_path):
    done = run_module("hf_dataset", "build", "--probes", str(PROBES_DIR), "--languages", "ro", "xx",
                      "--out", str(tmp_path / "out"))
    assert done.returncode == 2
    assert "unknown language(s) 'xx'" in done.stderr
    assert not (tmp_path / "out").exists()


def test_unreachable_address_says_how_to_use_a_local_copy(tmp_path):
    done = build_cli("--probes", "https://127.0.0.1:9/probes.zip", "--out", str(tmp_path / "out"),
                     "--languages", "ro")
    assert done.returncode == 2
    assert "point --probes (or WVS_PROBES) at a local copy" in done.stderr
    assert not (tmp_path / "out").exists()


def test_failed_rebuild_keeps_the_previous_dataset(tmp_path):
    need_shared()
    out = tmp_path / "ds"
    build(out, PROBES_DIR, ["ro"])
    before = (out / "data" / "ro.parquet").read_bytes()
    folder = corrupted_folder(tmp_path, "ro", replace_line(5, set_column(2, b"")))
    with pytest.raises(DataError):
        build(out, folder, ["ro"])
    assert (out / "data" / "ro.parquet").read_bytes() == before


def test_refuses_to_replace_a_folder_it_did_not_build(tmp_path):
    need_shared()
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep me")
    with pytest.raises(DataError, match="not a dataset built by hf_dataset"):
        build(tmp_path / "mine", PROBES_DIR, ["ro"])
    assert (tmp_path / "mine" / "notes.txt").read_text() == "keep me"


def test_english_only_build_needs_no_upstream_source(tmp_path):
    tables = build_tables("/nonexistent", ["en"])
    assert [t.language for t in tables] == ["en"] and len(tables[0].rows) > 200
