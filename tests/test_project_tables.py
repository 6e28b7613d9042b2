"""The project's own tables agree with the WVS codebook and the upstream probes, and hold no upstream text."""

from __future__ import annotations

import json
import subprocess

import pytest
from conftest import PROBES_DIR, QUESTIONS, ROOT, need_shared

from hf_dataset.collapse import RULES, load_collapse
from hf_dataset.languages import LANGUAGES
from hf_dataset.probes import read_english, read_upstream
from hf_dataset.repairs import HASH_PREFIX, load_repairs
from hf_dataset.wvs import EXCLUDED_SECTIONS, section_of


def upstream_ids(lang: str) -> list[str]:
    return [p.id for p in read_upstream((PROBES_DIR / f"{lang}.csv").read_bytes(), lang)]


def test_collapse_table_partitions_every_questions_codes():
    need_shared()
    questions = json.loads(QUESTIONS.read_text())
    for probe_id, rule in load_collapse().items():
        if rule.excluded:
            continue
        question = "Q" + probe_id[1:].rstrip("abcdefgh")
        valid = {int(code) for code in questions[question]["choices"]}
        for name in RULES:
            sides = rule.sides(name)
            assert sides.option_a | sides.option_b | sides.left_out == valid, (probe_id, name)


def test_the_two_rules_differ_only_in_where_the_middle_goes():
    """Under the paper's rule the middle joins option_b; under drop_middle it is left out. Nothing else moves."""
    for probe_id, rule in load_collapse().items():
        paper, drop = rule.sides("paper"), rule.sides("drop_middle")
        middle = drop.left_out - paper.left_out
        assert paper.option_a == drop.option_a, probe_id
        assert paper.option_b == drop.option_b | middle and not (middle & drop.option_b), probe_id
        assert paper.left_out == drop.left_out - middle, probe_id


def test_every_kept_upstream_probe_has_a_collapse_row_and_an_english_probe():
    need_shared()
    rules = load_collapse()
    english = [p.id for p in read_english()[0]]
    for lang in LANGUAGES[1:]:
        ids = upstream_ids(lang)
        assert ids == english, lang
        kept = [i for i in ids if section_of(int(i[1:].rstrip("abcdefgh"))) not in EXCLUDED_SECTIONS]
        assert kept == list(rules), lang


def test_repairs_name_real_probes_and_quote_no_upstream_sentence():
    """A repair pins what it replaces by a short fragment or a hash, never by an upstream sentence."""
    need_shared()
    ids = set(upstream_ids("ro"))
    repairs = load_repairs()
    assert len(repairs) > 300
    for (lang, probe_id), rows in repairs.items():
        assert lang in LANGUAGES[1:] and probe_id in ids
        for repair in rows:
            assert repair.reason and repair.quirk == repair.quirk.strip().lower()
            if repair.field == "template" and not repair.old.startswith(HASH_PREFIX):
                assert 0 < len(repair.old) <= 30, repair.where


def test_english_fixes_are_recorded_for_the_known_quirks():
    _, fixes = read_english()
    for probe_id in [f"Q{n}" for n in range(18, 27)] + ["Q46", "Q47"]:
        assert probe_id in fixes


@pytest.mark.parametrize("min_chars", [25])
def test_no_upstream_sentence_is_committed(min_chars):
    """The upstream probes are GPL third-party data: the project must never carry their sentences."""
    need_shared()
    needles = set()
    for path in PROBES_DIR.glob("*.csv"):
        for line in path.read_text(encoding="utf-8").splitlines()[1:]:
            cells = line.split("\t")
            if len(cells) >= 3 and len(cells[2]) >= min_chars:
                needles.update({cells[2], cells[2].replace("[MASK]", "_")})
    tracked = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, text=True, check=False).stdout  # noqa: S607
    for name in filter(None, tracked.split("\0")):
        path = ROOT / name
        try:
            text = path.read_text(encoding="utf-8")
        except (UnicodeDecodeError, OSError):
            continue
        assert not [n for n in needles if n in text], name
