"""`tunebench jobs ...` in a subprocess against the emulator: ids, dedupe, watch exit codes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from emulator_support import write_emulator_config

from tui.emulator import EmulatorThread, demo_dataset_path


@pytest.fixture
def emu(request: pytest.FixtureRequest) -> Iterator[EmulatorThread]:
    speed = getattr(request, "param", 400.0)
    with EmulatorThread(seed=5, speed=speed, api_key="sk-emulator", env_faults=False) as thread:
        yield thread


@pytest.fixture
def profile(emu: EmulatorThread, isolated_home: Path) -> dict[str, str]:
    """A config whose default profile is the emulator; returns the env for run_cli."""
    write_emulator_config(isolated_home, emu.base_url, "EMU_KEY", "ui:\n  poll_interval: 0.02\n")
    return {"EMU_KEY": "sk-emulator"}


def test_create_prints_the_job_id_and_never_uploads_twice(
    run_cli, emu: EmulatorThread, profile: dict[str, str]
) -> None:
    demo = str(demo_dataset_path())
    first = run_cli("jobs", "create", demo, "--model", "gpt-4o-mini", "--seed", "3", **profile)
    assert first.returncode == 0, first
    job_id = first.stdout.strip()
    assert job_id.startswith("ftjob-")
    assert "69 examples" in first.stderr and "estimated cost" in first.stderr
    assert "uploaded file-" in first.stderr
    second = run_cli("jobs", "create", demo, "--model", "gpt-4o-mini", **profile)
    assert second.returncode == 0, second
    assert "reusing file-" in second.stderr
    uploads = [f for f in emu.emulator.store.files.values() if f.meta["purpose"] == "fine-tune"]
    assert len(uploads) == 1
    listing = run_cli("jobs", "list", **profile)
    assert job_id in listing.stdout and second.stdout.strip() in listing.stdout


def test_watch_exits_0_when_the_job_succeeds(run_cli, profile: dict[str, str]) -> None:
    demo = str(demo_dataset_path())
    job_id = run_cli("jobs", "create", demo, "--model", "gpt-4o-mini", **profile).stdout.strip()
    watched = run_cli("jobs", "watch", job_id, **profile)
    assert watched.returncode == 0, watched
    lines = watched.stdout.splitlines()
    assert lines[0].endswith(f"Created fine-tuning job: {job_id}")
    assert lines[-1].endswith("The job has successfully completed")
    assert sum("Step " in line for line in lines) == 207
    assert "succeeded: ft:gpt-4o-mini-2024-07-18" in watched.stderr


def test_watch_exits_1_when_the_job_fails(
    run_cli, emu: EmulatorThread, profile: dict[str, str]
) -> None:
    emu.inject("fail-job", 1)
    demo = str(demo_dataset_path())
    job_id = run_cli("jobs", "create", demo, "--model", "gpt-4o-mini", **profile).stdout.strip()
    watched = run_cli("jobs", "watch", job_id, **profile)
    assert watched.returncode == 1, watched
    assert "failed: server_error: The job failed" in watched.stderr


@pytest.mark.parametrize("emu", [1.0], indirect=True)  # slow enough to cancel mid-run
def test_cancel_then_watch_exits_1(run_cli, emu: EmulatorThread, profile: dict[str, str]) -> None:
    demo = str(demo_dataset_path())
    job_id = run_cli("jobs", "create", demo, "--model", "gpt-4o-mini", **profile).stdout.strip()
    cancelled = run_cli("jobs", "cancel", job_id, **profile)
    assert cancelled.returncode == 0, cancelled
    assert cancelled.stdout.strip() == f"{job_id}: cancelled"
    watched = run_cli("jobs", "watch", job_id, **profile)
    assert watched.returncode == 1
    assert f"job {job_id} was cancelled" in watched.stderr


def test_errors_block_the_launch_before_any_upload(
    run_cli, emu: EmulatorThread, profile: dict[str, str], tmp_path: Path
) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"messages": [{"role": "user", "content": "hi"}]}\n' * 12)
    result = run_cli("jobs", "create", str(bad), "--model", "gpt-4o-mini", **profile)
    assert result.returncode == 1
    assert "nothing was uploaded" in result.stderr
    assert emu.emulator.store.files == {}


def test_403_on_create_explains_the_wind_down(
    run_cli, emu: EmulatorThread, profile: dict[str, str]
) -> None:
    emu.inject("deny-create", 1)
    result = run_cli(
        "jobs", "create", str(demo_dataset_path()), "--model", "gpt-4o-mini", **profile
    )
    assert result.returncode == 1
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("permission denied (403)") and "2027-01-06" in last
    assert "Traceback" not in result.stderr


def test_401_names_the_key_variable(run_cli, profile: dict[str, str]) -> None:
    result = run_cli("jobs", "list", EMU_KEY="sk-not-the-right-key")
    assert result.returncode == 1
    assert "the API key was refused (401) (read from $EMU_KEY, profile emu)" in result.stderr
    assert "sk-not-the-right-key" not in result.stderr


def test_create_takes_the_launch_forms_options(run_cli, emu: EmulatorThread, profile) -> None:
    """Hyperparameters, a held-out validation share and metadata, as the TUI form offers."""
    import openai

    result = run_cli(
        "jobs", "create", str(demo_dataset_path()), "--model", "gpt-4o-mini",
        "--batch-size", "4", "--lr-multiplier", "0.5", "--validation", "20%",
        "--metadata", "team=nlp", "--metadata", "run=7,owner=ada", **profile,
    )  # fmt: skip
    assert result.returncode == 0, result
    client = openai.OpenAI(base_url=emu.base_url, api_key="sk-emulator")
    job = client.fine_tuning.jobs.retrieve(result.stdout.strip())
    assert job.hyperparameters.batch_size == 4
    assert job.hyperparameters.learning_rate_multiplier == 0.5
    assert job.validation_file is not None
    held_out = client.files.content(job.validation_file).text.splitlines()
    assert len(held_out) == 14  # 20% of the 69 demo pairs
    assert job.metadata is not None
    assert {k: job.metadata[k] for k in ("team", "run", "owner")} == {
        "team": "nlp",
        "run": "7",
        "owner": "ada",
    }


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--batch-size", "four"], "--batch-size: expected auto or a number, got 'four'"),
        (["--lr-multiplier", "-1"], "--lr-multiplier: must be greater than 0"),
        (["--validation", "150%"], "validation: hold out between 0% and 100%, not 150%"),
        (["--metadata", "team"], "metadata: expected key=value, got 'team'"),
        (["--beta", "0.1"], "beta is for DPO"),
    ],
)
def test_bad_launch_options_exit_2_before_any_upload(
    run_cli, emu: EmulatorThread, profile, flags: list[str], message: str
) -> None:
    result = run_cli("jobs", "create", str(demo_dataset_path()), *flags, **profile)
    assert result.returncode == 2, result
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1  # one plain line, no traceback
    assert emu.emulator.store.files == {}
