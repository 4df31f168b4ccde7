"""Benchmark: training through `tunebench serve` vs calling TRL directly, on CPU.

Run: `python tests/bench/bench_serve.py [--examples N] [--epochs N] [--hidden N] [--layers N]
[--runs N]`. Builds a tiny Llama model at run time (no download), starts one `tunebench serve`
process (`python -m tui serve --device cpu`, as a user would), uploads the training file once,
then trains the same LoRA job 2 x N times, alternating (direct first in odd runs, serve first
in even ones, so a drift in the machine's load favours neither side):
- direct: one Python process loads the model and runs TRL's `SFTTrainer` with the same data
  preparation and trainer arguments serve uses, from process start to its end;
- serve: `jobs.create` over HTTP with the SDK until the job is `succeeded` (polled every
  POLL_SECONDS): validation with the model's tokenizer, `accelerate launch`, the trainer with
  per-step metrics events, epoch checkpoints, the result file.

Each run is timed by wall clock and by the CPU time (user + sys) of its whole process tree:
direct's process (getrusage of the reaped child); serve's server process, and apart from it its
children, the accelerate launcher and the trainer (/proc/PID/stat cutime + cstime: counted when
the server reaps them, which it does before it marks the job succeeded). The bench's own CPU
while it polls is printed too (it is in neither figure). Each run's time is split into the
training loop (TRL's own `train_runtime`: direct prints it; serve measured it for its
tokens/s, read back from `POST /v1/tunebench/preflight`) and the fixed start-up around it
(wall - train_runtime: imports, model load, accelerate launch, the tokenizer pre-flight).
Linux only (/proc). Prints the load average (1 min) before and after each run.

`--threads N` (default 1) sets OMP_NUM_THREADS for both sides (serve's trainer inherits it
through accelerate launch); `--threads auto` leaves torch's and accelerate's choice (one thread
per physical core). On a loaded machine two-thread torch is a lottery for a small model: the
same 25-step loop took 0.9 s in one run and 26 s in the next (2 cores, load 5; every parallel
region waits for a thread the scheduler has put aside), which no number of runs averages out.
One thread each makes the comparison hold under load.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
sys.path.insert(0, str(ROOT))

POLL_SECONDS = 0.25
TICK = os.sysconf("SC_CLK_TCK")
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


@dataclass
class Run:
    wall: float  # seconds: direct from process start to end, serve from create to succeeded
    loop: float  # TRL's train_runtime
    cpu: float  # user + sys of the whole tree
    tokens: int  # trained tokens (all epochs)
    server_cpu: float = 0.0  # serve: of that, the server process's own
    client_cpu: float = 0.0  # serve: the bench's own CPU while it polled (in neither figure)

    @property
    def fixed(self) -> float:
        return self.wall - self.loop


def _pairs(n: int) -> bytes:
    from tests.serve_support import PAIRS, chat_lines

    pairs = [
        (f"{user} ({i})", answer) for i in range(n // len(PAIRS) + 1) for user, answer in PAIRS
    ]
    return chat_lines(pairs[:n])


def _load() -> float:
    return os.getloadavg()[0]


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _self_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _proc_cpu(pid: int) -> tuple[float, float]:
    """(the process's own CPU, its reaped children's) in seconds, from /proc/PID/stat."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    utime, stime, cutime, cstime = (int(v) for v in fields[11:15])
    return (utime + stime) / TICK, (cutime + cstime) / TICK


def direct(spec: dict, work: Path, epochs: int, n: int) -> Run:
    path = work / f"direct-spec-{n}.json"
    path.write_text(json.dumps({**spec, "output_dir": str(work / f"direct-out-{n}")}))
    cpu = _children_cpu()  # the serve process is not reaped before the end: not in this
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
    return Run(
        wall, float(result["train_runtime"]), _children_cpu() - cpu, int(result["tokens"]) * epochs
    )


class Server:
    """One `tunebench serve` process for every serve run."""

    def __init__(self, model: Path, work: Path) -> None:
        import openai

        self.model = model.name
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tui", "serve", "--model", str(model), "--device", "cpu",
             "--port", "0", "--data-dir", str(work / "serve")],
            stdout=subprocess.PIPE,
            stderr=(work / "serve.log").open("wb"),
            text=True,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )  # fmt: skip
        assert self.process.stdout is not None
        url = self.process.stdout.readline().strip()
        if not url:
            raise SystemExit(f"serve did not start: see {work / 'serve.log'}")
        self.client = openai.OpenAI(base_url=url, api_key="bench", max_retries=0)

    def upload(self, path: Path) -> str:
        with path.open("rb") as data:
            return self.client.files.create(file=data, purpose="fine-tune").id

    def run(self, file_id: str, epochs: int, batch_size: int, lines: list[str]) -> Run:
        own, children = _proc_cpu(self.process.pid)
        client_cpu = _self_cpu()
        started = time.monotonic()
        job = self.client.fine_tuning.jobs.create(
            model=self.model,
            training_file=file_id,
            seed=1,
            hyperparameters={"n_epochs": epochs, "batch_size": batch_size},
        )
        while job.status not in ("succeeded", "failed", "cancelled"):
            if time.monotonic() - started > 3600:
                raise SystemExit("the serve job did not finish within an hour")
            time.sleep(POLL_SECONDS)
            job = self.client.fine_tuning.jobs.retrieve(job.id)
        wall = time.monotonic() - started
        client_cpu = _self_cpu() - client_cpu
        own_after, children_after = _proc_cpu(self.process.pid)
        if job.status != "succeeded":
            raise SystemExit(f"serve job {job.status}: {job.error}")
        counted = self.client.post(
            "/tunebench/preflight", body={"model": self.model, "lines": lines[:1]}, cast_to=object
        )
        assert isinstance(counted, dict) and counted["tokens_per_second"]
        tokens = int(job.trained_tokens or 0)
        server_cpu = own_after - own
        return Run(
            wall,
            tokens / float(counted["tokens_per_second"]),
            server_cpu + children_after - children,
            tokens,
            server_cpu=server_cpu,
            client_cpu=client_cpu,
        )

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=60)


