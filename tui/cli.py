"""The command line: `tunebench [PATH]` opens the app; subcommands run headless.

Each subcommand lives in its own module under `tui.commands` with `HELP`,
`add_arguments(parser)` and `run(args) -> int`; they are imported only when used so
`tunebench --help` and the app start stay fast.
"""

from __future__ import annotations

import argparse
import importlib
import sys
import traceback
from collections.abc import Sequence
from types import ModuleType

from tui import __version__
from tui.core.printable import one_line
from tui.errors import EXIT_USAGE, UsageError, describe, exit_code_for

COMMANDS: dict[str, str] = {
    "chat": "tui.commands.chat",
    "config": "tui.commands.config",
    "validate": "tui.commands.validate",
    "convert": "tui.commands.convert",
    "jobs": "tui.commands.jobs",
    "deploy": "tui.commands.deploy",
    "deployments": "tui.commands.deployments",
    "emulator": "tui.commands.emulator",
    "serve": "tui.commands.serve",
}


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--profile", metavar="NAME", help="API profile from the config file")
    parser.add_argument("--debug", action="store_true", help="show tracebacks on errors")


class _Parser(argparse.ArgumentParser):
    """argparse that raises instead of exiting, so errors go through the one error path."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(f"{self.prog}: {message}")


def _command_module(name: str) -> ModuleType:
    return importlib.import_module(COMMANDS[name])


def build_app_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="tunebench",
        description="A terminal workbench for fine-tuning chat models.",
        epilog="commands: " + ", ".join(COMMANDS) + " (tunebench COMMAND --help for each)",
    )
    parser.add_argument(
        "path", nargs="?", metavar="PATH", help="dataset to open (.jsonl, pairs .txt, .csv/.tsv)"
    )
    parser.add_argument(
        "--demo",
        action="store_true",
        help="offline demo: the bundled Polish grammar pairs against the built-in emulator",
    )
    parser.add_argument(
        "--local",
        metavar="MODEL",
        help="no account at all: train and chat with MODEL (a directory or HF id) through "
        "an embedded `tunebench serve` (needs pip install 'tunebench[train]')",
    )
    parser.add_argument("--version", action="version", version=f"tunebench {__version__}")
    _common(parser)
    return parser


def build_command_parser(name: str) -> argparse.ArgumentParser:
    module = _command_module(name)
    parser = _Parser(prog=f"tunebench {name}", description=module.HELP)
    _common(parser)
    module.add_arguments(parser)
    parser.set_defaults(_run=module.run)
    return parser


def _split_command(argv: list[str]) -> tuple[list[str], str | None, list[str]]:
    """Find the subcommand: the first word that is not an option."""
    for i, token in enumerate(argv):
        if token == "--":
            break
        if not token.startswith("-"):
            if token in COMMANDS:
                return argv[:i], token, argv[i + 1 :]
            break
    return argv, None, []


def take_global_options(argv: list[str]) -> tuple[bool, str | None, list[str]]:
    """`--debug` and `--profile NAME` wherever they stand (before a `--`), and the rest."""
    debug, profile, rest = False, None, []
    i = 0
    while i < len(argv):
        token = argv[i]
        if token == "--":
            rest += argv[i:]
            break
        if token == "--debug":
            debug = True
        elif token == "--profile":
            if i + 1 >= len(argv):
                raise UsageError("tunebench: --profile: expected a profile name")
            profile = argv[i + 1]
            i += 1
        elif token.startswith("--profile="):
            profile = token.removeprefix("--profile=")
        else:
            rest.append(token)
        i += 1
    return debug, profile, rest


def main(argv: Sequence[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args_list
    try:
        debug, profile, args_list = take_global_options(args_list)
        before, command, after = _split_command(args_list)
        if command is not None:
            args = build_command_parser(command).parse_args(before + after)
            args.command, args.debug, args.profile = command, debug, profile
            return int(args._run(args))
        app_args = build_app_parser().parse_args(before)
        app_args.debug, app_args.profile = debug, profile
        from tui.launch import run_app

        return run_app(app_args)
    except SystemExit as exc:  # argparse --help / --version
        return exc.code if isinstance(exc.code, int) else 0
    except KeyboardInterrupt:
        return 130
    except BaseException as exc:
        if debug:
            traceback.print_exc()
        print(one_line(describe(exc)), file=sys.stderr)
        return exit_code_for(exc) or EXIT_USAGE
