"""The answer parser on every real option pair, on hand-written traps, and on generated responses.

The real pairs are read at run time from the upstream probes under /work/shared (third-party data, never copied
into the project); those tests are skipped where the folder is missing. Every other pair here is written for the
tests.
"""

from __future__ import annotations

import csv
import unicodedata
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest
from hypothesis import given, settings, strategies as st

from culture_metrics.answers import normalise, parse_answer
from hf_dataset.languages import LANGUAGES


UPSTREAM = Path("/work/shared/data/value-probing/wvs")
UPSTREAM_BLANK = "[MASK]"
UPSTREAM_LANGUAGES = [language for language in LANGUAGES if language != "en"]

# (language, probe id) of upstream pairs whose two options are the same after normalisation: no response can tell
# them apart, so every one must parse to None. The upstream files have none.
INDISTINGUISHABLE: set[tuple[str, str]] = set()

# Ways a model wraps a bare answer; each must still parse to the option inside.
DECORATIONS = [
    "{}",
    " {}",
    "\n\n{}\n",
    '"{}"',
    "'{}'",
    "«{}»",
    "„{}“",
    "“{}”",
    "「{}」",
    "({})",
    "[{}]",
    "**{}**",
    "{}.",
    "{}!",
    "{},",
    "{}...",
    "Answer: {}",
    " Answer: «{}».",
    "a) {}",
    "2. {}",
]


@dataclass(frozen=True)
class Probe:
    id: str
    template: str  # with the upstream blank
    option_a: str
    option_b: str

    @property
    def blank_template(self) -> str:
        return self.template.replace(UPSTREAM_BLANK, "_")


@cache
def upstream_probes(language: str) -> tuple[Probe, ...]:
    """The language's probes that have two options and a blank, as the upstream file holds them."""
    path = UPSTREAM / f"{language}.csv"
    if not path.is_file():
        pytest.skip(f"upstream probes not found at {path}")
    with path.open(encoding="utf-8", newline="") as file:
        rows = list(csv.reader(file, delimiter="\t", quoting=csv.QUOTE_NONE))[1:]
    return tuple(
        Probe(row[1], row[2], row[3], row[4])
        for row in rows
        if len(row) >= 5 and row[4].strip() and UPSTREAM_BLANK in row[2]
    )


def distinguishable(probes: tuple[Probe, ...]) -> list[Probe]:
    return [probe for probe in probes if normalise(probe.option_a) != normalise(probe.option_b)]


def bare(text: str) -> str:
    """Text without case, accents or punctuation: coarse, to tell that a word shares nothing with an option."""
    decomposed = unicodedata.normalize("NFKD", text.casefold().replace("ı", "i"))
    return "".join(char for char in decomposed if char.isalnum() and not unicodedata.combining(char))


def unrelated_word(probe: Probe, vocabulary: list[str]) -> str:
    """A word from the language's other options that neither contains an option of the probe nor is contained in one."""
    options = [bare(probe.option_a), bare(probe.option_b)]
    for word in vocabulary:
        candidate = bare(word)
        if candidate and not any(option in candidate or candidate in option for option in options):
            return word
    raise AssertionError(f"no word unrelated to probe {probe.id}")


Check = tuple[Probe, str, str | None, str | None]  # probe, response, parsed, expected


def failures(checks: list[Check]) -> list[str]:
    return [f"{probe.id}: {text!r} -> {got!r}, expected {want!r}" for probe, text, got, want in checks if got != want]


# ---------------------------------------------------------------------------------------------------------------
# Real option pairs of every upstream language


@pytest.mark.parametrize("language", UPSTREAM_LANGUAGES)
def test_upstream_each_option_alone_or_decorated_parses_to_itself(language: str) -> None:
    checks = []
    for probe in distinguishable(upstream_probes(language)):
        for expected, option in (("a", probe.option_a), ("b", probe.option_b)):
            responses = [style.format(option) for style in DECORATIONS]
            responses += [option.upper(), option.lower(), unicodedata.normalize("NFD", option)]
            for response in responses:
                checks.append((probe, response, parse_answer(response, probe.option_a, probe.option_b), expected))
    assert not failures(checks)


