"""The one table mapping each probe language to the country whose WVS answers label it (paper, Appendix B)."""

from __future__ import annotations

from hf_dataset.errors import DataError


LANGUAGE_COUNTRY: dict[str, str] = {
    "en": "USA",
    "ro": "ROU",
    "el": "GRC",
    "ur": "PAK",
    "fa": "IRN",
    "tl": "PHL",
    "id": "IDN",
    "de": "DEU",
    "ms": "MYS",
    "bn": "BGD",
    "sr": "SRB",
    "tr": "TUR",
    "vi": "VNM",
    "ko": "KOR",
}

LANGUAGES: tuple[str, ...] = tuple(LANGUAGE_COUNTRY)

LANGUAGE_NAMES: dict[str, str] = {
    "en": "English",
    "ro": "Romanian",
    "el": "Greek",
    "ur": "Urdu",
    "fa": "Persian",
    "tl": "Tagalog",
    "id": "Indonesian",
    "de": "German",
    "ms": "Malay",
    "bn": "Bengali",
    "sr": "Serbian",
    "tr": "Turkish",
    "vi": "Vietnamese",
    "ko": "Korean",
}


def check_languages(languages: list[str]) -> list[str]:
    """Return the languages in table order, refusing any the project has no country for."""
    unknown = [lang for lang in languages if lang not in LANGUAGE_COUNTRY]
    if unknown:
        raise DataError(
            f"unknown language(s) {', '.join(map(repr, unknown))}; known: {' '.join(LANGUAGES)}"
        )
    return [lang for lang in LANGUAGES if lang in languages]
