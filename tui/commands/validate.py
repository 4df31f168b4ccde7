"""`tunebench validate PATH`: every problem of a training file pinned to its line."""

from __future__ import annotations

import argparse
import json
import os
from typing import TYPE_CHECKING

from tui.commands._input import apply_dataset_defaults, display_name, open_input, positive_int

if TYPE_CHECKING:
    from tui.core.validate import ValidationReport

HELP = "check a training file like the API will, with tokens and estimated cost"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "path", metavar="PATH", help="chat or DPO .jsonl, pairs .txt, .csv/.tsv; - reads stdin"
    )
    parser.add_argument(
        "--model",
        metavar="M",
        help="base model or tuned model name (default: defaults.model in the config, gpt-4.1-mini)",
    )
    parser.add_argument(
        "--epochs", metavar="N", type=positive_int, help="training epochs (default: auto)"
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument(
        "--format",
        choices=("chat", "dpo", "pairs", "csv", "tsv"),
        help="the file's format (default: from its name and content)",
    )
    parser.add_argument(
        "--sep", help="pairs separator (default: dataset.separator in the config, else ;)"
    )
    parser.add_argument("--system", metavar="TEXT", help="system prompt for pairs/CSV files")


def run(args: argparse.Namespace) -> int:
    from tui.core.models import resolve_model
    from tui.core.validate import validate_stream
    from tui.errors import EXIT_FAILED, EXIT_OK, UsageError

    apply_dataset_defaults(args, args.path)
    if args.model is None:  # the one default the app uses too
        from tui.config import default_model

        args.model = default_model()
    if not args.sep:
        raise UsageError("--sep must not be empty")
    model = resolve_model(args.model)  # an unknown name is a usage error here
    with open_input(args.path) as stream:
        report = validate_stream(
            stream,
            args.model or model.name,
            filename=args.path,
            fmt=args.format,
            sep=args.sep,
            system=args.system,
            epochs=args.epochs,
            workers=_usable_cpus(),
        )
    shown = display_name(args.path)
    if report.fatal is not None:
        raise UsageError(f"{shown}: {report.fatal}")
    if args.json:
        print(json.dumps(report_json(shown, report), ensure_ascii=False))
    else:
        for problem in report.problems:
            print(problem.format(shown))
        print(summary(report, auto_epochs=args.epochs is None))
    return EXIT_FAILED if report.errors else EXIT_OK


def _usable_cpus() -> int:
    """CPUs this process may run on (a container or taskset may allow fewer than exist)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0)) or 1
    return os.cpu_count() or 1


def report_json(path: str, report: ValidationReport) -> dict[str, object]:
    est = report.estimate
    return {
        "file": path,
        "format": report.format,
        "model": report.model,
        "examples": report.n_examples,
        "problems": [p.to_dict() for p in report.problems],
        "tokens": report.tokens.to_dict(),
        "n_epochs": est.n_epochs if est else None,
        "billed_tokens": est.billed_tokens if est else None,
        "estimated_cost_usd": est.estimated_cost_usd if est else None,
    }


def summary(report: ValidationReport, *, auto_epochs: bool = True) -> str:
    """The few lines after the problems: counts, tokens, epochs, billed tokens, cost."""
    n_err, n_warn = len(report.errors), len(report.warnings)
    approx = "" if report.tokens.exact else "~"
    t = report.tokens
    lines = [
        f"{report.n_examples:,} example{'s' * (report.n_examples != 1)}, "
        f"{n_err} error{'s' * (n_err != 1)}, "
        f"{n_warn} warning{'s' * (n_warn != 1)} ({report.format}, {report.model})",
        f"tokens: total {approx}{t.total:,}, max {approx}{t.max:,}, "
        f"p50 {approx}{t.p50:,}, p95 {approx}{t.p95:,}"
        + (
            ""
            if t.exact
            else "\n  (~: estimates for tool calls, images, DPO or text over 500,000 chars)"
        ),
    ]
    est = report.estimate
    if est is not None:
        cost = (
            "no per-token price known"
            if est.estimated_cost_usd is None
            else f"estimated cost ${est.estimated_cost_usd:,.2f} "
            f"(${est.price_per_1m:g} per 1M training tokens"
            + ("" if est.price_verified else ", price unverified")
            + ")"
        )
        auto = " (auto)" if auto_epochs else ""
        lines.append(f"epochs {est.n_epochs}{auto}, billed tokens {approx}{est.billed_tokens:,}")
        lines.append(cost)
    return "\n".join(lines)
