"""The prompt formats, in one place: how a probe is asked, how a demonstration is shown, and the instructions.

Two formats (task metadata `format`, checked by culture_metrics.variant):

`paper` (the default; Choenni & Shutova, 2024, Table 2): an instruction in the probe's language that names the two
options, the demonstrations as completed statements, one a line, and the probe as a question:

    <instruction naming "<first>" and "<second>">
    <demonstration sentence with its majority answer filled in>
    ...
    Q: <sentence with _> A:

`options`: no instruction; each demonstration is the probe block followed by " <answer>":

    <sentence with _>
    Options: <first> / <second>
    Answer:

Option order is drawn per document from the seed, so a model's preference for the first (or second) option cannot
pass for alignment. Two more instructions can precede a prompt: the persona line (culture-aware prompting, as in
CultureSPA's baseline), written in the probe's language with the country's name in that language, and the request
for an explanation.
"""

from __future__ import annotations

import random
from typing import TYPE_CHECKING

import pycountry
from babel import Locale

from hf_dataset.probes import BLANK


if TYPE_CHECKING:
    from collections.abc import Mapping


DEFAULT_SEED = 1234
FORMATS: tuple[str, ...] = ("paper", "options")
DEFAULT_FORMAT = "paper"


def option_order(doc: Mapping, seed: int | None) -> tuple[str, str]:
    """The doc's options in the order the prompt shows them; the same for a seed in every process."""
    rng = random.Random(f"{DEFAULT_SEED if seed is None else seed}:{doc['language']}:{doc['id']}")
    first, second = doc["option_a"], doc["option_b"]
    return (second, first) if rng.random() < 0.5 else (first, second)


def probe_text(doc: Mapping, seed: int | None, prompt_format: str = DEFAULT_FORMAT) -> str:
    """The question a model answers."""
    if prompt_format == "paper":
        return f"Q: {doc['template']} A:"
    first, second = option_order(doc, seed)
    return f"{doc['template']}\nOptions: {first} / {second}\nAnswer:"


def completed(doc: Mapping, option: str) -> str:
    """The probe's sentence with `option` in its blank (letters glued to the blank stay: `_es` -> `gutes`)."""
    return doc["template"].replace(BLANK, option, 1)


def demonstration(doc: Mapping, seed: int | None, prompt_format: str = DEFAULT_FORMAT) -> tuple[str, str]:
    """(text, target) of a demonstration: lm-eval shows text, then target after the target delimiter."""
    if prompt_format == "paper":
        return completed(doc, doc["answer"]) + "\n", ""
    return probe_text(doc, seed, prompt_format), doc["answer"]


# The paper's instruction is not published in text; ours, in each probe language, names the two options.
INSTRUCTION: dict[str, str] = {
    "en": 'Fill in the blank (_) with one of the two options: "{first}" or "{second}". Answer with the option only.',
    "ro": "Completează spațiul liber (_) cu una dintre cele două variante: „{first}” sau „{second}”. "
    "Răspunde doar cu varianta aleasă.",
    "el": "Συμπλήρωσε το κενό (_) με μία από τις δύο επιλογές: «{first}» ή «{second}». Απάντησε μόνο με την επιλογή.",
    "ur": 'خالی جگہ (_) کو ان دو اختیارات میں سے ایک سے پُر کریں: "{first}" یا "{second}"۔ صرف منتخب اختیار لکھیں۔',
    "fa": "جای خالی (_) را با یکی از این دو گزینه پر کن: «{first}» یا «{second}». فقط گزینه را بنویس.",
    "tl": 'Punan ang patlang (_) ng isa sa dalawang pagpipilian: "{first}" o "{second}". '
    "Ang pagpipilian lamang ang isagot.",
    "id": 'Isilah bagian yang kosong (_) dengan salah satu dari dua pilihan: "{first}" atau "{second}". '
    "Jawab hanya dengan pilihan tersebut.",
    "de": "Fülle die Lücke (_) mit einer der beiden Optionen: „{first}“ oder „{second}“. Antworte nur mit der Option.",
    "ms": 'Isikan tempat kosong (_) dengan salah satu daripada dua pilihan: "{first}" atau "{second}". '
    "Jawab dengan pilihan itu sahaja.",
    "bn": 'শূন্যস্থানটি (_) দুটি বিকল্পের একটি দিয়ে পূরণ করুন: "{first}" অথবা "{second}"। শুধু বিকল্পটি লিখুন।',
    "sr": "Попуни празно место (_) једном од две понуђене опције: „{first}” или „{second}”. Одговори само опцијом.",
    "tr": 'Boşluğu (_) iki seçenekten biriyle doldur: "{first}" veya "{second}". Yalnızca seçeneği yaz.',
    "vi": 'Hãy điền vào chỗ trống (_) một trong hai lựa chọn: "{first}" hoặc "{second}". '
    "Chỉ trả lời bằng lựa chọn đó.",
    "ko": '빈칸(_)을 두 선택지 중 하나로 채우세요: "{first}" 또는 "{second}". 선택지만 답하세요.',
}


