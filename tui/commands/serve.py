"""`tunebench serve`: the local trainer, until Ctrl+C or SIGTERM."""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from tui.commands._args import port_number
from tui.errors import UsageError

if TYPE_CHECKING:
    from tui.serve.server import Serve

HELP = (
    "Serve the OpenAI fine-tuning API with real training of open models (LoRA with TRL) at "
    "http://HOST:PORT/v1. Prints the base URL on stdout. Needs: pip install 'tunebench[train]'."
)
TRAIN_STACK = ("torch", "transformers", "peft", "trl", "accelerate")
DEFAULT_PORT = 8321


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--model",
        action="append",
        required=True,
        metavar="PATH_OR_HF_ID",
        help="a base model to offer (a local directory or an HF id); repeatable",
    )
    parser.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)"
    )
    parser.add_argument(
        "--port",
        type=port_number,
        default=DEFAULT_PORT,
        help=f"port (default {DEFAULT_PORT}; 0: free)",
    )
    parser.add_argument(
        "--data-dir",
        type=Path,
        metavar="DIR",
        help="files, jobs and models (default: user data dir)",
    )
    parser.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto")
    parser.add_argument(
        "--accelerate-config",
        metavar="FILE",
        help="accelerate config for the trainer processes (several GPUs, several nodes)",
    )
    parser.add_argument(
        "--api-key-env",
        metavar="NAME",
        help="environment variable holding the API key requests must carry",
    )
    parser.add_argument(
        "--allow-remote",
        action="store_true",
        help="allow a non-loopback --host (needs --api-key-env)",
    )


def check_train_stack() -> None:
    """Exit 2 with one line if the `train` extra is not installed."""
    missing = []
    for name in TRAIN_STACK:
        try:
            importlib.import_module(name)
        except ImportError:
            missing.append(name)
    if missing:
        raise UsageError(
            f"tunebench serve needs the training stack ({', '.join(missing)} missing): "
            "pip install 'tunebench[train]'"
        )


def _check_cuda() -> None:
    """--device cuda on a machine where torch sees no GPU: say so now, not at the first job."""
    import torch

    if not torch.cuda.is_available():
        raise UsageError(
            "--device cuda: torch sees no CUDA device here (no GPU, or a CPU build of torch); "
            "use --device cpu or auto"
        )


def _api_key(name: str | None) -> str | None:
    if name is None:
        return None
    key = os.environ.get(name)
    if not key:
        raise UsageError(f"--api-key-env {name}: the variable is not set or empty")
    return key


def run(args: argparse.Namespace) -> int:
    import asyncio

    check_train_stack()
    if args.device == "cuda":
        _check_cuda()
    import platformdirs

    from tui.emulator.http import RemoteBindRefused, run_until_signal
    from tui.serve.server import Serve

    data_dir = args.data_dir or platformdirs.user_data_path("tunebench") / "serve"
    try:
        serve = Serve(
            models=args.model,
            data_dir=data_dir,
            host=args.host,
            port=args.port,
            device=args.device,
            accelerate_config=args.accelerate_config,
            api_key=_api_key(args.api_key_env),
            allow_remote=args.allow_remote,
        )
    except (RemoteBindRefused, ValueError) as exc:
        raise UsageError(str(exc)) from None
    asyncio.run(run_until_signal(serve, lambda url: _announce(serve, url)))
    return 0


def _announce(serve: Serve, url: str) -> None:
    print(url, flush=True)
    models = ", ".join(serve.bases)
    print(
        f"serve running ({models}); data in {serve.store.data_dir}; Ctrl+C to stop",
        file=sys.stderr,
        flush=True,
    )
