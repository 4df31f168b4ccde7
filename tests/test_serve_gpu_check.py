"""`scripts/gpu_check.sh`: its CPU rehearsal runs the GPU check's whole lifecycle and checks
(a real `serve` process, real trainers, the openai SDK over HTTP) against the tiny model; on a
machine without a GPU its GPU mode refuses in one line (exit 2) instead of failing half-way."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT

SCRIPT = REPO_ROOT / "scripts" / "gpu_check.sh"


def gpu_check(*args: str, tmp_path: Path, timeout: float) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "PYTHON": sys.executable,
        "PYTHONPATH": str(REPO_ROOT),
        "TMPDIR": str(tmp_path),  # its work dir (serve's data, the trainers' outputs) goes here
    }
    return subprocess.run(
        ["bash", str(SCRIPT), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        cwd=tmp_path,
    )


def test_the_cpu_rehearsal_passes_every_step_of_the_gpu_check(tiny: Path, tmp_path: Path) -> None:
    result = gpu_check("--cpu-rehearsal", str(tiny), tmp_path=tmp_path, timeout=900)
    out = result.stdout
    assert result.returncode == 0, out + result.stderr
    # 69 demo pairs, batch 4, 2 epochs: 36 steps, a checkpoint at each epoch's end.
    assert re.search(r"job 1 ftjob-\w+: succeeded, 36 steps; train_loss .* -> epoch 2 ", out)
    assert re.search(r"the training loop alone [\d,]+ tokens/s", out)
    assert re.search(r"checkpoints: ft:tiny-llama:local:gpu-check:\w+:ckpt-step-36, ", out)
    assert re.search(r"chat: \d+ tokens in [\d.]+ s", out)
    assert re.search(r"job 2 ftjob-\w+ paused at step \d+ of 36, resumed, succeeded", out)
    assert re.search(r"job 3 ftjob-\w+ cancelled in \d+\.\d s, its trainer gone", out)
    assert re.search(r"peak RSS \(serve, accelerate and the trainer together.*\): [\d,]+ MiB", out)
    assert "gpu_check (cpu): passed in " in out
    assert "GPU memory" not in out


def test_without_a_gpu_the_gpu_check_refuses_in_one_line(tmp_path: Path) -> None:
    if shutil.which("nvidia-smi"):
        pytest.skip("a GPU machine: the GPU check would really run")
    result = gpu_check(tmp_path=tmp_path, timeout=120)
    assert result.returncode == 2
    assert result.stderr == "gpu_check: nvidia-smi not found: no CUDA GPU here\n"
    missing = gpu_check("--cpu-rehearsal", str(tmp_path / "nope"), tmp_path=tmp_path, timeout=60)
    assert missing.returncode == 2
    assert missing.stderr == f"gpu_check: --cpu-rehearsal {tmp_path / 'nope'}: no such directory\n"
