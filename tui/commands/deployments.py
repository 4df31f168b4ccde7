"""`tunebench deployments list|delete NAME`: an Azure resource's model deployments.

`delete` asks nothing (scripts use it); the app asks before deleting.
"""

from __future__ import annotations

import argparse
import asyncio
from typing import TYPE_CHECKING

from tui.commands.deploy import deployments, lifetime, load, say
from tui.errors import EXIT_FAILED, EXIT_OK

if TYPE_CHECKING:
    from tui.api.arm import ArmDeployments

HELP = "List or delete the model deployments of an Azure OpenAI resource."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    lst = sub.add_parser("list", help="deployments with model, SKU and provisioning state")
    delete = sub.add_parser("delete", help="delete a deployment (no prompt)")
    delete.add_argument("name", metavar="NAME", help="deployment name")
    for action in (lst, delete):
        action.add_argument(
            "--profile", metavar="NAME", default=argparse.SUPPRESS, help="API profile"
        )


def run(args: argparse.Namespace) -> int:
    _loaded, endpoint = load(args)
    arm = deployments(endpoint)
    if args.action == "delete":
        from tui.api.arm import check_name

        return asyncio.run(_delete(arm, check_name(args.name)))
    return asyncio.run(_list(arm))


async def _list(arm: ArmDeployments) -> int:
    async with arm:
        found = await arm.list()
    if not found:
        say("no deployments")
    for d in found:
        capacity = "-" if d.capacity is None else str(d.capacity)
        note = lifetime(d)
        print(
            f"{d.name:<24} {d.state:<10} {d.sku:<15} {capacity:>4}  {d.model}"
            + (f"  ({note})" if note else "")
        )
    return EXIT_OK


async def _delete(arm: ArmDeployments, name: str) -> int:
    async with arm:
        existed = await arm.delete(name)
    if not existed:
        say(f"no deployment named {name}")
        return EXIT_FAILED
    say(f"deleted deployment {name}")
    return EXIT_OK
