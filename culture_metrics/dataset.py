"""The probes the tasks read: a published copy of the `hf_dataset` dataset, or one built once per probe source.

A published dataset is named by task metadata `dataset` or the environment variable WVS_DATASET: a folder that
`python -m hf_dataset build` wrote, or a Hub dataset id with an optional revision (`org/name@revision`), read
through the Hugging Face cache (offline when HF_HUB_OFFLINE or HF_DATASETS_OFFLINE is set). It is read as
published, so every run on it scores the same rows; nothing is built. Its card must carry the build marker and this
project's dataset version. A Hub dataset's probes come with its id and the commit read (`Probes.hub_dataset`), which
the task records in the run's provenance, pinned or not.

Otherwise the probe source is the environment variable WVS_PROBES (a folder, probes.zip or its address, like
`python -m hf_dataset build --probes`), defaulting to the pinned upstream address. The cache entry is named by a
hash of everything the build reads, so a changed source or project table builds a new entry, and an entry is
written whole or not at all, so an interrupted run leaves the cache usable.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import datasets
import pyarrow as pa
import pyarrow.parquet as pq
from huggingface_hub import DatasetCard, hf_hub_download, snapshot_download
from huggingface_hub.errors import (
    EntryNotFoundError,
    HFValidationError,
    LocalEntryNotFoundError,
    RepositoryNotFoundError,
    RevisionNotFoundError,
)
from huggingface_hub.utils import validate_repo_id

from culture_metrics.variant import Variant
from hf_dataset import build as dataset_build
from hf_dataset.build import SCHEMA, relabel
from hf_dataset.card import DATASET_VERSION, MARKER, read_record
from hf_dataset.collapse import COLLAPSE_TABLE, DEFAULT_RULE, check_rule
from hf_dataset.errors import DataError, first_line
from hf_dataset.languages import LANGUAGE_COUNTRY, LANGUAGES
from hf_dataset.probes import ENGLISH_PROBES
from hf_dataset.repairs import REPAIRS_TABLE
from hf_dataset.source import PINNED_URL, cache_root, read_probe_files
from hf_dataset.wvs import FIGURES, load_figures


PROJECT_TABLES = (ENGLISH_PROBES, COLLAPSE_TABLE, REPAIRS_TABLE, FIGURES)


CARD = "README.md"
# A path, not a Hub id, even where it does not exist (yet): the error then says "no such folder".
PATH_PREFIXES = ("/", ".", "~")


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
            "files or to probes.zip, or WVS_DATASET to a published dataset (see the README)"
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


def published_dataset(dataset: object = None) -> str | None:
    """The published dataset the tasks are told to read: task metadata `dataset`, else WVS_DATASET, else none."""
    name = dataset if dataset not in (None, "") else os.environ.get("WVS_DATASET")
    return str(name) if name else None


def is_folder(name: str) -> bool:
    """A published dataset named by a folder rather than a Hub id."""
    return name.startswith(PATH_PREFIXES) or Path(name).expanduser().exists()


class Probes(datasets.DatasetDict):
    """A task's probes (`test`), and the Hub dataset they were read from, as the run's provenance cites it."""

    hub_dataset: dict[str, str | None] | None = None


def hub_dataset(name: str, snapshot: Path) -> dict[str, str | None]:
    """The Hub dataset `name` (`org/name[@revision]`) as read from `snapshot`, the folder `hub_snapshot` gave:
    `id`; `revision`, the commit read (the snapshot folder's name), pinned or not, the one a Hub evaluation result
    cites; `pinned`, the revision asked for after @ as given (a commit, tag or branch), None where none was.
    """
    repo_id, _, pinned = name.partition("@")
    return {"id": repo_id, "revision": snapshot.name, "pinned": pinned or None}


def hub_snapshot(name: str, language: str) -> Path:
    """The Hub dataset `org/name[@revision]` as a folder of the local Hugging Face cache, named by its commit.

    The card is fetched and checked first, then the data of the very commit the card came from, so a branch that
    moves in between cannot mix two versions. Offline, both come from the cache, and only for that revision.
    """
    repo_id, at, revision = name.partition("@")
    try:
        validate_repo_id(repo_id)
    except HFValidationError:
        repo_id = ""
    if not repo_id or (at and not revision):
        raise DataError(f"dataset {name}: neither an existing folder nor a Hub dataset id "
                        "(org/name or org/name@revision)")
    offline = datasets.config.HF_HUB_OFFLINE
    try:
        card = Path(hf_hub_download(repo_id, CARD, repo_type="dataset", revision=revision or None,
                                    local_files_only=offline))
        check_card(name, read_card(name, card.parent), language)
        folder = snapshot_download(repo_id, repo_type="dataset", revision=card.parent.name,
                                   allow_patterns=[CARD, "data/*.parquet"], local_files_only=offline)
    except LocalEntryNotFoundError as error:
        raise DataError(
            f"dataset {name}: not in the local Hugging Face cache, and the Hub cannot be reached or offline mode is on "
            "(HF_HUB_OFFLINE, HF_DATASETS_OFFLINE); run once online to cache it, or set WVS_DATASET to a folder"
        ) from error
    except RevisionNotFoundError as error:
        raise DataError(f"dataset {name}: the Hub dataset {repo_id} has no revision {revision!r}") from error
    except RepositoryNotFoundError as error:
        raise DataError(f"dataset {name}: no Hub dataset {repo_id} (or no access to it)") from error
    except EntryNotFoundError as error:
        raise DataError(f"dataset {name}: has no {CARD}, so it is not one `python -m hf_dataset build` "
                        "wrote") from error
    except OSError as error:
        raise DataError(f"dataset {name}: cannot be fetched from the Hub ({first_line(error)})") from error
    return Path(folder)


def read_card(name: str, folder: Path) -> str:
    try:
        return (folder / CARD).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise DataError(f"dataset {name}: no readable {CARD}, so it is not a folder `python -m hf_dataset build` "
                        "wrote") from error


def check_card(name: str, text: str, language: str) -> dict:
    """The card's build record, once the card shows a build of this dataset version with `language` in it."""
    if MARKER not in text:
        raise DataError(f"dataset {name}: its {CARD} has no build marker, so it is not one "
                        "`python -m hf_dataset build` wrote")
    record = read_record(text)
    version = record.get("version")
    if version != DATASET_VERSION:
        raise DataError(
            f"dataset {name}: dataset version {version or 'unknown (built before versions were recorded)'}, but this "
            f"project reads version {DATASET_VERSION}; rebuild it with `python -m hf_dataset build` or use the project "
            "release that wrote it"
        )
    if language not in data_files(name, text):
        raise DataError(f"dataset {name}: has no config for language {language!r}")
    return record


def data_files(name: str, text: str) -> dict[str, list[str]]:
    """{config: its data files} from the card's `configs:` metadata, the files `datasets` will read."""
    try:
        configs = DatasetCard(text).data.to_dict().get("configs") or []
        return {c["config_name"]: [f["path"] for f in c["data_files"]] for c in configs}
    except (ValueError, KeyError, TypeError) as error:
        raise DataError(f"dataset {name}: its {CARD} has no readable `configs:` metadata "
                        f"({first_line(error)})") from error


def check_folder(name: str, folder: Path, text: str) -> None:
    """Every data file the card names exists and holds this dataset version's columns (`datasets` reads them all)."""
    for config, files in data_files(name, text).items():
        for file in files:
            try:
                schema = pq.read_schema(folder / file)
            except (OSError, pa.ArrowInvalid) as error:
                raise DataError(f"dataset {name}: {file} of config {config} is missing or not parquet") from error
            if not schema.equals(SCHEMA, check_metadata=False):
                raise DataError(f"dataset {name}: {file} of config {config} does not hold the columns of dataset "
                                f"version {DATASET_VERSION} ({', '.join(schema.names)})")


def read_published(name: str, language: str) -> tuple[datasets.Dataset, str, dict[str, str | None] | None]:
    """The `language` config of the published dataset `name`, checked before anything is read, its collapse rule, and
    the Hub dataset it was read from (`hub_dataset`; None for a folder).
    """
    path = Path(name).expanduser()
    hub = None
    if is_folder(name):
        if not path.is_dir():
            raise DataError(f"dataset {name}: no such folder")
    else:
        path = hub_snapshot(name, language)
        hub = hub_dataset(name, path)
    text = read_card(name, path)
    record = check_card(name, text, language)
    check_folder(name, path, text)
    test = datasets.load_dataset(str(path), name=language, split="test")
    return test, record.get("collapse", DEFAULT_RULE), hub


def variant_probes(**metadata: object) -> Probes:
    """custom_dataset for the tasks: lm-eval passes the whole task metadata, which the task's Variant reads."""
    variant = Variant.from_metadata(metadata)
    return load_probes(variant.language, variant.country, variant.collapse, variant.clean, variant.dataset)


def load_probes(
    language: str,
    country: str | None = None,
    collapse: str = DEFAULT_RULE,
    clean: bool = False,
    dataset: object = None,
) -> Probes:
    """Every probe of `language`, labelled or not (the task counts the skipped), and the Hub dataset read, if any.

    Task metadata (or `--metadata`) changes the data: `dataset` (or WVS_DATASET) names a published dataset to read
    instead of building one; `country` (ISO3) labels the probes with that country's answers instead of the
    language's own country; `collapse: drop_middle` labels them under the rule that leaves a scale's non-committal
    middle out; `clean: true` keeps only the probes used as published (empty `quirk`).
    """
    if language not in LANGUAGE_COUNTRY:
        raise DataError(f"unknown language {language!r}; known: {' '.join(LANGUAGES)}")
    check_rule(collapse)
    published = published_dataset(dataset)
    hub = None
    if published:
        test, labelled_with, hub = read_published(published, language)
    else:
        test, labelled_with = datasets.load_dataset(str(dataset_dir()), name=language, split="test"), DEFAULT_RULE
    country = country or LANGUAGE_COUNTRY[language]
    if country != LANGUAGE_COUNTRY[language] or collapse != labelled_with:
        rows = relabel(test.to_list(), country, load_figures(), collapse)
        test = datasets.Dataset.from_list(rows, features=test.features)
    if clean:
        test = test.filter(lambda row: not row["quirk"])
    probes = Probes({"test": test})
    probes.hub_dataset = hub
    return probes
