"""`tunebench convert IN -o OUT`: pairs text or CSV/TSV to chat JSONL, as it will be uploaded."""

from __future__ import annotations

import argparse
import sys

from tui.commands._input import STDIN, apply_dataset_defaults, display_name, read_input

HELP = "convert pairs text (input; output) or CSV/TSV to chat JSONL"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "input", metavar="IN", help="pairs .txt, .csv/.tsv (or chat .jsonl); - reads stdin"
    )
    parser.add_argument(
        "-o", "--output", metavar="OUT", required=True, help="chat .jsonl; - writes stdout"
    )
    parser.add_argument(
        "--system",
        metavar="TEXT",
        help="system prompt for every example (a `# system:` line in the file wins after it)",
    )
    parser.add_argument(
        "--sep", help="pairs separator (default: dataset.separator in the config, else ;)"
    )
    parser.add_argument(
        "--format",
        choices=("chat", "pairs", "csv", "tsv"),
        help="the input's format (default: from its name and content)",
    )


def run(args: argparse.Namespace) -> int:
    from tui.core.atomic import write_atomic
    from tui.core.formats import (
        UnusableInput,
        check_usable,
        detect_format,
        export_jsonl,
        read_records,
    )
    from tui.core.validate import check_record
    from tui.errors import EXIT_FAILED, EXIT_OK, UsageError

    apply_dataset_defaults(args, args.input)
    if not args.sep:
        raise UsageError("--sep must not be empty")
    shown = display_name(args.input)
    data = read_input(args.input)
    try:
        check_usable(data)
        fmt = args.format or detect_format(data, args.input)
        if fmt == "dpo":
            raise UsageError(f"{shown}: DPO files cannot be converted to chat examples")
        _, records = read_records(data, fmt, sep=args.sep, system=args.system)
        examples = []
        problems = []
        for rec in records:
            found = [p for p in check_record(rec, fmt) if p.severity == "error"]
            problems.extend(found)
            if rec.kind == "example" and not found:
                examples.append(rec.obj)
    except UnusableInput as exc:
        raise UsageError(f"{shown}: {exc}") from None
    to_stdout = args.output == STDIN
    target = "<stdout>" if to_stdout else args.output
    # With the JSONL on stdout, what is said about it goes to stderr.
    say = sys.stderr if to_stdout else sys.stdout
    if problems:
        for problem in problems:
            print(problem.format(shown), file=say)
        print(f"{len(problems)} problem(s); {target} not written", file=say)
        return EXIT_FAILED
    if not examples:
        raise UsageError(f"{shown}: no examples found")
    if to_stdout:
        sys.stdout.buffer.write(export_jsonl(examples))
        sys.stdout.flush()
    else:
        write_atomic(args.output, export_jsonl(examples))
    print(f"{len(examples):,} examples written to {target}", file=say)
    return EXIT_OK
