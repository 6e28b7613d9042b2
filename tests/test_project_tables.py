"""The project's own tables agree with the WVS codebook and the upstream probes, and hold no upstream text."""

from __future__ import annotations

import json
import subprocess

import pytest

from conftest import PROBES_DIR, QUESTIONS, ROOT, need_shared
from hf_dataset.collapse import load_collapse, load_quirks
from hf_dataset.languages import LANGUAGES
from hf_dataset.probes import read_english, read_upstream
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
        assert rule.option_a | rule.option_b | rule.left_out == valid, probe_id


def test_every_kept_upstream_probe_has_a_collapse_row_and_an_english_probe():
    need_shared()
    rules = load_collapse()
    english = [p.id for p in read_english()[0]]
    for lang in LANGUAGES[1:]:
        ids = upstream_ids(lang)
        assert ids == english, lang
        kept = [i for i in ids if section_of(int(i[1:].rstrip("abcdefgh"))) not in EXCLUDED_SECTIONS]
        assert kept == list(rules), lang


def test_quirks_name_real_probes():
    need_shared()
    ids = set(upstream_ids("ro"))
    for (lang, probe_id), (action, reason) in load_quirks().items():
        assert lang in LANGUAGES and probe_id in ids and reason


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
    tracked = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, text=True).stdout
    for name in filter(None, tracked.split("\0")):
        path = ROOT / name
        try:
            text = path.read_text(encoding="utf-8")
        except (UnicodeDecodeError, OSError):
            continue
        assert not [n for n in needles if n in text], name
