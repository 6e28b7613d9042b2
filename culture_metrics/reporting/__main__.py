"""`python -m culture_metrics report|gate`: the leaderboard and the CI gate over lm-eval outputs.

Exit codes: 0 done (gate: no regression), 1 the gate found a regression, 2 unreadable or incomparable input (one
line on stderr, and no report folder left behind).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from culture_metrics.metrics import METRICS
from culture_metrics.reporting import eval_results, gate, paper, processes, report_folder, rows, runs


if TYPE_CHECKING:
    from collections.abc import Sequence


def _resamples(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError("must be 0 (no CIs) or more")
    return value


def _tolerance(text: str) -> float:
    value = float(text)
    if not value >= 0:
        raise argparse.ArgumentTypeError("must be 0 or more")
    return value


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m culture_metrics", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    board = commands.add_parser("report", help="leaderboard (markdown, JSON) and figures from lm-eval outputs")
    board.add_argument("results", nargs="+", type=Path, help="lm-eval output folders or results_*.json files")
    board.add_argument("--out", type=Path, required=True, help="report folder (replaced whole, or left untouched)")
    board.add_argument("--bootstrap", type=_resamples, default=1000, help="resamples for the CIs (default 1000)")
    board.add_argument("--paper-model", action="append", default=[], metavar="RUN_MODEL=PAPER_MODEL",
                       type=_paper_model,
                       help="compare a run with one of the paper's models when its name does not say so, e.g. "
                            "/models/llama3=Llama3-8B (runs named by a paper checkpoint are found alone)")
    board.add_argument("--eval-results", type=Path, metavar="DIR",
                       help="also write the Hub's .eval_results/*.yaml files, one folder per model, into DIR")
    board.add_argument("--samples-url", metavar="URL",
                       help="where the logged samples are published (the source of the Hub's results)")
    check = commands.add_parser("gate", help="exit 1 if RESULTS regressed against BASELINE")
    check.add_argument("results", type=Path, help="the new run: an lm-eval output folder or results file")
    check.add_argument("--baseline", type=Path, required=True, help="the baseline run, same tasks")
    check.add_argument("--max-drop", type=_tolerance, default=gate.DEFAULT_MAX_DROP,
                       help=f"tolerated drop of a metric (default {gate.DEFAULT_MAX_DROP})")
    check.add_argument("--metric", action="append", choices=list(METRICS), dest="metrics",
                       help=f"metric to gate on, repeatable (default: {' '.join(gate.DEFAULT_METRICS)})")
    check.add_argument("--bootstrap", type=_resamples, default=1000, help="resamples for the CIs (default 1000)")
    return parser


def _paper_model(text: str) -> tuple[str, str]:
    run_model, _, paper_name = text.rpartition("=")
    known = paper.models(paper.load())
    if not run_model or paper_name not in known:
        raise argparse.ArgumentTypeError(f"expected RUN_MODEL=PAPER_MODEL with PAPER_MODEL one of {', '.join(known)}")
    return run_model, paper_name


def _warn(warnings: Sequence[str]) -> None:
    for warning in warnings:
        print(f"warning: {warning}", file=sys.stderr)


def _report(args: argparse.Namespace) -> int:
    loaded, reported = rows.read(args.results, args.bootstrap, dict(args.paper_model))
    _warn(loaded.warnings)
    report_folder.write(args.out, reported, loaded.warnings, args.bootstrap)
    if args.eval_results:
        written = eval_results.write(args.eval_results, reported, args.samples_url)
        print(f"{len(written)} Hub evaluation results written to {args.eval_results}")
    print(f"report written to {args.out}")
    return 0


def _gate(args: argparse.Namespace) -> int:
    new, baseline = runs.load([args.results]), runs.load([args.baseline])
    _warn(list(dict.fromkeys(new.warnings + baseline.warnings)))
    checks = gate.compare(new, baseline, args.metrics or gate.DEFAULT_METRICS, args.max_drop, args.bootstrap)
    for check in checks:
        print(check.line())
    regressions = [check for check in checks if check.regressed]
    if regressions:
        print(f"{len(regressions)} regression(s) beyond --max-drop {args.max_drop}: "
              + "; ".join(f"{c.run.language} {c.metric}" for c in regressions))
        return 1
    print(f"no regression beyond --max-drop {args.max_drop}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        with processes.one_blas_thread():
            return _report(args) if args.command == "report" else _gate(args)
    except runs.RunError as error:
        print(f"error: {error}", file=sys.stderr)
    except OSError as error:
        print(f"error: {error.filename or ''}: {error.strerror or error}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
