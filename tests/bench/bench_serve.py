"""Benchmark: training through `tunebench serve` vs calling TRL directly, on CPU.

Run: `python tests/bench/bench_serve.py [--examples N] [--epochs N] [--hidden N]`.
Builds a tiny Llama model at run time (no download), then trains the same LoRA job twice:
- direct: one Python process loads the model and runs TRL's `SFTTrainer` (the same data
  preparation and trainer arguments `serve` uses), timed from process start to its end;
- serve: upload + `jobs.create` over HTTP with the SDK to a running `serve`, timed from create
  to `succeeded` (validation with the model's tokenizer, `accelerate launch`, per-step metrics
  events, epoch checkpoints, result file).
Prints training tokens/s for both and the server's overhead (goal < 5% on jobs long enough
for start-up to be amortised; the fixed part is reported in seconds too).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
sys.path.insert(0, str(ROOT))

DIRECT = """
import json, sys, time
from pathlib import Path
from peft import LoraConfig
from transformers import AutoModelForCausalLM, AutoTokenizer
from trl import SFTConfig, SFTTrainer
from datasets import Dataset
from tui.serve.data import tokenize_file
from tui.serve.train import _common_args
spec = json.loads(Path(sys.argv[1]).read_text())
tokenizer = AutoTokenizer.from_pretrained(spec["base_path"])
model = AutoModelForCausalLM.from_pretrained(spec["base_path"])
rows = tokenize_file(tokenizer, Path(spec["training_file"]).read_bytes(), spec["max_length"]).rows
lora = LoraConfig(r=16, lora_alpha=32, target_modules="all-linear", task_type="CAUSAL_LM")
trainer = SFTTrainer(model=model, args=SFTConfig(**_common_args(spec, len(rows))),
                     train_dataset=Dataset.from_list(rows), processing_class=tokenizer,
                     peft_config=lora)
result = trainer.train()
print(json.dumps({"train_runtime": result.metrics["train_runtime"],
                  "tokens": sum(len(r["input_ids"]) for r in rows)}))
"""


def _pairs(n: int) -> bytes:
    from tests.serve_support import PAIRS, chat_lines

    pairs = [
        (f"{user} ({i})", answer) for i in range(n // len(PAIRS) + 1) for user, answer in PAIRS
    ]
    return chat_lines(pairs[:n])


def _direct(spec: dict, work: Path) -> tuple[float, float, int]:
    """(wall seconds, TRL train_runtime, tokens per epoch)."""
    path = work / "direct-spec.json"
    path.write_text(json.dumps(spec))
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-c", DIRECT, str(path)],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "TQDM_DISABLE": "1", "PYTHONPATH": str(ROOT)},
    )
    wall = time.monotonic() - started
    result = json.loads(done.stdout.strip().splitlines()[-1])
    return wall, float(result["train_runtime"]), int(result["tokens"])


def _serve(model: Path, data: bytes, args: argparse.Namespace, work: Path) -> tuple[float, int]:
    """(seconds from create to succeeded, trained tokens)."""
    import openai

    from tui.serve.server import ServeThread

    with ServeThread(models=[str(model)], data_dir=work / "serve", device="cpu") as server:
        client = openai.OpenAI(base_url=server.base_url, api_key="bench", max_retries=0)
        path = work / "train.jsonl"
        path.write_bytes(data)
        file_id = client.files.create(file=path.open("rb"), purpose="fine-tune").id
        started = time.monotonic()
        job = client.fine_tuning.jobs.create(
            model=model.name,
            training_file=file_id,
            seed=1,
            hyperparameters={"n_epochs": args.epochs, "batch_size": args.batch_size},
        )
        while job.status not in ("succeeded", "failed", "cancelled"):
            if time.monotonic() - started > 3600:
                raise SystemExit("the serve job did not finish within an hour")
            time.sleep(0.1)
            job = client.fine_tuning.jobs.retrieve(job.id)
        wall = time.monotonic() - started
        if job.status != "succeeded":
            raise SystemExit(f"serve job {job.status}: {job.error}")
        return wall, int(job.trained_tokens or 0)


def _load() -> str:
    """The machine's load while a phase ran (a shared machine skews the comparison)."""
    one, five, _ = os.getloadavg()
    return f"load average {one:.1f} (1 min), {five:.1f} (5 min)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=200)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=4)
    parser.add_argument("--hidden", type=int, default=128)
    parser.add_argument("--layers", type=int, default=4)
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from tests.serve_support import build_tiny_model

    work = Path(tempfile.mkdtemp(prefix="tunebench-bench-serve-"))
    model = build_tiny_model(work / "tiny-llama", layers=args.layers, hidden=args.hidden)
    data = _pairs(args.examples)
    (work / "train.jsonl").write_bytes(data)
    from tui.serve.runner import LORA_BASE_RATE

    spec = {
        "base_path": str(model),
        "output_dir": str(work / "direct-out"),
        "hyperparameters": {"n_epochs": args.epochs, "batch_size": args.batch_size},
        "learning_rate": LORA_BASE_RATE * 2,
        "seed": 1,
        "training_file": str(work / "train.jsonl"),
        "validation_file": None,
        "device": "cpu",
        "max_length": 256,
    }
    print(
        f"tiny Llama: {args.layers} layers, hidden {args.hidden}; {args.examples} examples, "
        f"{args.epochs} epochs, batch {args.batch_size}; cores: {os.cpu_count()}, "
        f"load average {os.getloadavg()[0]:.1f}"
    )
    direct_wall, runtime, tokens = _direct(spec, work)
    trained = tokens * args.epochs
    print(
        f"direct TRL:  {direct_wall:6.1f} s wall (process start to end), train loop "
        f"{runtime:.1f} s = {trained / runtime:,.0f} tokens/s; {_load()}"
    )
    serve_wall, serve_tokens = _serve(model, data, args, work)
    print(
        f"serve job:   {serve_wall:6.1f} s from create to succeeded = "
        f"{serve_tokens / serve_wall:,.0f} trained tokens/s end to end; {_load()}"
    )
    extra = serve_wall - direct_wall
    print(f"overhead:    {extra:+.1f} s = {extra / direct_wall:+.1%} of the direct run's wall time")


if __name__ == "__main__":
    main()
