"""`tunebench emulator`: serve the OpenAI-compatible emulator until Ctrl+C or SIGTERM."""

from __future__ import annotations

import argparse
import sys
import textwrap
from typing import TYPE_CHECKING

from tui.commands._args import port_number
from tui.emulator.faults import FAULT_KINDS
from tui.errors import UsageError

if TYPE_CHECKING:
    from tui.emulator.server import Emulator

HELP = (
    "Serve the OpenAI-compatible emulator at http://HOST:PORT/v1 (offline demo and tests). "
    "Prints the base URL on stdout; any non-empty API key is accepted unless --api-key names one."
)
EPILOG_TAIL = """
([:N] defaults to 1.)

durations at --speed 1: validation 3 s, queue 2 s, 0.5 s per training step;
--speed 100 runs a small job in about a second.
"""


def epilog() -> str:
    """The fault kinds the emulator supports, from the list its parser uses."""
    lines = ['faults (--fault SPEC, repeatable; also TUNEBENCH_EMULATOR_FAULTS="SPEC,SPEC"):']
    for syntax, meaning in FAULT_KINDS.values():
        wrapped = textwrap.wrap(meaning, 58, break_on_hyphens=False)
        lines.append(f"  {syntax:<18}{wrapped[0]}")
        lines.extend(f"  {'':<18}{more}" for more in wrapped[1:])
    return "\n".join(lines) + "\n" + EPILOG_TAIL


def _positive(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be greater than 0: {text!r}")
    return value


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.epilog = epilog()
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to listen on (default 127.0.0.1; loopback only unless --allow-remote)",
    )
    parser.add_argument(
        "--port", type=port_number, default=0, help="port to listen on (default 0: a free port)"
    )
    parser.add_argument(
        "--speed",
        type=_positive,
        default=1.0,
        help="time factor: 10 makes jobs run ten times faster (default 1)",
    )
    parser.add_argument(
        "--seed",
        type=int,
        default=0,
        help="seed for ids and training, for reproducible runs (default 0)",
    )
    parser.add_argument(
        "--allow-remote",
        action="store_true",
        help="allow a non-loopback --host (the emulator has no real auth)",
    )
    parser.add_argument(
        "--fault",
        action="append",
        default=[],
        metavar="SPEC",
        help="inject a fault (see below); repeatable",
    )
    parser.add_argument(
        "--api-key", metavar="KEY", help="accept only this key (default: any non-empty key)"
    )
    parser.add_argument(
        "--azure",
        action="store_true",
        help="serve Azure OpenAI's paths instead (classic /openai/...?api-version=, v1 "
        "/openai/v1/, api-key header) and a fake ARM deployments API at the root; prints the "
        "root URL, an azure profile's endpoint and arm_url",
    )
    parser.add_argument(
        "--base64-results",
        action="store_true",
        help="serve result CSV files base64-encoded, as the API has done",
    )


def run(args: argparse.Namespace) -> int:
    import asyncio

    from tui.emulator.faults import FaultSpecError
    from tui.emulator.http import RemoteBindRefused, run_until_signal
    from tui.emulator.server import Emulator

    try:
        emulator = Emulator(
            seed=args.seed,
            speed=args.speed,
            faults=args.fault,
            host=args.host,
            port=args.port,
            allow_remote=args.allow_remote,
            api_key=args.api_key,
            base64_results=args.base64_results,
            azure=args.azure,
        )
    except (RemoteBindRefused, FaultSpecError) as exc:
        raise UsageError(str(exc)) from None
    asyncio.run(run_until_signal(emulator, lambda url: _announce(emulator, url)))
    return 0


def _announce(emulator: Emulator, url: str) -> None:
    if emulator.azure is not None:
        from tui.emulator.azure import describe_urls

        url = emulator.root_url
        print(url, flush=True)
        print(describe_urls(url), file=sys.stderr, flush=True)
    else:
        print(url, flush=True)
    keys = "any API key works" if emulator.api_key is None else "only the --api-key key works"
    print(f"emulator running; {keys}; Ctrl+C to stop", file=sys.stderr, flush=True)
