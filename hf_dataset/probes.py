"""Read probe files strictly: the upstream `<lang>.csv` files and the project's own English `probes/en.tsv`.

Every malformed line stops the build with the file and line at fault; nothing is repaired silently.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from hf_dataset.errors import DataError


ENGLISH_PROBES = Path(__file__).parent / "probes" / "en.tsv"
UPSTREAM_BLANK = "[MASK]"
BLANK = "_"  # the dataset's blank: the templates the tasks read and answers.py parses hold it
PROBE_ID = re.compile(r"^Q(\d+)([a-z]?)$")


@dataclass(frozen=True)
class Probe:
    id: str  # "Q57", "Q130a"
    question: int
    template: str  # the blank as "_"
    option_a: str
    option_b: str
    where: str  # file and line, for messages


def question_of(probe_id: str) -> int:
    match = PROBE_ID.match(probe_id)
    if not match:
        raise DataError(f"probe id {probe_id!r} is not of the form Q57 or Q130a")
    return int(match.group(1))


def decode(raw: bytes, where: str) -> list[str]:
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        raise DataError(f"{where}: line {line}: not valid UTF-8 (byte {error.start})") from error
    return text.replace("\r\n", "\n").split("\n")


def split_rows(lines: list[str], where: str, header: list[str]) -> list[tuple[int, list[str]]]:
    """Header-checked rows of a tab-separated file, each with its 1-based line number; blank lines skipped."""
    if not lines or lines[0].split("\t") != header:
        found = lines[0].split("\t") if lines else []
        raise DataError(f"{where}: line 1: expected the header {header}, found {found}")
    rows = []
    for number, line in enumerate(lines[1:], start=2):
        if not line.strip():
            continue
        cells = line.split("\t")
        if len(cells) != len(header):
            raise DataError(f"{where}: line {number}: expected {len(header)} tab-separated columns, found {len(cells)}")
        rows.append((number, cells))
    return rows


def check_probe(probe: Probe, blank: str = BLANK) -> Probe:
    """Refuse a probe a model could not be asked: no single blank, or options that cannot be told apart."""
    at = f"{probe.where} ({probe.id})"
    if not probe.template.strip():
        raise DataError(f"{at}: empty template")
    if probe.template.count(blank) != 1:
        found = probe.template.count(blank)
        raise DataError(f"{at}: the template must hold exactly one blank {blank!r}, found {found}")
    if not probe.option_a.strip() or not probe.option_b.strip():
        raise DataError(f"{at}: empty option")
    if probe.option_a.strip().casefold() == probe.option_b.strip().casefold():
        raise DataError(f"{at}: both options read {probe.option_a!r}")
    return probe


def read_probes(raw: bytes, where: str, header: list[str], skip: int = 0) -> list[tuple[Probe, list[str]]]:
    """Probes of a file whose columns, after `skip` leading ones, are (id, template, option_a, option_b, *rest).

    Templates are not judged here: probes of excluded sections may legitimately lack a blank.
    """
    probes: list[tuple[Probe, list[str]]] = []
    seen: dict[str, int] = {}
    for line, cells in split_rows(decode(raw, where), where, header):
        number, template, option_a, option_b, *rest = cells[skip:]
        probe_id = number.strip() if number.strip().startswith("Q") else f"Q{number.strip()}"
        at = f"{where}: line {line}"
        if probe_id in seen:
            raise DataError(f"{at}: duplicate probe id {probe_id} (first on line {seen[probe_id]})")
        seen[probe_id] = line
        try:
            question = question_of(probe_id)
        except DataError as error:
            raise DataError(f"{at}: {error}") from None
        probes.append((Probe(probe_id, question, template.strip(), option_a.strip(), option_b.strip(), at), rest))
    return probes


def read_upstream(raw: bytes, where: str) -> list[Probe]:
    """An upstream `<lang>.csv`: a row index, then the probe number ("57", "130a"), template, two options."""
    return [probe for probe, _ in read_probes(raw, where, ["", "0", "1", "2", "3"], skip=1)]


def to_project_blank(probe: Probe) -> Probe:
    """Upstream `[MASK]` -> `_`, after checking there is exactly one and no stray `_`."""
    if BLANK in probe.template:
        raise DataError(f"{probe.where} ({probe.id}): the template already holds {BLANK!r}")
    check_probe(probe, UPSTREAM_BLANK)
    return Probe(
        probe.id, probe.question, probe.template.replace(UPSTREAM_BLANK, BLANK), probe.option_a, probe.option_b, probe.where
    )


def read_english(path: Path = ENGLISH_PROBES) -> tuple[list[Probe], dict[str, str]]:
    """The project's English probes and, per id, the recorded fix of an upstream quirk."""
    rows = read_probes(path.read_bytes(), str(path), ["id", "template", "option_a", "option_b", "fix"])
    return [probe for probe, _ in rows], {probe.id: fix.strip() for probe, (fix,) in rows if fix.strip()}
