"""`tunebench emulator` as a user runs it, and the bundled demo dataset."""

from __future__ import annotations

import os
import selectors
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx2
from emulator_support import wait_job

from tui.emulator import demo_dataset_path
from tui.emulator.faults import FAULT_KINDS

REPO_ROOT = Path(__file__).resolve().parent.parent


def _first_line(proc: subprocess.Popen[str], timeout: float = 10.0) -> str:
    assert proc.stdout is not None
    with selectors.DefaultSelector() as selector:
        selector.register(proc.stdout, selectors.EVENT_READ)
        assert selector.select(timeout), "the emulator printed no URL"
    return proc.stdout.readline().strip()


def _start(tmp_path: Path, *args: str) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    return subprocess.Popen(
        [sys.executable, "-m", "tui", "emulator", "--port", "0", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=tmp_path,
        env=env,
    )


def _stop(proc: subprocess.Popen[str]) -> str:
    """SIGTERM, exit 0, and what it wrote on stderr."""
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=10) == 0
    assert proc.stderr is not None
    return proc.stderr.read()


def test_standalone_serves_and_stops_on_sigterm(tmp_path: Path) -> None:
    proc = _start(tmp_path, "--speed", "100", "--fault", "500:1")
    try:
        url = _first_line(proc)
        assert url.startswith("http://127.0.0.1:") and url.endswith("/v1")
        headers = {"Authorization": "Bearer demo"}
        assert httpx2.get(f"{url}/models", headers=headers).status_code == 500  # --fault
        response = httpx2.get(f"{url}/models", headers=headers)
        assert response.status_code == 200 and response.json()["data"]
        stderr = _stop(proc)
        assert "Traceback" not in stderr and "any API key works" in stderr
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_api_key_is_enforced_and_announced_truthfully(tmp_path: Path) -> None:
    proc = _start(tmp_path, "--api-key", "sk-only-this-one")
    try:
        url = _first_line(proc)
        wrong = httpx2.get(f"{url}/models", headers={"Authorization": "Bearer sk-other"})
        assert wrong.status_code == 401
        right = httpx2.get(f"{url}/models", headers={"Authorization": "Bearer sk-only-this-one"})
        assert right.status_code == 200
        stderr = _stop(proc)
        assert "any API key works" not in stderr
        assert "only the --api-key key works" in stderr and "sk-only" not in stderr
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_non_loopback_host_is_refused(run_cli) -> None:
    result = run_cli("emulator", "--host", "0.0.0.0")
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "--allow-remote" in lines[0]


def test_bad_fault_and_speed_are_usage_errors(run_cli) -> None:
    assert run_cli("emulator", "--fault", "boom").returncode == 2
    assert run_cli("emulator", "--speed", "0").returncode == 2


def test_help_documents_faults(run_cli) -> None:
    result = run_cli("emulator", "--help")
    assert result.returncode == 0
    for syntax, _meaning in FAULT_KINDS.values():
        assert f"\n  {syntax} " in result.stdout  # each kind the parser knows, one a line
    for word in (
        "--fault",
        "drop[:N]",
        "lost-reply[:N]",
        "deny-create[:N]",
        "TUNEBENCH_EMULATOR_FAULTS",
        "--allow-remote",
        "--speed",
        "--seed",
    ):
        assert word in result.stdout


def test_a_port_out_of_range_is_a_usage_error_in_one_line(run_cli) -> None:
    for port, why in (("99999", "must be 0 to 65535"), ("-1", "must be 0 to 65535")):
        result = run_cli("emulator", "--port", port)
        assert result.returncode == 2
        assert result.stderr.strip().splitlines() == [
            f"tunebench emulator: argument --port: {why}: '{port}'"
        ]


def test_port_in_use_is_a_usage_error(run_cli) -> None:
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        started = time.monotonic()
        result = run_cli("emulator", "--port", str(port))
    assert result.returncode == 2 and "cannot listen" in result.stderr
    assert time.monotonic() - started < 30


def test_demo_dataset_has_50_distinct_pairs() -> None:
    path = demo_dataset_path()
    lines = path.read_text(encoding="utf-8").splitlines()
    assert lines[0] == "# system: Popraw gramatykę zdania."
    pairs = [line for line in lines[1:] if line.strip()]
    assert len(pairs) >= 50
    assert all(line.count(";") == 1 and "; " in line for line in pairs)
    inputs = [line.split("; ")[0].casefold() for line in pairs]
    outputs = [line.split("; ")[1] for line in pairs]
    assert len(set(inputs)) == len(inputs) and len(set(outputs)) == len(outputs)
    assert all(o[0].isupper() and o[-1] in ".!?" for o in outputs)
    assert "Mama, ja, chcieć, ciastko; Mamo, chcę dostać ciastko." in pairs


def test_demo_dataset_is_clean_for_the_project_validator() -> None:
    from tui.core.validate import validate_bytes

    path = demo_dataset_path()
    report = validate_bytes(path.read_bytes(), "gpt-4o-mini", filename=path.name)
    assert report.format == "pairs" and report.n_examples >= 50
    assert report.problems == []


def test_demo_model_learns_the_pairs() -> None:
    import json

    import openai

    from tui.emulator import EmulatorThread

    system = "Popraw gramatykę zdania."
    pairs = [
        line.split("; ")
        for line in demo_dataset_path().read_text(encoding="utf-8").splitlines()[1:]
    ]
    data = "\n".join(
        json.dumps(
            {
                "messages": [
                    {"role": "system", "content": system},
                    {"role": "user", "content": words},
                    {"role": "assistant", "content": sentence},
                ]
            },
            ensure_ascii=False,
        )
        for words, sentence in pairs
    ).encode()
    with (
        EmulatorThread(seed=0, speed=1000.0, env_faults=False) as emu,
        openai.OpenAI(base_url=emu.base_url, api_key="demo") as c,
    ):
        file_id = c.files.create(file=("demo.jsonl", data), purpose="fine-tune").id
        job = c.fine_tuning.jobs.create(
            model="gpt-4o-mini", training_file=file_id, hyperparameters={"n_epochs": 1}
        )
        job = wait_job(c, job.id)
        assert job.status == "succeeded"
        assert job.fine_tuned_model
        reply = c.chat.completions.create(
            model=job.fine_tuned_model,
            messages=[
                {"role": "system", "content": system},
                {"role": "user", "content": "Kot, spać, kanapa"},
            ],
        )
        assert reply.choices[0].message.content == "Kot śpi na kanapie."


def test_emulator_never_imports_textual_and_demo_path_is_light() -> None:
    code = (
        "import sys, tui.emulator.demo; assert 'aiohttp' not in sys.modules;"
        "import tui.emulator.server, tui.commands.emulator; assert 'textual' not in sys.modules"
    )
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    subprocess.run([sys.executable, "-c", code], check=True, env=env, timeout=60)


def test_readme_names_every_fault_kind() -> None:
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    row = next(line for line in readme.splitlines() if line.startswith("| `tunebench emulator"))
    assert all(kind in row for kind in FAULT_KINDS), row
