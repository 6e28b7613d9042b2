"""Read which of a cloze probe's two options a model's free-text answer names.

The model sees a sentence with a blank (`_`) and two options, and writes a short answer. `parse_answer` returns
"a" or "b" for the option the answer names, or None when it names neither, or both without making clear which one
it means. The same four steps serve every language and script:

1. Normalise (`normalise`): the response, the options and the template are brought to one form in which the same
   word compares equal however it was encoded, cased, punctuated or transliterated.
2. Strip what is not the answer: whatever precedes the first colon unless it names an option ("Answer:"), an item
   label ("a)", "1."), and, when the response repeats the cloze sentence, the repeated words around the blank.
3. Find the options: each one matches as a whole word or phrase (anywhere in scripts written without spaces),
   optionally carrying the letters the template glues to the blank ("eine _e Sache": "gut" also matches "gute").
   A match that lies inside a longer match of the other option does not count, so "important" inside
   "not important" or "zustimmen" inside "nicht zustimmen" is not a second answer.
4. Decide: if one option is named, it is the answer. If both are, the option the response starts with is the answer
   and the rest is taken for commentary; if the response does not start with one, it is ambiguous (None).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import Literal

from hf_dataset.probes import BLANK


Answer = Literal["a", "b"]

# Marks that writers often leave out, so a letter without them also matches the letter with them: the accents of
# Latin, Greek and Cyrillic (capital Greek drops them, Romanian is often typed without them) and the Arabic-script
# vowel signs and hamza. The marks of other scripts, such as Bengali vowel signs, are never optional.
_OPTIONAL_MARKS = "\u0300-\u036f\u064b-\u065f\u0670"
_MARK = f"[{_OPTIONAL_MARKS}]"
_CLUSTER = re.compile(f"{_MARK}+|.{_MARK}*", re.DOTALL)

# Scripts written without spaces between words (Thai, Lao, Myanmar, Khmer, kana, Han): no word boundary is needed.
_UNSPACED = re.compile("[\u0e00-\u0eff\u1000-\u109f\u1780-\u17ff\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")

# Hyphens and apostrophes join the parts of a word ("non-essential", "sumasang-ayon"); anywhere else they separate.
_JOINERS = "-'\u2010\u2019"
_LOOSE_JOINERS = re.compile(r"(?<![^ ])['-]+|['-]+(?![^ ])|['-]{2,}")

# Invisible format characters that separate words: zero-width space, and the zero-width non-joiner that Persian
# and Urdu write between the parts of a compound as often as a space. Every other format character is dropped.
_SEPARATING_FORMATS = "\u200b\u200c"

_SERBIAN_LATIN = dict(
    zip(
        "абвгдђежзијклљмнњопрстћуфхцчџш",
        ("a", "b", "v", "g", "d", "đ", "e", "ž", "z", "i", "j", "k", "l", "lj", "m", "n", "nj", "o", "p", "r", "s",
         "t", "ć", "u", "f", "h", "c", "č", "dž", "š"),
        strict=True,
    )
)

# Spellings of one letter that must meet; applied after accents are split off, so the outputs are decomposed.
_FOLD = str.maketrans(
    {
        "ı": "i",  # case folding turns Turkish I into i, so dotless ı has to meet it there
        "\u0327": "\u0326",  # cedilla -> comma below: Romanian ş and ţ are legacy encodings of ș and ț
        "ي": "ی",  # Arabic yeh and alef maksura -> the Persian and Urdu yeh
        "ى": "ی",
        "ك": "ک",  # Arabic kaf -> keheh
        "ہ": "ه",  # Urdu heh goal -> heh
        "ە": "ه",  # the base of Persian heh with hamza, as Unicode decomposes it
        "\u0640": None,  # tatweel only stretches a joined line
        "ৎ": "ত্",  # Bengali khanda ta is ta with virama closing a syllable, and is also written so
        "\u2010": "-",
        "\u2019": "'",
        **{cyrillic: unicodedata.normalize("NFD", latin) for cyrillic, latin in _SERBIAN_LATIN.items()},
    }
)

# "a)", "(b)", "1.", "[2]" before the answer; they number the answer and do not name it.
_ITEM_LABEL = re.compile(r"\s*[(\[]?(?:[a-z]|\d{1,2})[)\].](?=\s|$)", re.IGNORECASE)


def normalise(text: str) -> str:
    """The form in which responses, options and templates are compared.

    NFKC and case folding make encodings (NFC or NFD, compatibility and full-width forms) and case (ß, Turkish İ/ı,
    Greek final sigma) irrelevant. Optional marks are split from their letters so that matching can treat them as
    optional; a few spellings of one letter are folded together (`_FOLD`); Serbian Cyrillic becomes Serbian Latin
    so either script matches the other. Everything that is not a letter, mark or digit becomes a single space,
    except hyphens and apostrophes inside a word.
    """
    text = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", text).casefold())
    kept = []
    for char in text:
        category = unicodedata.category(char)
        if category == "Cf":
            kept.append(" " if char in _SEPARATING_FORMATS else "")
        elif category[0] in "LMN":
            kept.append(_split_marks(char))
        else:
            kept.append(char if char in _JOINERS else " ")
    return " ".join(_LOOSE_JOINERS.sub(" ", "".join(kept).translate(_FOLD)).split())


@cache
def _split_marks(char: str) -> str:
    """The letter decomposed if all it carries are optional marks; other letters (Hangul, Bengali) stay whole."""
    parts = unicodedata.normalize("NFD", char)
    return parts if all(re.fullmatch(_MARK, mark) for mark in parts[1:]) else char


def _phrase(text: str) -> str:
    """Regex for normalised text where marks and inner separators are optional.

    A letter matches a letter with the same marks or one side without any ("romania" and "românia", but not
    "tối" and "tồi"); a space, hyphen or apostrophe inside a phrase may be written as any of them or left out
    (Persian and Korean are written with or without a space inside compounds).
    """
    parts = []
    for cluster in _CLUSTER.findall(text):
        letter, marks = cluster[0], cluster[1:]
        if letter in " '-":
            parts.append("[ '-]?")
        elif re.fullmatch(_MARK, letter):
            parts.append(re.escape(cluster))
        elif marks:
            parts.append(f"{re.escape(letter)}(?:{re.escape(marks)})?(?!{_MARK})")
        else:
            parts.append(f"{re.escape(letter)}{_MARK}*")
    return "".join(parts)


@lru_cache(maxsize=4096)
def _compile(text: str, before: str = "", after: str = "") -> re.Pattern[str]:
    """Pattern for an option as a whole word or phrase, optionally carrying the letters glued to the blank."""
    source = _phrase(text)
    if before:
        source = f"(?:{_phrase(before)})?{source}"
    if after:
        source = f"{source}(?:{_phrase(after)})?"
    if not _UNSPACED.match(text[0]):
        source = f"(?<![^ ]){source}"
    if not _UNSPACED.match(text[-1]):
        source = f"{source}(?![^ ])"
    return re.compile(source)


def _find_echo(text: str, echo: str, start: int, *, open_start: bool, open_end: bool) -> tuple[int, int] | None:
    """(start, end) of the first copy of template text at or after `start`, at word boundaries unless glued."""
    open_start = open_start or bool(_UNSPACED.match(echo[0]))
    open_end = open_end or bool(_UNSPACED.match(echo[-1]))
    position = text.find(echo, start)
    while position >= 0:
        end = position + len(echo)
        if (open_start or position == 0 or text[position - 1] == " ") and (
            open_end or end == len(text) or text[end] == " "
        ):
            return position, end
        position = text.find(echo, position + 1)
    return None


@dataclass(frozen=True)
class _Probe:
    """A probe ready for matching: the two option patterns, and the normalised template around the blank."""

    options: tuple[tuple[Answer, re.Pattern[str]], ...]
    negators: dict[Answer, str]  # option -> the word that negates it into the other option ("stimme" -> "nicht")
    before_blank: str
    after_blank: str
    glued_before: bool
    glued_after: bool


@lru_cache(maxsize=4096)
def _probe(option_a: str, option_b: str, template: str | None) -> _Probe:
    """Compile a probe once; every prompt's many sampled responses are parsed against the same one."""
    before_raw, after_raw = "", ""
    if template is not None:
        before_raw, blank, after_raw = unicodedata.normalize("NFKC", template).partition(BLANK)
        if not blank:
            raise ValueError(f"the template has no blank {BLANK!r}: {template!r}")
    before, after = normalise(before_raw), normalise(after_raw)
    # Letters touching the blank belong to the filled-in word ("_e", "ber_"), so an option may carry them.
    glued_before = bool(before) and _is_word(before_raw[-1])
    glued_after = bool(after) and _is_word(after_raw[0])
    glue_before = before.rpartition(" ")[2] if glued_before else ""
    glue_after = after.partition(" ")[0] if glued_after else ""
    options = []
    for label, option in (("a", option_a), ("b", option_b)):
        text = normalise(option)
        if not text:
            raise ValueError(f"option {label} has no letters or digits: {option!r}")
        options.append((label, _compile(text, glue_before, glue_after)))
    # "stimme" / "nicht zustimmen": an answer "stimme nicht zu" is the negated option, whatever its word order.
    words = {"a": normalise(option_a).split(), "b": normalise(option_b).split()}
    negators: dict[Answer, str] = {
        label: words[other][0]
        for label, other in (("a", "b"), ("b", "a"))
        if len(words[other]) > 1 and words[other][0] not in words[label]
    }
    return _Probe(tuple(options), negators, before, after, glued_before, glued_after)


