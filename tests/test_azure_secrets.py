"""Canary: an Azure key and an ARM token never show up in logs, `config show`, error lines
or --debug output, whatever path they take."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from azure_support import write_azure_config
from emulator_support import FAST

from tui.api.client import Endpoint, arm_deployments
from tui.config import load_config
from tui.emulator import Emulator, EmulatorThread
from tui.errors import describe

CANARY_KEY = "canary-key-7f3a9c2e5b8d1f4a"
CANARY_TOKEN = "canary-arm-token-4b2d8e6f1a3c"


@pytest.fixture
def azure() -> Iterator[EmulatorThread]:
    with EmulatorThread(seed=3, speed=FAST, api_key="the-right-key-000", azure=True) as emu:
        yield emu


def secret_free(text: str) -> bool:
    return CANARY_KEY not in text and CANARY_TOKEN not in text


def test_config_show_errors_and_debug_output_never_hold_the_secrets(
    run_cli, azure: EmulatorThread, isolated_home: Path
) -> None:
    write_azure_config(isolated_home, azure.root_url)
    env = {"AZ_KEY": CANARY_KEY, "ARM_TOKEN": CANARY_TOKEN}
    shown = run_cli("config", "show", **env)
    assert shown.returncode == 0 and "$AZ_KEY set (" in shown.stdout
    refused = run_cli("jobs", "list", **env)  # the emulator wants another key: 401
    assert "the API key was refused (401)" in refused.stderr
    debug = run_cli("--debug", "jobs", "list", **env)
    assert "Traceback" in debug.stderr
    deploy = run_cli("--debug", "deploy", "gpt-4.1-mini-2025-04-14", "--name", "d1", **env)
    listing = run_cli("deployments", "list", **env)
    assert listing.returncode == 0
    for result in (shown, refused, debug, deploy, listing):
        assert secret_free(result.stdout + result.stderr), result


async def test_sdk_aiohttp_and_our_logs_never_hold_the_secrets(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    async with Emulator(seed=0, speed=FAST, env_faults=False, azure=True) as emu:
        for api_version in ("2024-10-21", "v1"):
            loaded_profile = (
                load_config(create=False)
                .config.profiles["openai"]
                .model_copy(
                    update={
                        "kind": "azure",
                        "endpoint": emu.root_url,
                        "api_version": api_version,
                        "api_key": None,
                        "api_key_env": "CANARY_AZ_KEY",
                        "subscription_id": "s",
                        "resource_group": "r",
                        "account": "a",
                        "arm_url": emu.root_url,
                        "arm_token_env": "CANARY_ARM_TOKEN",
                    }
                )
            )
            with pytest.MonkeyPatch.context() as mp:
                mp.setenv("CANARY_AZ_KEY", CANARY_KEY)
                mp.setenv("CANARY_ARM_TOKEN", CANARY_TOKEN)
                endpoint = Endpoint("az", loaded_profile)
                async with endpoint.async_client(max_retries=0) as client:
                    await client.fine_tuning.jobs.list()
                    try:
                        await client.chat.completions.create(
                            model="not-deployed", messages=[{"role": "user", "content": "x"}]
                        )
                    except Exception as exc:
                        assert secret_free(describe(exc))
                async with arm_deployments(endpoint) as arm:
                    await arm.list()
        assert emu.azure is not None and CANARY_KEY in emu.azure.credentials
    logged = "\n".join(r.getMessage() + repr(r.args) for r in caplog.records)
    assert logged  # the SDK did log at debug level
    assert secret_free(logged)
