"""The fast chrF++ scorer must agree with sacrebleu's sentence-level chrF++ to the last bit."""

from __future__ import annotations

import ast
import string
from pathlib import Path

import numpy as np
from hypothesis import given, settings, strategies as st
from sacrebleu.metrics import CHRF

from culture_metrics import selection
from culture_metrics.selection import ChrfIndex, chrf_scores


SACREBLEU = CHRF(word_order=2)

SCRIPTS = (
    "ăâîșțşţĂÂÎȘȚ"  # Romanian
    "äöüßÄÖÜẞ"  # German
    "çğıİöşüÇĞÖŞÜ"  # Turkish
    "ơưđạảấầẩẫậắằẳẵặẹẻẽếềểễệĐƠƯ\u0301\u0303"  # Vietnamese, with combining accents
    "αβγδεζηθικλμνξοπρσςτυφχψωάέήίόύώΑΒΓΔΣΩ"  # Greek
    "абвгдђежзијклљмнњопрстћуфхцчџшЂЈЉЊЋЏ"  # Serbian Cyrillic
    "ابپتٹثجچحخدڈذرڑزژسشصضطظعغفقکگلمنںوہھءیےۓ"  # Urdu / Persian
    "অআইউএওকখগঘচছজঝটঠডঢণতথদধনপফবভমযরলশষসহড়য়ািীুূৃেৈোৌং্"  # Bengali
    "가나다라마바사아자차카타파하한국어의는을를에서"  # Hangul
    "abcxyzABC019"
)
WHITESPACE = " \t\n\r\x0b\x0c\x1c\x1f\x85\u00a0\u2028\u3000"
PUNCTUATION = string.punctuation + "«»„“”‘’…–—¿¡،؛؟۔।·;"
WORDS = (
    "viață", "familia", "Straße", "wichtig", "önemli", "hayatımda", "cuộc", "sống",
    "ζωή", "σημαντική", "живот", "важно", "زندگی", "اہم", "مهم", "জীবন", "গুরুত্বপূর্ণ",
    "생활", "중요한", "the", "_", "(hi)", "don't", "...", "—", "ă", "a",
)

characters = st.text(alphabet=SCRIPTS + WHITESPACE + PUNCTUATION, max_size=30)
tokens = st.one_of(st.sampled_from(WORDS), st.text(alphabet=SCRIPTS + PUNCTUATION, min_size=1, max_size=6))
worded = st.lists(st.tuples(tokens, st.sampled_from(WHITESPACE + PUNCTUATION + " " * 8)), max_size=10).map(
    lambda parts: "".join(token + separator for token, separator in parts)
)
sentences = st.one_of(characters, worded)


@st.composite
def pools(draw: st.DrawFn) -> tuple[str, list[str]]:
    """A hypothesis and a pool that shares some of its n-grams, so scores are not all zero."""
    hypothesis = draw(sentences)
    start = draw(st.integers(0, len(hypothesis)))
    stop = draw(st.integers(start, len(hypothesis)))
    derived = [hypothesis, hypothesis[start:stop], hypothesis[start:] + draw(sentences)]
    pool = draw(st.lists(st.one_of(sentences, st.sampled_from(derived)), max_size=6))
    return hypothesis, pool


def expected(hypothesis: str, candidates: list[str]) -> list[float]:
    return [SACREBLEU.sentence_score(hypothesis, [candidate]).score for candidate in candidates]


HAND_PICKED = [
    "", " ", "  \t\n ", "\u00a0", "\u3000\u2028", "a", "A", ".", "!", "_", "a.", ".a", "a .", "(hi)", "hi)",
    "(", "..", "...", "- -", "ab", "ba", "a b", "b a", "abcdef", "abcdefg", "x" * 6, "x" * 7, "x x x x x x x",
    "Hello, world!", "hello world", "hello, world", "world hello", "«Ja»", "\"quoted\"", "e\u0301", "é",
    "ă", "Ș", "ι", "ж", "ی", "한", "জ", "Munca mea de azi este _ și grea.", "Der Garten hinter dem Haus ist _",
    "Ο κήπος πίσω από το σπίτι είναι _", "Башта иза куће је _ и зелена", "گھر کے پیچھے باغ _ ہے",
    "باغ پشت خانه _ است", "বাড়ির পিছনের বাগান _", "집 뒤의 정원은 _", "Khu vườn sau nhà _ và xanh",
    "Evin arkasındaki bahçe _", "Taman di belakang rumah _", "Ang hardin sa likod ng bahay ay _",
]


def test_hand_picked_pairs_match_sacrebleu_exactly() -> None:
    index = ChrfIndex(HAND_PICKED)
    for hypothesis in HAND_PICKED:
        assert index.scores(hypothesis).tolist() == expected(hypothesis, HAND_PICKED), hypothesis


def test_pairwise_matches_sacrebleu_exactly() -> None:
    matrix = ChrfIndex(HAND_PICKED).pairwise()
    assert matrix.shape == (len(HAND_PICKED), len(HAND_PICKED))
    assert matrix.tolist() == [expected(hypothesis, HAND_PICKED) for hypothesis in HAND_PICKED]


def test_chrf_scores_returns_one_float64_per_candidate() -> None:
    scores = chrf_scores("Der Garten hinter dem Haus ist _", ["Der Garten ist _", "", "Leben"])
    assert scores.dtype == np.float64
    assert scores.tolist() == expected("Der Garten hinter dem Haus ist _", ["Der Garten ist _", "", "Leben"])
    assert scores[0] > scores[2] > scores[1] == 0.0


def test_empty_pool_gives_empty_scores() -> None:
    assert chrf_scores("anything", []).shape == (0,)
    assert len(ChrfIndex([])) == 0
    assert ChrfIndex([]).pairwise().shape == (0, 0)


@settings(max_examples=300, deadline=None)
@given(pools())
def test_random_multiscript_strings_match_sacrebleu_exactly(case: tuple[str, list[str]]) -> None:
    hypothesis, pool = case
    assert chrf_scores(hypothesis, pool).tolist() == expected(hypothesis, pool)


@settings(max_examples=100, deadline=None)
@given(st.lists(sentences, max_size=8), st.lists(sentences, min_size=1, max_size=8))
def test_reused_index_matches_sacrebleu_for_every_hypothesis(pool: list[str], hypotheses: list[str]) -> None:
    index = ChrfIndex(pool)
    for hypothesis in hypotheses + pool + hypotheses:
        assert index.scores(hypothesis).tolist() == expected(hypothesis, pool)
    assert index.pairwise().tolist() == [expected(hypothesis, pool) for hypothesis in pool]


def test_the_scorer_uses_no_sacrebleu_code() -> None:
    """chrF++ is defined in selection.py; sacrebleu, whose private names change between releases, is the reference."""
    tree = ast.parse(Path(selection.__file__).read_text(encoding="utf-8"))
    imported = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    imported |= {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module}
    assert not [name for name in imported if name.split(".")[0] == "sacrebleu"]
