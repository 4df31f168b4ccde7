"""Azure end to end from the command line, in subprocesses against `emulator --azure`:
jobs create --training-type → deploy → chat by deployment name → deployments list/delete,
and the one-line errors (missing api-version, wrong key, unknown model, undeployed model)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from azure_support import (
    ARM_TOKEN,
    KEY,
    azure_profile,
    classic_client,
    deployments_of,
    train,
    write_azure_config,
)
from emulator_support import FAST

from tui.api.arm import default_name
from tui.emulator import EmulatorThread, demo_dataset_path


@pytest.fixture
def azure() -> Iterator[EmulatorThread]:
    with EmulatorThread(seed=2, speed=FAST, api_key=KEY, env_faults=False, azure=True) as emu:
        yield emu


@pytest.fixture
def env(azure: EmulatorThread, isolated_home: Path) -> dict[str, str]:
    extra = azure_profile(azure.root_url, "azv1", "v1") + (
        f"  bare: {{kind: openai, base_url: '{azure.root_url}/openai', api_key_env: AZ_KEY}}\n"
    )
    return write_azure_config(isolated_home, azure.root_url, extra)


def one_line(text: str) -> str:
    lines = text.strip().splitlines()
    assert len(lines) == 1, text
    assert "Traceback" not in text
    return lines[0]


def test_train_deploy_chat_list_delete(run_cli, azure: EmulatorThread, env: dict[str, str]) -> None:
    demo = str(demo_dataset_path())
    created = run_cli(
        "jobs", "create", demo, "--model", "gpt-4.1-mini-2025-04-14",
        "--training-type", "globalstandard", **env,
    )  # fmt: skip
    assert created.returncode == 0, created
    job_id = created.stdout.strip()
    job_data = azure.emulator.store.jobs[job_id].data
    for state in ("pending", "running", "processed"):  # imported before the job was made
        assert f"{job_data['training_file']} is {state}" in created.stderr, created.stderr
    assert azure.emulator.store.jobs[job_id].data["trainingType"] == "globalstandard"
    watched = run_cli("jobs", "watch", job_id, **env)
    assert watched.returncode == 0, watched
    model = azure.emulator.store.jobs[job_id].data["fine_tuned_model"]
    assert re.fullmatch(r"gpt-4\.1-mini-2025-04-14\.ft-[0-9a-f]{32}", model)  # Azure's naming
    assert f"succeeded: {model}" in watched.stderr

    undeployed = run_cli("chat", "--model", model, "Ja, mieć, kot", **env)
    assert undeployed.returncode != 0
    assert "deploy it first" in one_line(undeployed.stderr)

    deployed = run_cli("deploy", model, "--name", "grammar-dev", "--sku", "developer", **env)
    assert deployed.returncode == 0, deployed
    assert deployed.stdout.strip() == "grammar-dev"
    assert "grammar-dev: Creating" in deployed.stderr or "grammar-dev: Succeeded" in deployed.stderr
    assert "deployment grammar-dev is ready" in deployed.stderr
    assert "Developer tier: ends in 23 h" in deployed.stderr
    assert azure.emulator.azure is not None
    assert azure.emulator.azure.arm.tokens[-1] == ARM_TOKEN

    for profile in ("azure", "azv1"):
        chat = run_cli(
            "chat", "--profile", profile, "--model", "grammar-dev", "Ja, mieć, kot", **env
        )
        assert chat.returncode == 0, chat
        assert chat.stdout.strip(), chat  # the tuned model's answer streamed to stdout
        assert "first token" in chat.stderr

    listed = run_cli("deployments", "list", **env)
    assert listed.returncode == 0, listed
    row = one_line(listed.stdout)
    assert row.split()[:3] == ["grammar-dev", "Succeeded", "DeveloperTier"]
    assert model in row and "24-hour lifetime" in row

    deleted = run_cli("deployments", "delete", "grammar-dev", **env)
    assert deleted.returncode == 0, deleted
    assert one_line(deleted.stderr) == "deleted deployment grammar-dev"
    after = run_cli("deployments", "list", **env)
    assert after.stdout == "" and one_line(after.stderr) == "no deployments"
    again = run_cli("deployments", "delete", "grammar-dev", **env)
    assert again.returncode == 1 and one_line(again.stderr) == "no deployment named grammar-dev"


def test_deploy_refusals_are_one_line_before_any_request(
    run_cli, azure: EmulatorThread, env: dict[str, str]
) -> None:
    bad_name = run_cli("deploy", "gpt-4.1-mini-2025-04-14", "--name", "bad name!", **env)
    assert bad_name.returncode == 2
    assert one_line(bad_name.stderr).startswith("--name 'bad name!': a deployment name is")
    unknown = run_cli("deploy", "gpt-4.1-mini-2025-04-14.ft-nope", "--name", "x1", **env)
    assert unknown.returncode == 2
    assert one_line(unknown.stderr).startswith("gpt-4.1-mini-2025-04-14.ft-nope: no such model")
    assert azure.emulator.azure is not None and azure.emulator.azure.arm.tokens == []
    unknown_checkpoint = f"gpt-4.1-mini-2025-04-14.ft-{'0' * 32}:ckpt-step-9"
    refused = run_cli("deploy", unknown_checkpoint, "--name", "x1", **env)
    assert refused.returncode == 2
    assert one_line(refused.stderr).startswith(f"{unknown_checkpoint}: no such model")


def test_a_checkpoint_deploys_by_its_azure_name(
    run_cli, azure: EmulatorThread, env: dict[str, str]
) -> None:
    with classic_client(azure) as client:
        job = train(client)
        [*_, oldest] = client.fine_tuning.jobs.checkpoints.list(job.id).data
    checkpoint = oldest.fine_tuned_model_checkpoint
    assert checkpoint == f"{job.fine_tuned_model}:ckpt-step-{oldest.step_number}"
    name = default_name(checkpoint)  # what the deploy dialog proposes
    hex8 = checkpoint.split(".ft-")[1][:8]
    assert name == f"gpt-4.1-mini-ft-{hex8}-step-{oldest.step_number}"
    deployed = run_cli("deploy", checkpoint, "--name", name, **env)
    assert deployed.returncode == 0, deployed
    assert deployed.stdout.strip() == name
    [(_name, deployment)] = deployments_of(azure).items()
    assert deployment.model["name"] == checkpoint


def test_missing_api_version_and_wrong_key_are_one_line(
    run_cli, azure: EmulatorThread, env: dict[str, str]
) -> None:
    missing = run_cli("jobs", "list", "--profile", "bare", **env)
    assert missing.returncode != 0
    line = one_line(missing.stderr)
    assert line.startswith("Azure answered 404 Resource not found") and "api_version" in line
    wrong = run_cli("jobs", "list", **{**env, "AZ_KEY": "wrong-key-000000000"})
    assert wrong.returncode != 0
    line = one_line(wrong.stderr)
    assert line.startswith("the API key was refused (401) (read from $AZ_KEY, profile azure)")
    assert "wrong-key-000000000" not in line
    no_token = run_cli("deployments", "list", **{**env, "ARM_TOKEN": ""})
    assert no_token.returncode == 2
    assert one_line(no_token.stderr).startswith("no ARM token: profile 'azure' reads $ARM_TOKEN")


def test_training_type_is_refused_for_non_azure_profiles(
    run_cli, azure: EmulatorThread, env: dict[str, str]
) -> None:
    demo = str(demo_dataset_path())
    result = run_cli(
        "jobs", "create", demo, "--profile", "bare", "--training-type", "developer", **env
    )
    assert result.returncode == 2
    assert one_line(result.stderr) == (
        "--training-type: profile 'bare' is kind openai; training types are Azure's"
    )


def test_a_file_azure_cannot_import_is_one_line_and_no_job(
    run_cli, azure: EmulatorThread, env: dict[str, str]
) -> None:
    demo = str(demo_dataset_path())
    azure.inject("import-error", 1)
    refused = run_cli("jobs", "create", demo, "--model", "gpt-4.1-mini-2025-04-14", **env)
    assert refused.returncode == 2, refused
    upload = next(iter(azure.emulator.store.files))  # the training file, refused first
    line = refused.stderr.strip().splitlines()[-1]
    assert line == (
        f"{Path(demo).with_suffix('.jsonl').name}: the service could not import it ({upload}): "
        "The file could not be imported: an internal error occurred (injected by the emulator)."
    )
    assert "Traceback" not in refused.stderr and azure.emulator.store.jobs == {}
    again = run_cli("jobs", "create", demo, "--model", "gpt-4.1-mini-2025-04-14", **env)
    assert again.returncode == 0, again  # the refused upload is not reused: a fresh one
    [job] = azure.emulator.store.jobs.values()
    assert job.data["training_file"] != upload


def test_a_model_azure_does_not_tune_is_one_line(
    run_cli, azure: EmulatorThread, env: dict[str, str]
) -> None:
    demo = str(demo_dataset_path())
    refused = run_cli("jobs", "create", demo, "--model", "gpt-3.5-turbo-0613", **env)
    assert refused.returncode == 1, refused
    line = refused.stderr.strip().splitlines()[-1]
    assert line.startswith("this model cannot be fine-tuned here (400): pick a model and region")
    assert "API said: The specified base model does not support fine-tuning. [request " in line
    assert "Traceback" not in refused.stderr and azure.emulator.store.jobs == {}