def instruction(doc: Mapping, seed: int | None, prompt_format: str = DEFAULT_FORMAT) -> str | None:
    """The line that opens a `paper` prompt, in the probe's language; the `options` format has none."""
    if prompt_format == "options":
        return None
    first, second = option_order(doc, seed)
    return INSTRUCTION[doc["language"]].format(first=first, second=second)


# "Answer as a typical person from the following country would: <country>." in each probe language.
PERSONA: dict[str, str] = {
    "en": "Answer as a typical person from the following country would: {country}.",
    "ro": "Răspunde așa cum ar răspunde o persoană obișnuită din următoarea țară: {country}.",
    "el": "Απάντησε όπως θα απαντούσε ένας τυπικός άνθρωπος από την εξής χώρα: {country}.",
    "ur": "ایسے جواب دیں جیسے درج ذیل ملک کا ایک عام شخص جواب دیتا: {country}۔",
    "fa": "طوری پاسخ بده که یک فرد معمولی از این کشور پاسخ می‌داد: {country}.",
    "tl": "Sumagot gaya ng isasagot ng isang karaniwang tao mula sa sumusunod na bansa: {country}.",
    "id": "Jawablah seperti orang biasa dari negara berikut akan menjawab: {country}.",
    "de": "Antworte so, wie eine typische Person aus dem folgenden Land antworten würde: {country}.",
    "ms": "Jawab seperti seorang biasa dari negara berikut akan menjawab: {country}.",
    "bn": "নিম্নলিখিত দেশের একজন সাধারণ মানুষ যেভাবে উত্তর দিতেন, সেভাবে উত্তর দিন: {country}।",
    "sr": "Одговори онако како би одговорила типична особа из следеће земље: {country}.",
    "tr": "Aşağıdaki ülkeden sıradan bir insanın cevaplayacağı gibi cevap ver: {country}.",
    "vi": "Hãy trả lời như một người bình thường đến từ quốc gia sau: {country}.",
    "ko": "다음 나라의 평범한 사람이 대답할 것처럼 대답하세요: {country}.",
}

EXPLAIN = "Complete the sentence with one of the options, then explain your answer in one short sentence."

# CLDR locale of each probe language where it differs from the language code.
_LOCALES = {"tl": "fil"}
# WVS samples that are not ISO 3166 countries, so CLDR has no localised name for them.
_NOT_ISO = {"NIR": "Northern Ireland"}


def country_name(country: str, language: str) -> str:
    """The country's name in the probe's language (CLDR), from its ISO3 code."""
    found = pycountry.countries.get(alpha_3=country)
    if found is None:
        return _NOT_ISO[country]
    return Locale.parse(_LOCALES.get(language, language)).territories[found.alpha_2]


def persona_line(language: str, country: str) -> str:
    return PERSONA[language].format(country=country_name(country, language))
