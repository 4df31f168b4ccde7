"""Microsoft Entra ID auth (`auth: entra`) with a credential object injected (no network):
the bearer tokens the emulator receives, for the data plane and for ARM."""

from __future__ import annotations

import openai
import pytest
from azure.core.credentials import AccessToken
from emulator_support import FAST

from tui.api.client import COGNITIVE_SERVICES_SCOPE, MANAGEMENT_SCOPE, Endpoint, arm_deployments
from tui.config_schema import Profile
from tui.emulator import Emulator
from tui.errors import describe


class Credential:
    """A TokenCredential that hands out a token naming its scope, and counts the asks."""

    def __init__(self) -> None:
        self.scopes: list[str] = []

    def get_token(self, *scopes: str, **_: object) -> AccessToken:
        self.scopes.extend(scopes)
        return AccessToken(f"entra-token-for-{scopes[0]}", 4_102_444_800)


def entra_profile(root: str, api_version: str) -> Profile:
    return Profile(
        kind="azure",
        endpoint=root,
        api_version=api_version,
        auth="entra",
        subscription_id="sub-1",
        resource_group="rg-1",
        account="acct",
        arm_url=root,
    )


@pytest.mark.parametrize("api_version", ["2024-10-21", "v1"])
async def test_data_plane_and_arm_get_entra_bearer_tokens(api_version: str) -> None:
    credential = Credential()
    async with Emulator(seed=0, speed=FAST, env_faults=False, azure=True) as emu:
        endpoint = Endpoint("az", entra_profile(emu.root_url, api_version), credential)
        async with endpoint.async_client(max_retries=0) as client:
            await client.fine_tuning.jobs.list()
            reply = await client.chat.completions.create(
                model="gpt-4.1-mini-2025-04-14", messages=[{"role": "user", "content": "Hej"}]
            )
        assert reply.choices[0].message.content
        assert emu.azure is not None
        assert emu.azure.credentials[-2:] == [f"entra-token-for-{COGNITIVE_SERVICES_SCOPE}"] * 2
        async with arm_deployments(endpoint) as arm:
            assert await arm.list() == []
        assert emu.azure.arm.tokens == [f"entra-token-for-{MANAGEMENT_SCOPE}"]
    assert set(credential.scopes) == {COGNITIVE_SERVICES_SCOPE, MANAGEMENT_SCOPE}


async def test_a_refused_entra_token_says_so_in_one_line() -> None:
    async with Emulator(
        seed=0, speed=FAST, env_faults=False, azure=True, api_key="only-this-key-123456"
    ) as emu:
        endpoint = Endpoint("az", entra_profile(emu.root_url, "2024-10-21"), Credential())
        async with endpoint.async_client(max_retries=0) as client:
            with pytest.raises(openai.AuthenticationError) as caught:
                await client.models.list()
    line = describe(caught.value)
    assert line.startswith("the Microsoft Entra ID token was refused (401, profile az)")
    assert "entra-token-for" not in line