@pytest.mark.parametrize("language", UPSTREAM_LANGUAGES)
def test_upstream_filled_template_parses_to_the_option_in_the_blank(language: str) -> None:
    checks = []
    for probe in distinguishable(upstream_probes(language)):
        for expected, option in (("a", probe.option_a), ("b", probe.option_b)):
            filled = probe.template.replace(UPSTREAM_BLANK, option)
            other_option = probe.option_b if expected == "a" else probe.option_a
            for response in (filled, filled + ".", f"{filled}\n{other_option}"):
                got = parse_answer(response, probe.option_a, probe.option_b, probe.blank_template)
                checks.append((probe, response, got, expected))
    assert not failures(checks)


@pytest.mark.parametrize("language", UPSTREAM_LANGUAGES)
def test_upstream_response_naming_neither_option_is_none(language: str) -> None:
    probes = upstream_probes(language)
    vocabulary = sorted({option for probe in probes for option in (probe.option_a, probe.option_b)})
    checks = []
    for probe in distinguishable(probes):
        word = unrelated_word(probe, vocabulary)
        for response in (word, f"{word}.", probe.template.replace(UPSTREAM_BLANK, word)):
            got = parse_answer(response, probe.option_a, probe.option_b, probe.blank_template)
            checks.append((probe, response, got, None))
    assert not failures(checks)


@pytest.mark.parametrize("language", UPSTREAM_LANGUAGES)
def test_upstream_indistinguishable_pairs_are_known_and_parse_to_none(language: str) -> None:
    same = [probe for probe in upstream_probes(language) if normalise(probe.option_a) == normalise(probe.option_b)]
    assert {(language, probe.id) for probe in same} == {key for key in INDISTINGUISHABLE if key[0] == language}
    for probe in same:
        assert parse_answer(probe.option_a, probe.option_a, probe.option_b) is None


# ---------------------------------------------------------------------------------------------------------------
# Hand-written traps

