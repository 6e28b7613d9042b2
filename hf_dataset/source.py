"""Where the upstream probe files come from: a folder, the published probes.zip, or its pinned address.

The zip is verified against the pinned sha256 wherever it comes from, so a build is either made from the exact
published file or refused.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import urllib.request
import zipfile
from pathlib import Path

from hf_dataset.errors import DataError


PINNED_URL = (
    "https://github.com/copenlu/value-probing/raw/ae5e826c664babd0170ec4511198e848e879a260/probes.zip"
)
PINNED_SHA256 = "bdb368f3aea4433919a656fc6e569199f5c9d286daaaf10920d51f57bf5a411b"
ZIP_FOLDER = "probes/wvs/"


def cache_root() -> Path:
    """The project's cache (downloads, built datasets, converted models); WVS_CACHE_DIR overrides it."""
    return Path(os.environ.get("WVS_CACHE_DIR") or Path.home() / ".cache" / "wvs_selfalign")


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _verified(path: Path, origin: str) -> Path:
    actual = sha256_of(path)
    if actual != PINNED_SHA256:
        raise DataError(
            f"{origin}: sha256 {actual} does not match the pinned {PINNED_SHA256}; "
            "refusing a probes.zip that is not the published file"
        )
    return path


def download(url: str) -> Path:
    """Fetch the zip once into the cache, verified; a failed or partial download leaves nothing behind."""
    target = cache_root() / "downloads" / f"probes-{PINNED_SHA256[:16]}.zip"
    if target.exists():
        return _verified(target, str(target))
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, partial = tempfile.mkstemp(dir=target.parent, suffix=".part")
    os.close(handle)
    try:
        try:
            with urllib.request.urlopen(url, timeout=60) as response, open(partial, "wb") as out:  # noqa: S310
                while block := response.read(1 << 20):
                    out.write(block)
        except OSError as error:
            raise DataError(
                f"cannot download {url} ({error}); point --probes (or WVS_PROBES) at a local copy of "
                "probes.zip or of its probes/wvs folder"
            ) from error
        _verified(Path(partial), url)
        os.replace(partial, target)
    finally:
        Path(partial).unlink(missing_ok=True)
    return target


def read_probe_files(source: str | os.PathLike | None, languages: list[str]) -> dict[str, tuple[str, bytes]]:
    """Return {language: (where it came from, raw bytes)} for each requested upstream language."""
    source = str(source) if source else PINNED_URL
    if source.startswith(("https://", "http://")):
        path = download(source)
    else:
        path = Path(source)
        if not path.exists():
            raise DataError(f"probe source {source!r} does not exist")
    if path.is_dir():
        found = {}
        for lang in languages:
            candidates = [path / f"{lang}.csv", path / "wvs" / f"{lang}.csv", path / ZIP_FOLDER / f"{lang}.csv"]
            file = next((c for c in candidates if c.is_file()), None)
            if file is None:
                raise DataError(f"{path}: no {lang}.csv for language {lang!r}")
            found[lang] = (str(file), file.read_bytes())
        return found
    _verified(path, str(path))
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
            found = {}
            for lang in languages:
                member = f"{ZIP_FOLDER}{lang}.csv"
                if member not in names:
                    raise DataError(f"{path}: no {member} for language {lang!r}")
                found[lang] = (f"{path}:{member}", archive.read(member))
            return found
    except zipfile.BadZipFile as error:
        raise DataError(f"{path}: not a zip file ({error})") from error
