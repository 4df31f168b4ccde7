"""`tunebench deploy MODEL --name NAME`: deploy a tuned Azure model so it can answer.

Through Azure Resource Manager (see `tui.api.arm`); waits, with progress on stderr, until the
deployment is Succeeded (exit 0) or Failed (exit 1), at most --timeout seconds. The name is
printed on stdout: it is what `chat --model` and the Playground call.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from tui.errors import EXIT_FAILED, EXIT_OK, UsageError

if TYPE_CHECKING:
    from tui.api.arm import ArmDeployments, Deployment
    from tui.config import LoadedConfig

HELP = (
    "Deploy a tuned model on Azure OpenAI (through Azure Resource Manager) and wait until it "
    "answers; the deployment name is what chat and the Playground call."
)
DEFAULT_TIMEOUT = 1800.0


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1: {text!r}")
    return value


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("model", metavar="MODEL", help="tuned model id (or checkpoint) to deploy")
    parser.add_argument("--name", required=True, help="deployment name (what chat calls)")
    parser.add_argument(
        "--sku",
        default="standard",
        choices=["developer", "standard", "globalstandard"],
        help="deployment type: developer (24-hour lifetime, no SLA), standard (regional, "
        "default), globalstandard",
    )
    parser.add_argument(
        "--capacity", type=_positive_int, default=1, help="capacity units (default 1)"
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=DEFAULT_TIMEOUT,
        metavar="SECONDS",
        help=f"stop waiting after this long (default {DEFAULT_TIMEOUT:.0f})",
    )
    parser.add_argument(
        "--no-wait", action="store_true", help="return once Azure accepted the deployment"
    )


def say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def load(args: argparse.Namespace) -> tuple[LoadedConfig, Any]:
    """The config (its warnings said) and the profile's endpoint."""
    from tui.api.client import endpoint_for
    from tui.config import load_config

    loaded = load_config()
    for warning in loaded.warnings:
        say(f"warning: {warning}")
    return loaded, endpoint_for(loaded, args.profile)


def deployments(endpoint: Any) -> ArmDeployments:
    from tui.api.client import arm_deployments

    return arm_deployments(endpoint)


def lifetime(deployment: Deployment) -> str:
    return deployment.lifetime_text(datetime.now(UTC))


def run(args: argparse.Namespace) -> int:
    from tui.api.arm import check_name, sku_name

    name = check_name(args.name)
    sku = sku_name(args.sku)
    if args.timeout <= 0:
        raise UsageError("--timeout: must be greater than 0")
    loaded, endpoint = load(args)
    arm = deployments(endpoint)  # refuses a profile that cannot deploy, before any request
    return asyncio.run(_deploy(args, loaded, endpoint, arm, name, sku))


async def _deploy(
    args: argparse.Namespace,
    loaded: LoadedConfig,
    endpoint: Any,
    arm: ArmDeployments,
    name: str,
    sku: str,
) -> int:
    await _check_model(endpoint, args.model)
    async with arm:
        say(f"deploying {args.model} as {name} ({sku}, capacity {args.capacity})…")
        created = await arm.create(args.model, name, sku, args.capacity)
        if args.no_wait:
            say(f"{name}: {created.state} (check with `tunebench deployments list`)")
            print(name)
            return EXIT_OK
        last = ""

        def progress(deployment: Deployment, elapsed: float) -> None:
            nonlocal last
            if deployment.state != last:
                say(f"{name}: {deployment.state} ({elapsed:.0f} s)")
                last = deployment.state

        final = await arm.wait(
            name,
            interval=loaded.config.ui.poll_interval,
            timeout=args.timeout,
            on_state=progress,
        )
    if final.state != "Succeeded":
        say(f"deployment {name} {final.state}; see the resource's activity log in the portal")
        return EXIT_FAILED
    note = lifetime(final)
    say(f"deployment {name} is ready: tunebench chat --model {name} 'Hello'")
    if note:
        say(note)
    print(name)
    return EXIT_OK


async def _check_model(endpoint: Any, model: str) -> None:
    """Refuse a model the resource does not know before asking ARM to deploy it."""
    import openai

    async with endpoint.async_client(max_retries=1) as client:
        try:
            await client.models.retrieve(model)
        except openai.NotFoundError:
            raise UsageError(
                f"{model}: no such model on profile {endpoint.name!r}; "
                "`tunebench jobs list` shows the tuned models"
            ) from None
