"""Assemble the labelled dataset: probes + collapse table + WVS counts -> one parquet file per language + card.

The output folder appears whole or not at all: everything is written into a sibling temporary folder that replaces
the target only once the build has succeeded.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow as pa
import pyarrow.parquet as pq

from hf_dataset import card
from hf_dataset.collapse import DEFAULT_RULE, Collapse, check_rule, label, load_collapse
from hf_dataset.errors import DataError
from hf_dataset.folders import refuse_foreign, staged_folder
from hf_dataset.languages import LANGUAGE_COUNTRY, LANGUAGES, check_languages
from hf_dataset.probes import Probe, check_probe, read_english, read_upstream, to_project_blank
from hf_dataset.repairs import Repair, apply_repairs, load_repairs
from hf_dataset.source import read_probe_files
from hf_dataset.table import LanguageTable
from hf_dataset.wvs import EXCLUDED_SECTIONS, Counts, load_counts, section_of


if TYPE_CHECKING:
    import os


SCHEMA = pa.schema(
    [
        ("id", pa.string()),
        ("question", pa.int64()),
        ("category", pa.string()),
        ("language", pa.string()),
        ("country", pa.string()),
        ("template", pa.string()),
        ("option_a", pa.string()),
        ("option_b", pa.string()),
        ("quirk", pa.string()),
        ("answer", pa.string()),
        ("share_a", pa.float64()),
        ("respondents", pa.int64()),
    ]
)


def label_row(row: dict, rule: Collapse, answers: dict[int, int] | None, *, country: str, collapse: str) -> dict:
    """The row with answer/share_a/respondents taken from one country's answers under one collapse rule."""
    if rule.countries and country not in rule.countries:
        answers = None  # the country was asked this question about something else (Q82's regional organisation)
    result = label(answers, rule.sides(collapse), where=f"{country} Q{row['question']}")
    answer = None if result.side is None else row[f"option_{result.side}"]
    return {**row, "country": country, "answer": answer, "share_a": result.share_a, "respondents": result.respondents}


def relabel(rows: list[dict], country: str, counts: Counts, collapse: str = DEFAULT_RULE) -> list[dict]:
    """The same probes labelled by another country's answers or another collapse rule."""
    if country not in counts:
        raise DataError(f"no WVS-7 figures for country {country!r}; known: {' '.join(sorted(counts))}")
    check_rule(collapse)
    rules = load_collapse()
    return [
        label_row(row, rules[row["id"]], counts[country].get(f"Q{row['question']}"), country=country, collapse=collapse)
        for row in rows
    ]


def language_table(
    language: str,
    probes: list[Probe],
    rules: dict[str, Collapse],
    repairs: dict[tuple[str, str], list[Repair]],
    counts: Counts,
    collapse: str = DEFAULT_RULE,
) -> LanguageTable:
    """Keep, repair, drop (with the reason written down) and label each probe of one language."""
    country = LANGUAGE_COUNTRY[language]
    table = LanguageTable(language, country, check_rule(collapse))
    for probe in probes:
        section = section_of(probe.question)
        if section in EXCLUDED_SECTIONS:
            table.excluded.append((probe.id, f"{section} section, excluded by the paper"))
            continue
        repaired = apply_repairs(probe, repairs.get((language, probe.id), []))
        if repaired.dropped:
            table.excluded.append((probe.id, repaired.dropped))
            continue
        rule = rules.get(probe.id)
        if rule is None:
            raise DataError(f"{probe.where}: probe id {probe.id} is missing from the collapse table")
        if rule.excluded:
            table.excluded.append((probe.id, rule.excluded))
            continue
        probe = check_probe(repaired.probe) if language == "en" else to_project_blank(repaired.probe)
        row = {
            "id": probe.id,
            "question": probe.question,
            "category": section,
            "language": language,
            "template": probe.template,
            "option_a": probe.option_a,
            "option_b": probe.option_b,
            "quirk": repaired.quirk,
        }
        answers = counts.get(country, {}).get(f"Q{probe.question}")
        table.rows.append(label_row(row, rule, answers, country=country, collapse=collapse))
    return table


def build_tables(
    probes_source: str | os.PathLike | None = None,
    languages: list[str] | None = None,
    wvs_csv: Path | None = None,
    collapse: str = DEFAULT_RULE,
) -> list[LanguageTable]:
    languages = check_languages(list(languages or LANGUAGES))
    rules, repairs, counts = load_collapse(), load_repairs(), load_counts(wvs_csv)
    upstream = [lang for lang in languages if lang != "en"]
    raw = read_probe_files(probes_source, upstream) if upstream else {}
    tables = []
    for language in languages:
        if language == "en":
            probes, fixes = read_english()
        else:
            where, content = raw[language]
            probes, fixes = read_upstream(content, where), {}
        table = language_table(language, probes, rules, repairs, counts, collapse)
        table.fixes = fixes
        tables.append(table)
    return tables


def check_output(out: Path) -> None:
    """Refuse to replace a folder that is neither empty nor a dataset this tool built."""
    out = Path(out)
    refuse_foreign(out, lambda folder: card.MARKER in _card_text(folder),
                   DataError(f"{out} exists and is not a dataset built by hf_dataset; choose a new or empty folder"))


def _card_text(out: Path) -> str:
    try:
        return (out / "README.md").read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return ""


def write_dataset(tables: list[LanguageTable], out: Path, source: str) -> None:
    """Write the parquet files and the card, whole or not at all."""
    check_output(out)
    with staged_folder(Path(out).resolve()) as staging:
        (staging / "data").mkdir()
        for table in tables:
            pq.write_table(pa.Table.from_pylist(table.rows, schema=SCHEMA), staging / "data" / f"{table.language}.parquet")
        (staging / "README.md").write_text(card.render(tables, source), encoding="utf-8")


def build(
    out: Path,
    probes_source: str | os.PathLike | None = None,
    languages: list[str] | None = None,
    wvs_csv: Path | None = None,
    collapse: str = DEFAULT_RULE,
) -> list[LanguageTable]:
    check_output(out)
    tables = build_tables(probes_source, languages, wvs_csv, collapse)
    write_dataset(tables, out, str(probes_source or "the pinned upstream address"))
    return tables
