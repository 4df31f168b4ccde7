"""The ARM deployments client against `emulator --azure`, in process: states, refusals as
one line, the Developer tier's lifetime."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from emulator_support import FAST

from tui.api.arm import ArmDeployments, Deployment
from tui.emulator import Emulator
from tui.errors import AzureManagementError, describe


async def token() -> str:
    return "arm-token"


@pytest.fixture
async def emu():
    async with Emulator(seed=0, speed=FAST, env_faults=False, azure=True) as emulator:
        yield emulator


async def test_deploy_waits_through_creating_to_succeeded(emu: Emulator) -> None:
    async with ArmDeployments(emu.root_url, "sub-1", "rg-1", "acct", token) as arm:
        created = await arm.create("gpt-4.1-mini-2025-04-14", "base", "GlobalStandard", 2)
        assert (created.name, created.sku, created.capacity) == ("base", "GlobalStandard", 2)
        assert created.state == "Accepted"  # ARM's first answer to a new deployment
        seen: list[str] = []
        final = await arm.wait(
            "base", interval=0.001, timeout=10, on_state=lambda d, _s: seen.append(d.state)
        )
        assert final.state == "Succeeded" and seen[-1] == "Succeeded"
        assert [d.name for d in await arm.list()] == ["base"]
        assert await arm.delete("base") is True
        assert await arm.get("base") is None


async def test_unknown_model_is_one_line_from_azures_400(emu: Emulator) -> None:
    arm = ArmDeployments(emu.root_url, "sub-1", "rg-1", "acct", token)
    async with arm:
        with pytest.raises(AzureManagementError) as caught:
            await arm.create("gpt-x.ft-nope", "x1", "Standard", 1)
    line = describe(caught.value)
    assert line.startswith(
        "deploy gpt-x.ft-nope as x1: this model cannot be deployed here "
        "(400 DeploymentModelNotSupported): The model 'Format:OpenAI,Name:gpt-x.ft-nope"
    )
    assert "\n" not in line


async def test_a_missing_token_is_one_line(emu: Emulator) -> None:
    async def empty() -> str:
        return ""

    async with ArmDeployments(emu.root_url, "s", "r", "a", empty) as arm:
        with pytest.raises(AzureManagementError) as caught:
            await arm.list()
    assert describe(caught.value).startswith(
        "list deployments: Azure Resource Manager refused the token (401 AuthenticationFailed)"
    )


def test_developer_tier_lifetime_is_24_hours() -> None:
    created = datetime(2026, 12, 1, 0, 0, tzinfo=UTC)
    dev = Deployment("d", "m", "DeveloperTier", 1, "Succeeded", created)
    assert dev.expires_at == created + timedelta(hours=24)
    assert dev.lifetime_text(created + timedelta(hours=1, minutes=30)) == (
        "Developer tier: ends in 22 h 30 min (24-hour lifetime)"
    )
    assert dev.lifetime_text(created + timedelta(hours=25)) == "Developer tier: expired"
    assert dev.time_left(created + timedelta(minutes=1)) == "23 h 59 min left"
    standard = Deployment("s", "m", "Standard", 1, "Succeeded", created)
    assert standard.expires_at is None and standard.lifetime_text(created) == ""


async def test_two_accounts_do_not_see_each_others_deployments(emu: Emulator) -> None:
    one = ArmDeployments(emu.root_url, "sub-1", "rg-1", "acct-one", token)
    other = ArmDeployments(emu.root_url, "sub-1", "rg-1", "acct-two", token)
    elsewhere = ArmDeployments(emu.root_url, "sub-2", "rg-1", "acct-one", token)
    async with one, other, elsewhere:
        await one.create("gpt-4.1-mini-2025-04-14", "shared-name", "Standard", 1)
        await other.create("gpt-4.1-nano-2025-04-14", "shared-name", "Standard", 1)
        await other.create("gpt-4.1-nano-2025-04-14", "only-two", "Standard", 1)
        assert [d.name for d in await one.list()] == ["shared-name"]
        assert sorted(d.name for d in await other.list()) == ["only-two", "shared-name"]
        assert await elsewhere.list() == []  # same account name, another subscription
        assert await one.get("only-two") is None
        mine = await one.get("shared-name")
        assert mine is not None and mine.model == "gpt-4.1-mini-2025-04-14"
        assert await one.delete("only-two") is False  # not this account's: ARM's 204
        assert await one.delete("shared-name") is True
        theirs = await other.get("shared-name")
        assert theirs is not None and theirs.model == "gpt-4.1-nano-2025-04-14"


async def test_capacity_beyond_the_quota_is_azures_insufficient_quota_in_one_line(
    emu: Emulator,
) -> None:
    async with ArmDeployments(emu.root_url, "sub-1", "rg-1", "acct", token) as arm:
        await arm.create("gpt-4.1-mini-2025-04-14", "small", "Standard", 60)
        with pytest.raises(AzureManagementError) as caught:
            await arm.create("gpt-4.1-mini-2025-04-14", "big", "Standard", 50)
    line = describe(caught.value)
    assert line.startswith(
        "deploy gpt-4.1-mini-2025-04-14 as big: not enough quota (400 InsufficientQuota): "
        "This operation require 50 new capacity in quota Tokens Per Minute (thousands)"
    )
    assert line.endswith("; lower --capacity or request more quota") and "\n" not in line