TRAPS = [
    # one option inside the other: the longest match at a place wins
    ("nicht zustimmen", "zustimmen", "nicht zustimmen", None, "b"),
    ("Zustimmen.", "zustimmen", "nicht zustimmen", None, "a"),
    ("Nicht zustimmen!", "zustimmen", "nicht zustimmen", None, "b"),
    ("stimme nicht zu", "stimme zu", "stimme nicht zu", None, "b"),
    ("Ich stimme zu", "stimme zu", "stimme nicht zu", None, "a"),
    ("not important", "important", "not important", None, "b"),
    ("Important", "important", "not important", None, "a"),
    ("unimportant", "important", "unimportant", None, "b"),
    ("unimportant", "important", "not important", None, None),
    ("non-important", "important", "unimportant", None, None),
    ("non-essential", "essential", "non-essential", None, "b"),
    ("non essential", "essential", "non-essential", None, "b"),
    ("tidak bersetuju", "setuju", "tidak bersetuju", None, "b"),
    ("Setuju", "setuju", "tidak bersetuju", None, "a"),
    ("hindi totoo", "totoo", "hindi totoo", None, "b"),
    ("không đúng", "đúng", "không đúng", None, "b"),
    ("нетачно", "тачно", "нетачно", None, "b"),
    ("غیر مشہور", "مشہور", "غیر مشہور", None, "b"),
    ("অসম্ভব", "সম্ভব", "অসম্ভব", None, "b"),
    ("불가능", "가능", "불가능", None, "b"),
    ("중요하지 않다", "중요하다", "중요하지 않다", None, "b"),
    ("중요하다", "중요하다", "중요하지 않다", None, "a"),
    ("不重要", "重要", "不重要", None, "b"),
    ("我觉得很重要", "重要", "不重要", None, "a"),
    ("ไม่สำคัญ", "สำคัญ", "ไม่สำคัญ", None, "b"),
    # case: Turkish dotted and dotless i, German sharp s, Greek capitals without accents
    ("İNCE", "ince", "kalın", None, "a"),
    ("KALIN", "ince", "kalın", None, "b"),
    ("SIKICI", "ilginç", "sıkıcı", None, "b"),
    ("ILGINÇ", "ilginç", "sıkıcı", None, "a"),
    ("GROSS", "groß", "klein", None, "a"),
    ("ΑΔΥΝΑΤΟ", "δυνατό", "αδύνατο", None, "b"),
    ("ΣΩΣΤΟΣ", "σωστός", "λάθος", None, "a"),
    # spellings of one letter: Arabic and Persian yeh and kaf, Urdu and Persian heh, Romanian cedilla and comma
    ("ناكافي", "کافی", "ناکافی", None, "b"),
    ("كافي", "کافی", "ناکافی", None, "a"),
    ("غير مشهور", "مشہور", "غیر مشہور", None, "b"),
    ("nu ştiu", "știu", "nu știu", None, "b"),
    ("Știu", "ştiu", "nu ştiu", None, "a"),
    # Persian compounds with a space, a zero-width non-joiner or nothing; harakat and tatweel are optional
    ("نمی\u200cتوانم", "می توانم", "نمی توانم", None, "b"),
    ("میتوانم", "می توانم", "نمی توانم", None, "a"),
    ("کافیً", "کافی", "ناکافی", None, "a"),
    ("ناکـــافی", "کافی", "ناکافی", None, "b"),
    # Bengali khanda ta, also written as ta + virama (+ zero-width joiner)
    ("উত্সব", "উৎসব", "শোক", None, "a"),
    ("উত্\u200dসব", "উৎসব", "শোক", None, "a"),
    # Vietnamese stacked diacritics in NFD; the tone mark tells words apart
    (unicodedata.normalize("NFD", "Thường xuyên"), "hiếm khi", "thường xuyên", None, "b"),
    ("tồi", "tối", "tồi", None, "b"),
    ("tôi", "tối", "tồi", None, None),
    # missing accents match, different accents do not
    ("necasatorit", "căsătorit", "necăsătorit", None, "b"),
    ("necăsătorit", "casatorit", "necasatorit", None, "b"),
    ("usor", "ușor", "greu", None, "a"),
    # Serbian in either script
    ("netačno", "тачно", "нетачно", None, "b"),
    ("ТАЧНО", "tačno", "netačno", None, "a"),
    # labels, quotes and echoes
    ("Answer: a) not important", "important", "not important", None, "b"),
    ("Antwort: nicht zustimmen", "zustimmen", "nicht zustimmen", None, "b"),
    ("(b) important", "important", "not important", None, "a"),
    ("「重要」", "重要", "不重要", None, "a"),
    ("„möglich“", "möglich", "unmöglich", None, "a"),
    ("\n\n  important", "important", "not important", None, "a"),
    # the answer first, then commentary naming the other option
    ("important\nFamily is not important to everyone", "important", "not important", None, "a"),
    ("not important; some say important", "important", "not important", None, "b"),
    # both named and no answer first: ambiguous
    ("I think not important, though important", "important", "not important", None, None),
    # the option negated by the word that opens the other option: natural German disagreement
    ("Ich stimme nicht zu.", "stimme", "nicht zustimmen", None, "b"),
    ("stimme nicht zu", "stimme", "nicht zustimmen", None, "b"),
    ("Ich stimme zu", "stimme", "nicht zustimmen", None, "a"),
    # both options listed on one line, a word or less apart: the choices echoed, not one picked
    ("important or not important", "not important", "important", None, None),
    ("Options: important / not important", "important", "not important", None, None),
    ("important\nnot important", "important", "not important", None, "a"),
    ("either agree or disagree", "agree", "disagree", None, None),
    # neither
    ("I don't know", "important", "not important", None, None),
    ("", "important", "not important", None, None),
    ("impor tant", "important", "not important", None, None),
    # the sentence repeated: what fills the blank decides
    ("Family is not important in my life.", "important", "not important", "Family is _ in my life", "b"),
    ("Sure! Family is important in my life.", "important", "not important", "Family is _ in my life", "a"),
    ("Family is great in my life", "important", "not important", "Family is _ in my life", None),
    ("In my life, family is not important", "important", "not important", "Family is _ in my life", "b"),
    (
        "Most people think work is important, but I think family is unimportant",
        "important",
        "unimportant",
        "Most people think work is important, but I think family is _",
        "b",
    ),
    ("Family is important in my life, not unimportant", "important", "unimportant", "Family is _ in my life", "a"),
    ("I disagree that work comes first", "agree", "disagree", "I _ that work comes first", "b"),
    ("Agree. I think that work comes first; I don't disagree", "agree", "disagree", "I _ that work comes first", "a"),
    ("Family is _ in my life. Answer: important", "important", "not important", "Family is _ in my life", "a"),
    # the blank glued to letters of the template
    ("Das ist eine neue Idee.", "neu", "alt", "Das ist eine _e Idee", "a"),
    ("Das ist eine alte Idee", "neu", "alt", "Das ist eine _e Idee", "b"),
    ("alte", "neu", "alt", "Das ist eine _e Idee", "b"),
    ("Saya bersetuju dengan cadangan itu", "setuju", "tidak bersetuju", "Saya ber_ dengan cadangan itu", "a"),
    ("Saya tidak bersetuju dengan cadangan itu", "setuju", "tidak bersetuju", "Saya ber_ dengan cadangan itu", "b"),
    ("내 꿈은 가수가 되는 것이다", "의사", "가수", "내 꿈은 _가 되는 것이다", "b"),
    ("의사가", "의사", "가수", "내 꿈은 _가 되는 것이다", "a"),
]


