"""WVS-7 facts the build needs: the questionnaire's sections, and answer counts per country and question.

Counts come from the figures committed in `figures/answer_counts.json` (derived from WVS-7, see its SOURCE in the
README) and, optionally, from the official respondent-level WVS-7 CSV, which replaces the figures of every country
it holds.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections import Counter
from pathlib import Path

from hf_dataset.errors import DataError


FIGURES = Path(__file__).with_name("figures") / "answer_counts.json"

# (first question, last question, section) of the WVS-7 questionnaire.
SECTIONS: tuple[tuple[int, int, str], ...] = (
    (1, 45, "Social Values, Attitudes & Stereotypes"),
    (46, 56, "Happiness and Well-being"),
    (57, 105, "Social Capital, Trust & Organizational Membership"),
    (106, 111, "Economic Values"),
    (112, 120, "Corruption"),
    (121, 130, "Migration"),
    (131, 151, "Security"),
    (152, 157, "Postmaterialist Index"),
    (158, 163, "Science & Technology"),
    (164, 175, "Religious Values"),
    (176, 198, "Ethical Values and Norms"),
    (199, 234, "Political Interest & Political Participation"),
    (235, 259, "Political Culture & Political Regimes"),
)

# Sections the paper leaves out: their probes do not reduce to two opposite answers.
EXCLUDED_SECTIONS = frozenset({"Economic Values", "Postmaterialist Index"})

# {country ISO3: {"Q57": {answer code: respondents}}}
Counts = dict[str, dict[str, dict[int, int]]]

COUNTRY_COLUMNS = ("B_COUNTRY_ALPHA", "B_COUNTRY")
QUESTION_COLUMN = re.compile(r"^Q(\d+)$")


def section_of(question: int) -> str:
    for first, last, name in SECTIONS:
        if first <= question <= last:
            return name
    raise DataError(f"WVS-7 has no question Q{question}")


def load_figures(path: Path = FIGURES) -> Counts:
    """The committed per-country counts, with answer codes as integers."""
    raw = json.loads(path.read_text(encoding="utf-8"))
    return {
        country: {question: {int(code): n for code, n in answers.items()} for question, answers in entry["counts"].items()}
        for country, entry in raw.items()
    }


def counts_from_wvs_csv(path: Path) -> Counts:
    """Count valid answers (codes >= 0) per country and question from the official WVS-7 CSV.

    The official file names the country in B_COUNTRY_ALPHA (ISO3) and each question in a column `Q<n>`; negative
    codes are don't know / no answer / not asked and are left out, as in the committed figures.
    """
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as error:
        raise DataError(f"{path}: not valid UTF-8 at byte {error.start}") from error
    except OSError as error:
        raise DataError(f"{path}: cannot read ({error.strerror})") from error
    try:
        dialect = csv.Sniffer().sniff(text[:65536], delimiters=",;\t")
    except csv.Error as error:
        raise DataError(f"{path}: not a comma-, semicolon- or tab-separated file") from error
    reader = csv.reader(io.StringIO(text), dialect)
    header = next(reader, None)
    if not header:
        raise DataError(f"{path}: empty file")
    header = [name.strip().strip('"') for name in header]
    if "B_COUNTRY_ALPHA" not in header:
        raise DataError(f"{path}: no B_COUNTRY_ALPHA column (the official WVS-7 CSV names the country there)")
    country_at = header.index("B_COUNTRY_ALPHA")
    questions = {i: f"Q{m.group(1)}" for i, name in enumerate(header) if (m := QUESTION_COLUMN.match(name))}
    if not questions:
        raise DataError(f"{path}: no question columns named Q1..Q259")
    tallies: dict[str, dict[str, Counter]] = {}
    for line, row in enumerate(reader, start=2):
        if not row:
            continue
        if len(row) != len(header):
            raise DataError(f"{path}: line {line}: {len(row)} columns, the header has {len(header)}")
        country = row[country_at].strip()
        if not re.fullmatch(r"[A-Z]{3}", country):
            raise DataError(f"{path}: line {line}: B_COUNTRY_ALPHA {country!r} is not an ISO3 code")
        per_question = tallies.setdefault(country, {})
        for i, question in questions.items():
            value = row[i].strip()
            try:
                code = int(float(value))
            except ValueError as error:
                raise DataError(f"{path}: line {line}: {header[i]} = {value!r} is not a number") from error
            if code >= 0:
                per_question.setdefault(question, Counter())[code] += 1
    if not tallies:
        raise DataError(f"{path}: no respondents")
    return {country: {q: dict(c) for q, c in per_q.items()} for country, per_q in tallies.items()}


def load_counts(wvs_csv: Path | None = None) -> Counts:
    """The committed figures, with every country found in `wvs_csv` replaced by its recount."""
    counts = load_figures()
    if wvs_csv is not None:
        counts.update(counts_from_wvs_csv(wvs_csv))
    return counts