def _is_word(char: str) -> bool:
    """Letters, marks and digits make up words; everything else separates them."""
    return unicodedata.category(char)[0] in "LMN"


def _matches(text: str, probe: _Probe) -> list[tuple[int, int, Answer]]:
    """(start, end, option) of every place an option is named, without those inside a longer match."""
    found = []
    for label, pattern in probe.options:
        position = 0
        while match := pattern.search(text, position):
            found.append((match.start(), match.end(), label))
            position = match.start() + 1
    kept = sorted(
        (start, end, label)
        for start, end, label in found
        if not any(s <= start and end <= e and e - s > end - start for s, e, _ in found)
    )
    starts = {start for start, _, _ in kept}
    return [(start, end, _negated(text, end, label, probe, starts)) for start, end, label in kept]


def _negated(text: str, end: int, label: Answer, probe: _Probe, starts: set[int]) -> Answer:
    """The other option when this match is directly followed by the word that negates it into the other.

    A negator that begins a match of the other option ("important / not important") is that option, not a negation.
    """
    negator = probe.negators.get(label)
    if negator and end + 1 not in starts and (text[end:] + " ").startswith(f" {negator} "):
        return "b" if label == "a" else "a"
    return label


def _blank_filler(text: str, probe: _Probe) -> str:
    """What stands in the place of the blank when the response repeats the template around it; else all of it.

    The text before the blank counts as repeated only where no option is named before it (a short opening such as
    "I" recurs in commentary after the answer); the text after the blank only where something precedes it.
    """
    if probe.before_blank and (
        echo := _find_echo(text, probe.before_blank, 0, open_start=False, open_end=probe.glued_before)
    ) and not any(end <= echo[0] for _, end, _ in _matches(text, probe)):
        text = text[echo[1] :].lstrip()
    if probe.after_blank and (
        echo := _find_echo(text, probe.after_blank, 1, open_start=probe.glued_after, open_end=False)
    ):
        text = text[: echo[0]].rstrip()
    return text