@pytest.mark.parametrize(("response", "option_a", "option_b", "template", "expected"), TRAPS)
def test_trap(response: str, option_a: str, option_b: str, template: str | None, expected: str | None) -> None:
    assert parse_answer(response, option_a, option_b, template) == expected


def test_option_without_letters_is_refused() -> None:
    with pytest.raises(ValueError, match="option b"):
        parse_answer("yes", "yes", "?!")


def test_template_without_blank_is_refused() -> None:
    with pytest.raises(ValueError, match="no blank"):
        parse_answer("yes", "yes", "no", "Family is important")


# ---------------------------------------------------------------------------------------------------------------
# Properties over generated responses

PAIRS = [
    ("important", "not important"),
    ("important", "unimportant"),
    ("agree", "disagree"),
    ("essential", "non-essential"),
    ("zustimmen", "nicht zustimmen"),
    ("stimme zu", "stimme nicht zu"),
    ("groß", "klein"),
    ("setuju", "tidak bersetuju"),
    ("benar", "tidak benar"),
    ("totoo", "hindi totoo"),
    ("corect", "incorect"),
    ("știu", "nu știu"),
    ("σωστό", "λάθος"),
    ("δυνατό", "αδύνατο"),
    ("тачно", "нетачно"),
    ("ilginç", "sıkıcı"),
    ("đồng ý", "phản đối"),
    ("hiếm khi", "thường xuyên"),
    ("찬성한다", "반대한다"),
    ("가능", "불가능"),
    ("중요하다", "중요하지 않다"),
    ("کافی", "ناکافی"),
    ("موافقم", "مخالفم"),
    ("مشہور", "غیر مشہور"),
    ("সম্ভব", "অসম্ভব"),
    ("সত্য", "মিথ্যা"),
    ("重要", "不重要"),
    ("สำคัญ", "ไม่สำคัญ"),
]
OPTION_TEXTS = [text for pair in PAIRS for text in pair]
FORMS = ["NFC", "NFD", "NFKC", "NFKD"]
WRAPPERS = [("", ""), ('"', '"'), ("'", "'"), ("«", "»"), ("„", "“"), ("“", "”"), ("「", "」"), ("(", ")"), ("**", "**")]
ENDINGS = ["", ".", "!", "?", "...", ",", "。", "।", "۔"]
SPACES = ["", " ", "\n", "\t", " \n\n "]
# Separators between words; no colon, which would make what precedes it a label.
SEPARATORS = [" ", ", ", "; ", " - ", "\n", " / ", ". ", "! ", "… "]

pairs = st.sampled_from(PAIRS)
sides = st.sampled_from(["a", "b"])
# Words that cannot be, or be part of, any option above.
noise_words = st.from_regex(r"[xq][xq0-9]{1,5}", fullmatch=True)


@st.composite
def cased(draw: st.DrawFn, text: str) -> str:
    flips = draw(st.lists(st.booleans(), min_size=len(text), max_size=len(text)))
    return "".join(char.upper() if flip else char for char, flip in zip(text, flips, strict=False))


