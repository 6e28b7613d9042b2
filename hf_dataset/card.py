"""The dataset card (README.md with `configs:` metadata) that makes the output folder a Hub-ready dataset.

The card also records, on one comment line, what a reader of a published copy must know to trust it: the dataset
version and the collapse rule its labels were made with.
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING

from hf_dataset.collapse import DEFAULT_RULE
from hf_dataset.languages import LANGUAGE_NAMES
from hf_dataset.source import PINNED_SHA256, PINNED_URL


if TYPE_CHECKING:
    from hf_dataset.table import LanguageTable


MARKER = "<!-- built by hf_dataset -->"
# Bump whenever a build of the same inputs writes other rows or columns: the tasks read only their own version.
DATASET_VERSION = "2.0"
RECORD = re.compile(r"^<!-- hf_dataset build (\{.*\}) -->$", re.MULTILINE)


def record_line(rule: str) -> str:
    return f"<!-- hf_dataset build {json.dumps({'version': DATASET_VERSION, 'collapse': rule})} -->"


def read_record(text: str) -> dict:
    """The build record of a card; empty for a card written before the record existed (or not by hf_dataset)."""
    found = RECORD.search(text)
    try:
        record = json.loads(found.group(1)) if found else {}
    except json.JSONDecodeError:
        return {}
    return record if isinstance(record, dict) else {}

CITATION = """\
@inproceedings{choenni-shutova-2024-self-alignment,
  title  = {Self-Alignment: Improving Alignment of Cultural Values in LLMs via In-Context Learning},
  author = {Choenni, Rochelle and Shutova, Ekaterina},
  year   = {2024},
  eprint = {2408.16482},
  archivePrefix = {arXiv}
}
@inproceedings{arora-etal-2023-probing,
  title     = {Probing Pre-Trained Language Models for Cross-Cultural Differences in Values},
  author    = {Arora, Arnav and Kaffee, Lucie-Aim{\\'e}e and Augenstein, Isabelle},
  booktitle = {Proceedings of the First Workshop on Cross-Cultural Considerations in NLP (C3NLP)},
  pages     = {114--130},
  year      = {2023}
}
@misc{haerpfer-2022-wvs7,
  title  = {World Values Survey: Round Seven - Country-Pooled Datafile Version 5.0},
  author = {Haerpfer, C. and Inglehart, R. and Moreno, A. and others},
  year   = {2022},
  doi    = {10.14281/18241.20}
}"""


def _front_matter(tables: list[LanguageTable]) -> str:
    lines = ["---", "license: gpl-3.0", "language:"]
    lines += [f"- {t.language}" for t in tables]
    lines += ["pretty_name: WVS-7 value probes for self-alignment", "task_categories:", "- text-generation", "configs:"]
    for t in tables:
        lines += [
            f"- config_name: {t.language}",
            "  data_files:",
            "  - split: test",
            f"    path: data/{t.language}.parquet",
        ]
    return "\n".join(lines + ["---"])


INDONESIA_NOTE = (
    "Indonesia's WVS-7 figures cover Q1-Q198 less Q82 and Q94-Q105 only: its later probes stay in the dataset "
    "without a label (the tasks skip and count them)"
)

RULE_TEXT = {
    "paper": "a scale's non-committal middle (\"Hard to say\", \"Neither\", a midpoint) counts with option_b, so "
    "option_a must beat every other answer (the paper's rule)",
    "drop_middle": "a scale's non-committal middle votes for neither option",
}


def render(tables: list[LanguageTable], source: str) -> str:
    summary = "\n".join(
        f"| {t.language} | {LANGUAGE_NAMES[t.language]} | {t.country} | {len(t.rows)} | {t.labelled} | "
        f"{t.repaired} | {len(t.dropped)} |"
        for t in tables
    )
    excluded = "\n".join(
        f"- **{t.language}** {probe_id}: {reason}" for t in tables for probe_id, reason in t.excluded
    )
    fixes = "\n".join(f"- {probe_id}: {fix}" for t in tables for probe_id, fix in t.fixes.items())
    rule = tables[0].rule if tables else DEFAULT_RULE
    indonesia = f"\n{INDONESIA_NOTE}.\n" if any(t.language == "id" for t in tables) else ""
    return f"""{_front_matter(tables)}
{MARKER}
{record_line(rule)}

# WVS-7 value probes for self-alignment

Cloze probes of World Values Survey Wave 7 (WVS-7) questions in {len(tables)} languages, each labelled with the
majority answer of the country its language maps to (Choenni & Shutova, 2024, Appendix B). Each probe is a sentence
with one blank (`_`) and two options from opposite ends of the WVS answer scale. Dataset version {DATASET_VERSION}.

## Loading and publishing

Load one language with `datasets.load_dataset(PATH, name="ro", split="test")`, where PATH is this folder or the
Hub dataset it was pushed to (then pin it: `revision="<commit or tag>"`). The wvs-selfalign lm-eval tasks read it
instead of building the probes themselves with `WVS_DATASET=ORG/NAME@REVISION` (or `WVS_DATASET=PATH` for a
folder); they refuse a dataset of another version than theirs. It was written by
`python -m hf_dataset build --out PATH`, and `--push-to-hub ORG/NAME` publishes it; the upstream probes are
GPL-3.0, so a published copy is GPL-3.0 too (see Provenance and licences).

## Languages

| config | language | country | probes | labelled | repaired | dropped |
|---|---|---|---|---|---|---|
{summary}
{indonesia}
Rows without a label (`answer` is null) are probes whose question the country's figures do not cover, or whose two
sides tie; the lm-eval tasks skip them and report how many they skipped. `repaired` rows carry the tags of their
repairs in `quirk` (see below); `dropped` counts probes no repair could make askable.

## Columns

- `id`: probe id (`Q57`, `Q130a`: letters split one WVS question into several probes); `question`: WVS question number
- `category`: WVS-7 questionnaire section; `language`; `country`: ISO3 code of the labelling country
- `template`: the sentence with its blank as `_`; `option_a`, `option_b`: the two options, in upstream order
- `quirk`: the upstream problems repaired in this row (comma-separated tags of `hf_dataset/probe_quirks.tsv`); empty
  for a probe used as published
- `answer`: the option the majority of the country's respondents chose (null: no figures, or a tie)
- `share_a`: share of counted respondents on option_a's side (a soft label); `respondents`: respondents counted

## How labels were made

Unweighted WVS-7 answer counts per country and question (codes >= 0; don't know / no answer left out) are collapsed
into two sides by the project's collapse table (`hf_dataset/collapse.tsv`): opposite ends of the answer scale vote
for option_a and option_b, reversed scales are mapped by meaning. This build uses the `{rule}` rule: {RULE_TEXT[rule]}.
The label is the side with more votes; a tie gets none. Probes of the Economic Values (Q106-Q111) and Postmaterialist
Index (Q152-Q157) sections are excluded, as in the paper. Q82 (confidence in the European Union) is labelled only for
countries whose WVS-7 Q82 asked about the EU.

## Excluded probes

{excluded or "None."}

## English probes

The upstream probes have no English file; the English probes were written for this project from the WVS-7
questionnaire. Fixes of upstream quirks:

{fixes or "None in this build."}

## Provenance and licences

- Probes (all languages but English): Arora, Kaffee and Augenstein (2023), GPL-3.0, from `probes.zip` at
  {PINNED_URL} (sha256 `{PINNED_SHA256}`), repaired where `quirk` says so. This build read: {source}.
- English probes: written for this project, Apache-2.0.
- Labels: derived from WVS-7 (Haerpfer et al., 2022, doi:10.14281/18241.20); aggregated figures only, no
  respondent-level data.
- The dataset as a whole is distributed under GPL-3.0, the licence of the upstream probes.

## Citation

```bibtex
{CITATION}
```
"""
