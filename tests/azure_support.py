"""Helpers shared by the Azure tests: the emulator in --azure mode, an azure profile, a tuned
model trained through the SDK, and deployments made over ARM."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import openai
from emulator_support import jsonl, learnable_pairs, wait_job

from tui.emulator import EmulatorThread
from tui.emulator.arm import Deployment

KEY = "azure-key-0123456789abcdef"
ARM_TOKEN = "arm-token-fedcba9876543210"
ARM = "/subscriptions/sub-1/resourceGroups/rg-1/providers/Microsoft.CognitiveServices/accounts/acct"


def azure_profile(root: str, name: str = "azure", api_version: str = "2024-10-21") -> str:
    """One azure profile (YAML) on the emulator, with key and ARM token from env vars."""
    return (
        f"  {name}:\n"
        "    kind: azure\n"
        f"    endpoint: {root}\n"
        f"    api_version: '{api_version}'\n"
        "    api_key_env: AZ_KEY\n"
        "    subscription_id: sub-1\n"
        "    resource_group: rg-1\n"
        "    account: acct\n"
        f"    arm_url: {root}\n"
        "    arm_token_env: ARM_TOKEN\n"
    )


def write_azure_config(home: Path, root: str, extra_profiles: str = "") -> dict[str, str]:
    """A private config whose default profile `azure` is the emulator; returns run_cli's env."""
    path = home / "config" / "tunebench" / "config.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        "default_profile: azure\nprofiles:\n"
        + azure_profile(root)
        + extra_profiles
        + "ui:\n  poll_interval: 0.02\n",
        encoding="utf-8",
    )
    path.chmod(0o600)
    return {"AZ_KEY": KEY, "ARM_TOKEN": ARM_TOKEN}


def deployments_of(emu: EmulatorThread) -> dict[str, Deployment]:
    """The emulator's deployments in the account the azure profile names (sub-1/rg-1/acct)."""
    assert emu.emulator.azure is not None
    return emu.emulator.azure.arm.account("sub-1", "rg-1", "acct")


def classic_client(emu: EmulatorThread, **kwargs: Any) -> openai.AzureOpenAI:
    options: dict[str, Any] = {"api_key": KEY, "api_version": "2025-04-01-preview"}
    options.update(kwargs)
    return openai.AzureOpenAI(azure_endpoint=emu.root_url, max_retries=0, **options)


def train(client: openai.OpenAI, training_type: str = "standard") -> Any:
    """Upload the learnable pairs, wait for Azure's import, train with Azure's trainingType,
    wait until the job ends."""
    uploaded = client.files.create(
        file=("pairs.jsonl", jsonl(learnable_pairs())), purpose="fine-tune"
    )
    assert uploaded.status == "pending"
    assert import_states(client, uploaded.id) == ["running", "processed"]
    job = client.fine_tuning.jobs.create(
        model="gpt-4.1-mini-2025-04-14",
        training_file=uploaded.id,
        extra_body={"trainingType": training_type},
    )
    assert job.model_extra and job.model_extra["trainingType"] == training_type
    return wait_job(client, job.id)


def import_states(client: openai.OpenAI, file_id: str) -> list[str]:
    """The states a file goes through, polled until its import ends (bounded)."""
    states: list[str] = []
    for _ in range(10):
        states.append(str(client.files.retrieve(file_id).status))
        if states[-1] in ("processed", "error"):
            return states
    raise AssertionError(f"{file_id} never finished importing: {states}")


def tuned_model(emu: EmulatorThread) -> str:
    with classic_client(emu) as client:
        job = train(client)
    assert job.status == "succeeded"
    return str(job.fine_tuned_model)
