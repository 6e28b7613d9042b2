"""Repairs of the upstream probes, applied when the dataset is built: the one table `probe_quirks.tsv`.

Each row names a language and probe, the quirk (a short tag that the dataset's `quirk` column carries), the field
it repairs and how:
- `option_a` / `option_b`: `old` is the whole upstream value, replaced by `new`;
- `template`: `old` is a short fragment occurring exactly once in the upstream template, replaced by `new`; or
  `sha256:<12 hex>` of the whole upstream template, which `new` (the project's own sentence) replaces;
- `swap`: the language's two options carry each other's meaning, so they change places;
- `drop`: no repair makes the probe askable; `reason` says why.
`old` pins what a repair expects to find, so a probe source that differs from the pinned upstream file stops the
build instead of receiving a repair meant for other text. The table holds only those short fragments of upstream
text (GPL third-party data), never its sentences.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from hf_dataset.collapse import tsv_rows
from hf_dataset.errors import DataError


if TYPE_CHECKING:
    from hf_dataset.probes import Probe


REPAIRS_TABLE = Path(__file__).with_name("probe_quirks.tsv")
HEADER = ["language", "id", "quirk", "field", "old", "new", "reason"]
FIELDS = ("template", "option_a", "option_b", "swap", "drop")
HASH_PREFIX = "sha256:"


@dataclass(frozen=True)
class Repair:
    quirk: str
    field: str
    old: str
    new: str
    reason: str
    where: str


@dataclass(frozen=True)
class Repaired:
    probe: Probe
    quirk: str  # the quirk tags of the repairs applied, comma-separated; "" for a clean probe
    dropped: str  # why the probe cannot be asked; "" when it can


def fingerprint(text: str) -> str:
    return HASH_PREFIX + hashlib.sha256(text.strip().encode("utf-8")).hexdigest()[:12]


def load_repairs(path: Path = REPAIRS_TABLE) -> dict[tuple[str, str], list[Repair]]:
    """{(language, probe id): its repairs in table order}."""
    repairs: dict[tuple[str, str], list[Repair]] = {}
    for line, row in tsv_rows(path, HEADER):
        where = f"{path}: line {line}"
        if row["field"] not in FIELDS:
            raise DataError(f"{where}: field must be one of {', '.join(FIELDS)}, found {row['field']!r}")
        if not row["quirk"].strip() or not row["reason"].strip():
            raise DataError(f"{where}: every repair needs a quirk tag and a reason")
        if row["field"] in ("swap", "drop") and (row["old"] or row["new"]):
            raise DataError(f"{where}: a {row['field']} row takes no old or new text")
        repairs.setdefault((row["language"], row["id"]), []).append(
            Repair(row["quirk"].strip(), row["field"], row["old"], row["new"], row["reason"].strip(), where)
        )
    return repairs


def _replace_template(template: str, repair: Repair, at: str) -> str:
    if repair.old.startswith(HASH_PREFIX):
        if fingerprint(template) != repair.old:
            raise DataError(f"{at}: the template is not the one {repair.where} rewrites ({repair.old})")
        return repair.new
    found = template.count(repair.old) if repair.old else 0
    if found != 1:
        raise DataError(f"{at}: {repair.where} expects {repair.old!r} once in the template, found it {found} times")
    return template.replace(repair.old, repair.new)


def apply_repairs(probe: Probe, repairs: list[Repair]) -> Repaired:
    """The probe with its repairs applied, in table order."""
    at = f"{probe.where} ({probe.id})"
    quirks = ",".join(dict.fromkeys(r.quirk for r in repairs))
    for repair in repairs:
        if repair.field == "drop":
            return Repaired(probe, quirks, repair.reason)
        if repair.field == "swap":
            probe = replace(probe, option_a=probe.option_b, option_b=probe.option_a)
        elif repair.field == "template":
            probe = replace(probe, template=_replace_template(probe.template, repair, at))
        else:
            current = getattr(probe, repair.field)
            if (fingerprint(current) if repair.old.startswith(HASH_PREFIX) else current) != repair.old.strip():
                raise DataError(f"{at}: {repair.where} expects {repair.field} {repair.old!r}, found {current!r}")
            probe = replace(probe, **{repair.field: repair.new.strip()})
    return Repaired(probe, quirks, "")