@st.composite
def decorated(draw: st.DrawFn, option: str) -> str:
    left, right = draw(st.sampled_from(WRAPPERS))
    text = f"{draw(st.sampled_from(SPACES))}{left}{draw(cased(option))}{right}{draw(st.sampled_from(ENDINGS))}"
    return unicodedata.normalize(draw(st.sampled_from(FORMS)), text + draw(st.sampled_from(SPACES)))


@st.composite
def noise(draw: st.DrawFn, min_words: int = 0) -> str:
    words = draw(st.lists(noise_words, min_size=min_words, max_size=4))
    return "".join(word + draw(st.sampled_from(SEPARATORS)) for word in words)


def option(pair: tuple[str, str], side: str) -> str:
    return pair[0] if side == "a" else pair[1]


def other(side: str) -> str:
    return "b" if side == "a" else "a"


@given(pair=pairs, side=sides, data=st.data())
def test_decorated_option_parses_to_itself(pair: tuple[str, str], side: str, data: st.DataObject) -> None:
    assert parse_answer(data.draw(decorated(option(pair, side))), *pair) == side


@given(pair=pairs, side=sides, data=st.data())
def test_option_among_noise_parses_to_itself(pair: tuple[str, str], side: str, data: st.DataObject) -> None:
    response = data.draw(noise()) + data.draw(decorated(option(pair, side))) + " " + data.draw(noise())
    assert parse_answer(response, *pair) == side


@given(pair=pairs, first=sides, data=st.data())
def test_answer_first_then_other_option_parses_to_first(pair: tuple[str, str], first: str, data: st.DataObject) -> None:
    response = (
        data.draw(decorated(option(pair, first)))
        + data.draw(st.sampled_from(SEPARATORS))
        + data.draw(noise(min_words=2))
        + data.draw(decorated(option(pair, other(first))))
    )
    assert parse_answer(response, *pair) == first


@given(pair=pairs, first=sides, data=st.data())
def test_both_options_after_other_words_are_ambiguous(pair: tuple[str, str], first: str, data: st.DataObject) -> None:
    response = (
        data.draw(noise(min_words=1))
        + data.draw(decorated(option(pair, first)))
        + data.draw(st.sampled_from(SEPARATORS))
        + data.draw(noise())
        + data.draw(decorated(option(pair, other(first))))
    )
    assert parse_answer(response, *pair) is None


@given(pair=pairs, data=st.data())
def test_noise_alone_is_none(pair: tuple[str, str], data: st.DataObject) -> None:
    assert parse_answer(data.draw(noise()), *pair) is None


@given(
    pair=pairs,
    pieces=st.lists(st.one_of(st.text(max_size=8), st.sampled_from(OPTION_TEXTS)), max_size=6),
    form=st.sampled_from(FORMS),
)
def test_unicode_normal_form_does_not_matter(pair: tuple[str, str], pieces: list[str], form: str) -> None:
    response = " ".join(pieces)
    normalised_pair = [unicodedata.normalize(form, text) for text in pair]
    assert parse_answer(unicodedata.normalize(form, response), *normalised_pair) == parse_answer(response, *pair)


TEMPLATES = [
    ("Family is _ in my life", "important", "not important"),
    ("Most people say work is important, but to me leisure is _", "important", "unimportant"),
    ("I _ that work should always come first", "agree", "disagree"),
    ("Das ist eine _e Idee", "neu", "alt"),
    ("Saya ber_ dengan cadangan itu", "setuju", "tidak bersetuju"),
    ("내 꿈은 _가 되는 것이다", "의사", "가수"),
]


@settings(max_examples=200)
@given(probe=st.sampled_from(TEMPLATES), side=sides, data=st.data())
def test_repeated_sentence_is_judged_by_its_blank(probe: tuple[str, str, str], side: str, data: st.DataObject) -> None:
    template, *pair = probe
    before, _, after = template.partition("_")
    sentence = data.draw(cased(before + option(pair, side) + after))
    preamble = data.draw(st.sampled_from(["", "Sure! ", "Answer: ", "Here it is. "]))
    commentary = data.draw(st.sampled_from(["", ".", ". Not everyone would say " + option(pair, other(side)) + "."]))
    form = data.draw(st.sampled_from(FORMS))
    response = unicodedata.normalize(form, preamble + sentence + commentary)
    assert parse_answer(response, *pair, template) == side
