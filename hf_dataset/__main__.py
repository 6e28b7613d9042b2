"""`python -m hf_dataset build ...`: build the probe dataset; bad input exits 2 with a one-line reason."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from hf_dataset.build import build
from hf_dataset.card import INDONESIA_NOTE
from hf_dataset.collapse import DEFAULT_RULE, RULES
from hf_dataset.errors import DataError, first_line
from hf_dataset.languages import LANGUAGES


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m hf_dataset", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    command = commands.add_parser("build", help="build the dataset folder (parquet per language + dataset card)")
    command.add_argument(
        "--probes",
        help="upstream probes: a folder of <lang>.csv, probes.zip, or its https address (default: the pinned address)",
    )
    command.add_argument("--out", required=True, type=Path, help="output folder (replaced whole on success)")
    command.add_argument("--languages", nargs="+", default=list(LANGUAGES), metavar="LANG", help="default: all 14")
    command.add_argument(
        "--collapse", choices=RULES, default=DEFAULT_RULE,
        help="how a scale's non-committal middle votes: with option_b (paper, the default) or for neither",
    )
    command.add_argument("--wvs-csv", type=Path, help="official WVS-7 CSV: recount every country it holds")
    command.add_argument("--push-to-hub", metavar="REPO", help="also upload the folder as a Hub dataset repository")
    args = parser.parse_args(argv)
    try:
        tables = build(args.out, args.probes, args.languages, args.wvs_csv, args.collapse)
    except DataError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    for table in tables:
        print(
            f"{table.language} ({table.country}): {len(table.rows)} probes, {table.labelled} labelled, "
            f"{table.repaired} repaired, {len(table.dropped)} dropped"
        )
        if table.language == "id":
            print(f"  {INDONESIA_NOTE}")
    print(f"wrote {args.out} (collapse rule: {args.collapse})")
    if args.push_to_hub:
        from huggingface_hub import HfApi

        api = HfApi()
        try:
            api.create_repo(args.push_to_hub, repo_type="dataset", exist_ok=True)
            commit = api.upload_folder(folder_path=str(args.out), repo_id=args.push_to_hub, repo_type="dataset")
        except Exception as error:  # noqa: BLE001 - the Hub client raises HTTP, auth and transport errors of several libraries
            print(f"error: cannot push {args.out} to the Hub dataset {args.push_to_hub}: {first_line(error)} "
                  "(the folder is built; push it again once logged in with `hf auth login`)", file=sys.stderr)
            return 2
        print(f"pushed to {args.push_to_hub} at revision {commit.oid}; "
              f"run the tasks on it with WVS_DATASET={args.push_to_hub}@{commit.oid}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
