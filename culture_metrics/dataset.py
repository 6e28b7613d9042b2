"""The probes the tasks read: the dataset of `hf_dataset`, built once per probe source and cached.

The probe source is the environment variable WVS_PROBES (a folder, probes.zip or its address, like
`python -m hf_dataset build --probes`), defaulting to the pinned upstream address. The cache entry is named by a
hash of everything the build reads, so a changed source or project table builds a new entry, and an entry is
written whole or not at all, so an interrupted run leaves the cache usable.
"""

from __future__ import annotations

import hashlib
import os
from typing import TYPE_CHECKING

import datasets

from hf_dataset import build as dataset_build
from hf_dataset.build import relabel
from hf_dataset.card import MARKER
from hf_dataset.collapse import COLLAPSE_TABLE, DEFAULT_RULE, check_rule
from hf_dataset.errors import DataError
from hf_dataset.languages import LANGUAGE_COUNTRY, LANGUAGES
from hf_dataset.probes import ENGLISH_PROBES
from hf_dataset.repairs import REPAIRS_TABLE
from hf_dataset.source import PINNED_URL, cache_root, read_probe_files
from hf_dataset.wvs import FIGURES, load_figures


if TYPE_CHECKING:
    from pathlib import Path


PROJECT_TABLES = (ENGLISH_PROBES, COLLAPSE_TABLE, REPAIRS_TABLE, FIGURES)


def probe_source() -> str:
    return os.environ.get("WVS_PROBES") or PINNED_URL


def dataset_dir() -> Path:
    """The built dataset for the current probe source: from the cache, or built into it now."""
    source = probe_source()
    upstream = [lang for lang in LANGUAGES if lang != "en"]
    try:
        raw = read_probe_files(source, upstream)
    except DataError as error:
        raise DataError(
            f"cannot read the WVS probes from {source}: {error}. Set WVS_PROBES to a local folder of <lang>.csv "
            "files or to probes.zip (see the README)"
        ) from error
    digest = hashlib.sha256()
    for lang in upstream:
        digest.update(raw[lang][1])
    for table in PROJECT_TABLES:
        digest.update(table.read_bytes())
    target = cache_root() / "datasets" / digest.hexdigest()[:20]
    card = target / "README.md"
    if not (card.is_file() and MARKER in card.read_text(encoding="utf-8")):
        dataset_build.build(target, source)
    return target


def load_probes(
    language: str,
    country: str | None = None,
    collapse: str = DEFAULT_RULE,
    clean: bool = False,
    **_: object,
) -> datasets.DatasetDict:
    """custom_dataset for the tasks: every probe of `language`, labelled or not (the task counts the skipped).

    Task metadata (or `--metadata`) changes the data: `country` (ISO3) labels the probes with that country's
    answers instead of the language's own country; `collapse: drop_middle` labels them under the rule that leaves
    a scale's non-committal middle out; `clean: true` keeps only the probes used as published (empty `quirk`).
    Other keyword arguments are the rest of the task's metadata (lm-eval passes all of it).
    """
    if language not in LANGUAGE_COUNTRY:
        raise DataError(f"unknown language {language!r}; known: {' '.join(LANGUAGES)}")
    check_rule(collapse)
    test = datasets.load_dataset(str(dataset_dir()), name=language, split="test")
    country = country or LANGUAGE_COUNTRY[language]
    if country != LANGUAGE_COUNTRY[language] or collapse != DEFAULT_RULE:
        rows = relabel(test.to_list(), country, load_figures(), collapse)
        test = datasets.Dataset.from_list(rows, features=test.features)
    if clean:
        test = test.filter(lambda row: not row["quirk"])
    return datasets.DatasetDict({"test": test})
