"""`tunebench convert IN -o OUT`: pairs text or CSV/TSV to chat JSONL, as it will be uploaded."""

from __future__ import annotations

import argparse

from tui.commands._input import apply_dataset_defaults, read_input

HELP = "convert pairs text (input; output) or CSV/TSV to chat JSONL"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("input", metavar="IN", help="pairs .txt, .csv/.tsv (or chat .jsonl)")
    parser.add_argument("-o", "--output", metavar="OUT", required=True, help="chat .jsonl")
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
    data = read_input(args.input)
    try:
        check_usable(data)
        fmt = args.format or detect_format(data, args.input)
        if fmt == "dpo":
            raise UsageError(f"{args.input}: DPO files cannot be converted to chat examples")
        _, records = read_records(data, fmt, sep=args.sep, system=args.system)
        examples = []
        problems = []
        for rec in records:
            found = [p for p in check_record(rec, fmt) if p.severity == "error"]
            problems.extend(found)
            if rec.kind == "example" and not found:
                examples.append(rec.obj)
    except UnusableInput as exc:
        raise UsageError(f"{args.input}: {exc}") from None
    if problems:
        for problem in problems:
            print(problem.format(args.input))
        print(f"{len(problems)} problem(s); {args.output} not written")
        return EXIT_FAILED
    if not examples:
        raise UsageError(f"{args.input}: no examples found")
    write_atomic(args.output, export_jsonl(examples))
    print(f"{len(examples):,} examples written to {args.output}")
    return EXIT_OK