def _median(values: list[float]) -> str:
    return f"{statistics.median(values):.1f} ({min(values):.1f}-{max(values):.1f})"


def _ratio(pairs: list[tuple[float, float]]) -> str:
    """Median (range) of serve's excess over direct, in percent of direct, run by run."""
    values = [serve / direct - 1 for direct, serve in pairs]
    return f"{statistics.median(values):+.1%} ({min(values):+.1%} to {max(values):+.1%})"


def _line(name: str, run: Run) -> str:
    tree = (
        f"CPU {run.cpu:.1f} s (server {run.server_cpu:.1f} s + trainer tree "
        f"{run.cpu - run.server_cpu:.1f} s; bench polling {run.client_cpu:.2f} s)"
        if name == "serve"
        else f"CPU {run.cpu:.1f} s"
    )
    return (
        f"  {name:6} wall {run.wall:6.1f} s = loop {run.loop:6.1f} s "
        f"({run.tokens / run.loop:,.0f} tokens/s) + fixed {run.fixed:4.1f} s; {tree}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=200)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=4)
    parser.add_argument("--hidden", type=int, default=128)
    parser.add_argument("--layers", type=int, default=4)
    parser.add_argument("--runs", type=int, default=3, help="direct/serve pairs (default 3)")
    parser.add_argument("--threads", default="1", help="torch threads for both sides, or auto")
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TQDM_DISABLE", "1")
    if args.threads != "auto":
        os.environ["OMP_NUM_THREADS"] = str(int(args.threads))
    from tests.serve_support import build_tiny_model
    from tui.serve.runner import LORA_BASE_RATE

    work = Path(tempfile.mkdtemp(prefix="tunebench-bench-serve-"))
    model = build_tiny_model(work / "tiny-llama", layers=args.layers, hidden=args.hidden)
    data = _pairs(args.examples)
    training = work / "train.jsonl"
    training.write_bytes(data)
    spec = {
        "base_path": str(model),
        "hyperparameters": {"n_epochs": args.epochs, "batch_size": args.batch_size},
        "learning_rate": LORA_BASE_RATE * 2,
        "seed": 1,
        "training_file": str(training),
        "validation_file": None,
        "device": "cpu",
        "max_length": 256,
    }
    print(
        f"tiny Llama: {args.layers} layers, hidden {args.hidden}; {args.examples} examples, "
        f"{args.epochs} epochs, batch {args.batch_size}; cores: {os.cpu_count()}; torch "
        f"threads: {args.threads}; {args.runs} runs each, alternating"
    )
    server = Server(model, work)
    try:
        file_id = server.upload(training)
        lines = data.decode().splitlines()
        directs: list[Run] = []
        serves: list[Run] = []
        for n in range(1, args.runs + 1):
            order = ("direct", "serve") if n % 2 else ("serve", "direct")
            before = _load()
            for side in order:
                if side == "direct":
                    directs.append(direct(spec, work, args.epochs, n))
                else:
                    serves.append(server.run(file_id, args.epochs, args.batch_size, lines))
            print(f"run {n}, {' then '.join(order)}, load {before:.1f} -> {_load():.1f}:")
            print(_line("direct", directs[-1]))
            print(_line("serve", serves[-1]))
            if serves[-1].tokens != directs[-1].tokens:
                print(f"  trained tokens differ: {directs[-1].tokens} vs {serves[-1].tokens}")
    finally:
        server.stop()
    pairs = list(zip(directs, serves, strict=True))
    print(f"medians (ranges) over {args.runs} runs, seconds:")
    for what, pick in (
        ("wall", lambda r: r.wall),
        ("training loop", lambda r: r.loop),
        ("fixed start-up", lambda r: r.fixed),
        ("CPU, whole tree", lambda r: r.cpu),
    ):
        print(
            f"  {what:16} direct {_median([pick(d) for d, _ in pairs])}, "
            f"serve {_median([pick(s) for _, s in pairs])}"
        )
    print(f"  serve's server process CPU {_median([s.server_cpu for s in serves])}")
    print("serve over direct, run by run (median, range):")
    print(f"  wall           {_ratio([(d.wall, s.wall) for d, s in pairs])}")
    print(f"  training loop  {_ratio([(d.loop, s.loop) for d, s in pairs])}  (per-token cost)")
    print(f"  CPU            {_ratio([(d.cpu, s.cpu) for d, s in pairs])}")
    extra = [s.fixed - d.fixed for d, s in pairs]
    spread = f"({min(extra):+.1f} to {max(extra):+.1f})"
    print(f"  fixed start-up {statistics.median(extra):+.1f} s {spread}")


if __name__ == "__main__":
    main()