def _decide(text: str, matches: list[tuple[int, int, Answer]], one_line: bool) -> Answer | None:
    """One option named: it. Both: the one the text starts with, if only one does. None named: None.

    In a one-line response, both options with at most one word between them ("x / y", "x or y") list the choices
    rather than pick one.
    """
    named = {label for _, _, label in matches}
    if len(named) == 1:
        return named.pop()
    opening = [(end, label) for start, end, label in matches if start == 0]
    if len({label for _, label in opening}) != 1:
        return None
    end, label = max(opening)
    other = min(start for start, _, named_label in matches if named_label != label)
    return label if not one_line or len(text[end:other].split()) > 1 else None


def parse_answer(response: str, option_a: str, option_b: str, template: str | None = None) -> Answer | None:
    """Return "a", "b", or None (invalid: names neither option, or both ambiguously).

    `template` is the cloze sentence with the blank as `_`; with it, a response that repeats the sentence is judged
    by what fills the blank. Raises ValueError for an option without letters or a template without a blank.
    """
    probe = _probe(option_a, option_b, template)
    text = unicodedata.normalize("NFKC", response)
    head, colon, rest = text.partition(":")
    if colon and not _matches(normalise(head), probe):
        text = rest
    if item := _ITEM_LABEL.match(text):
        text = text[item.end() :]
    one_line = "\n" not in text.strip()
    text = _blank_filler(normalise(text), probe)
    return _decide(text, _matches(text, probe), one_line)
