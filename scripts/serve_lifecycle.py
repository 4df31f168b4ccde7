"""The lifecycle `scripts/gpu_check.sh` drives against a running `tunebench serve`, through the
official openai SDK over HTTP: upload → a 2-epoch LoRA job → succeeded with a falling loss →
its epoch checkpoints listed as models → a streaming chat with the tuned model → pause and
resume of a second job → cancel of a third.

Every step is checked; the first one that is not as it should be ends the run with exit 1 and
one line saying what was wrong. Figures are printed as measured: training tokens/s (end to end,
and the training loop's own, as serve measured it), chat tokens/s, and the peak resident memory
(RSS) of serve and its trainer processes, sampled from /proc (Linux).

Usage: python scripts/serve_lifecycle.py BASE_URL MODEL TRAIN_JSONL SERVE_PID
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import openai
from openai.types.fine_tuning import FineTuningJob

POLL_SECONDS = 0.5
JOB_SECONDS = 3600.0  # the longest any wait on a job may take
CANCEL_SECONDS = 10.0  # what the issue promises for a cancel
FINISHED = ("succeeded", "failed", "cancelled")
SYSTEM = "Popraw gramatykę zdania."
PAGE = os.sysconf("SC_PAGE_SIZE")


class CheckFailed(Exception):
    """A step of the lifecycle is not as it should be (exit 1)."""


def check(condition: bool, what: str) -> None:
    if not condition:
        raise CheckFailed(what)


# -- memory of the serve process tree ------------------------------------------------------------


def _children() -> dict[int, list[int]]:
    """Parent pid → child pids, from /proc."""
    tree: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue  # it ended meanwhile
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        tree.setdefault(parent, []).append(int(entry))
    return tree


def descendants(pid: int) -> list[int]:
    """`pid`'s children, their children, and so on (not `pid` itself)."""
    tree, out, todo = _children(), [], [pid]
    while todo:
        for child in tree.get(todo.pop(), []):
            out.append(child)
            todo.append(child)
    return out


def _rss(pid: int) -> int:
    try:
        return int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * PAGE
    except (OSError, IndexError, ValueError):
        return 0


class PeakRss(threading.Thread):
    """Samples the RSS of serve and all its descendants (the trainer, accelerate) together."""

    INTERVAL = 0.2

    def __init__(self, pid: int) -> None:
        super().__init__(name="peak-rss", daemon=True)
        self.pid = pid
        self.peak = 0  # bytes, serve and its descendants together
        self.largest = 0  # bytes, the largest single process
        self.stopped = threading.Event()

    def run(self) -> None:
        while not self.stopped.wait(self.INTERVAL):
            sizes = [_rss(p) for p in (self.pid, *descendants(self.pid))]
            self.peak = max(self.peak, sum(sizes))
            self.largest = max(self.largest, *sizes)


# -- the lifecycle -------------------------------------------------------------------------------


class Lifecycle:
    def __init__(self, client: openai.OpenAI, model: str, train: Path, serve_pid: int) -> None:
        self.client = client
        self.model = model
        self.train_path = train
        self.lines = [line for line in train.read_text().splitlines() if line.strip()]
        self.serve_pid = serve_pid

    def follow(
        self, job_id: str, until: Callable[[FineTuningJob], bool], what: str
    ) -> FineTuningJob:
        """Poll the job until `until` holds; a job that ends otherwise, or takes longer than
        JOB_SECONDS, fails the check with its status and error."""
        deadline = time.monotonic() + JOB_SECONDS
        while True:
            job = self.client.fine_tuning.jobs.retrieve(job_id)
            if until(job):
                return job
            check(
                job.status not in FINISHED,
                f"job {job_id} ended {job.status} while waiting until {what}: {job.error}",
            )
            check(time.monotonic() < deadline, f"job {job_id} never {what} ({job.status})")
            time.sleep(POLL_SECONDS)

    def metrics(self, job_id: str) -> list[dict[str, Any]]:
        events = self.client.fine_tuning.jobs.list_events(job_id, limit=10_000).data
        return [dict(e.data) for e in reversed(events) if e.type == "metrics"]  # type: ignore[call-overload]

    def create(self, file_id: str, epochs: int, batch_size: int, **extra: Any) -> FineTuningJob:
        return self.client.fine_tuning.jobs.create(
            model=self.model,
            training_file=file_id,
            seed=42,
            hyperparameters={"n_epochs": epochs, "batch_size": batch_size},
            **extra,
        )

    def train(self, file_id: str) -> FineTuningJob:
        """Job 1: two epochs to `succeeded`, every step reported, the loss falling."""
        started = time.monotonic()
        job = self.create(file_id, 2, 4, suffix="gpu-check")
        job = self.follow(job.id, lambda j: j.status in FINISHED, "finished")
        wall = time.monotonic() - started
        check(job.status == "succeeded", f"job {job.id} {job.status}: {job.error}")
        steps = self.metrics(job.id)
        total = steps[-1]["total_steps"] if steps else 0
        check(
            [s["step"] for s in steps] == list(range(1, total + 1)) and total % 2 == 0,
            f"job {job.id}: metrics for steps {[s['step'] for s in steps]}, of {total}",
        )
        first = [s["train_loss"] for s in steps[: total // 2]]
        second = [s["train_loss"] for s in steps[total // 2 :]]
        mean_first, mean_second = sum(first) / len(first), sum(second) / len(second)
        print(
            f"job 1 {job.id}: succeeded, {total} steps; train_loss {first[0]} -> {second[-1]}, "
            f"mean of epoch 1 {mean_first:.3f} -> epoch 2 {mean_second:.3f}"
        )
        check(mean_second < mean_first, "the training loss did not fall from epoch 1 to 2")
        trained = int(job.trained_tokens or 0)
        check(trained > 0, f"job {job.id} reports no trained tokens")
        counted = self.client.post(  # serve's own count, now with the speed job 1 measured
            "/tunebench/preflight",
            body={"model": self.model, "lines": self.lines, "n_epochs": 2},
            cast_to=object,
        )
        speed = counted.get("tokens_per_second") if isinstance(counted, dict) else None
        check(isinstance(speed, float | int) and speed > 0, "serve measured no training speed")
        assert isinstance(speed, float | int)
        print(
            f"training: {trained:,} tokens; {wall:.1f} s from create to succeeded = "
            f"{trained / wall:,.0f} tokens/s end to end (start-up included); the training "
            f"loop alone {speed:,.0f} tokens/s ({trained / speed:.1f} s)"
        )
        self._checkpoints(job, total)
        return job

    def _checkpoints(self, job: FineTuningJob, total: int) -> None:
        checkpoints = self.client.fine_tuning.jobs.checkpoints.list(job.id).data
        names = [c.fine_tuned_model_checkpoint for c in checkpoints]
        check(
            [c.step_number for c in checkpoints] == [total, total // 2],
            f"checkpoints at steps {[c.step_number for c in checkpoints]}, not at each epoch end",
        )
        listed = {m.id for m in self.client.models.list()}
        check(
            {job.fine_tuned_model, *names} <= listed,
            "the tuned model and its checkpoints are not all in /v1/models",
        )
        print("checkpoints:", ", ".join(names))

    def chat(self, model: str) -> None:
        """A streamed reply from the tuned model, with its usage."""
        started = time.monotonic()
        first: float | None = None
        pieces: list[str] = []
        usage, reason = None, None
        stream = self.client.chat.completions.create(
            model=model,
            messages=[
                {"role": "system", "content": SYSTEM},
                {"role": "user", "content": "Kot, spać, kanapa"},
            ],
            max_tokens=64,
            temperature=0,
            stream=True,
            stream_options={"include_usage": True},
        )
        for chunk in stream:
            usage = chunk.usage or usage
            for choice in chunk.choices:
                if choice.delta.content and first is None:
                    first = time.monotonic() - started
                pieces.append(choice.delta.content or "")
                reason = choice.finish_reason or reason
        seconds = time.monotonic() - started
        check(reason in ("stop", "length"), f"the stream ended without a finish reason ({reason})")
        check(usage is not None and usage.completion_tokens > 0, "the stream reported no usage")
        assert usage is not None
        print(f"chat with {model}: {''.join(pieces)!r} ({reason})")
        to_first = f"first text after {first:.1f} s, " if first is not None else ""
        print(
            f"chat: {usage.completion_tokens} tokens in {seconds:.1f} s, {to_first}"
            "loading the adapter included"
        )

    def pause_and_resume(self, file_id: str) -> None:
        """Job 2: paused as soon as its trainer starts (so it pauses at its first step whatever
        the speed: a tiny model can finish a whole job between two polls), then resumed from
        that checkpoint to `succeeded`, no step trained twice."""
        job = self.create(file_id, 2, 4)
        self.follow(job.id, lambda j: j.status == "running", "was running")
        paused = self.client.fine_tuning.jobs.pause(job.id)
        check(paused.status == "pausing", f"pause answered {paused.status}")
        self.follow(job.id, lambda j: j.status == "paused", "paused")
        steps = self.metrics(job.id)
        check(bool(steps), f"job {job.id} paused before its first step")
        paused_at, total = steps[-1]["step"], steps[-1]["total_steps"]
        check(paused_at < total, f"job {job.id} paused at its last step ({paused_at})")
        resumed = self.client.fine_tuning.jobs.resume(job.id)
        check(resumed.status == "queued", f"resume answered {resumed.status}")
        job = self.follow(job.id, lambda j: j.status in FINISHED, "finished")
        check(job.status == "succeeded", f"resumed job {job.id} {job.status}: {job.error}")
        done = [s["step"] for s in self.metrics(job.id)]
        check(done == list(range(1, total + 1)), f"resumed job trained steps {done}")
        print(
            f"pause/resume: job 2 {job.id} paused at step {paused_at} of {total}, resumed, "
            "succeeded with each step once"
        )

    def cancel(self, file_id: str) -> None:
        """Job 3: cancelled once it trains; the trainer is gone when the call returns."""
        job = self.create(file_id, 50, 1)
        self.follow(job.id, lambda j: bool(self.metrics(j.id)), "reported a step")
        check(bool(descendants(self.serve_pid)), "no trainer process is running")
        started = time.monotonic()
        cancelled = self.client.fine_tuning.jobs.cancel(job.id)
        seconds = time.monotonic() - started
        check(cancelled.status == "cancelled", f"cancel answered {cancelled.status}")
        check(seconds < CANCEL_SECONDS, f"cancel took {seconds:.1f} s")
        left = descendants(self.serve_pid)
        check(not left, f"trainer processes still running after the cancel: {left}")
        status = self.client.fine_tuning.jobs.retrieve(job.id).status
        check(status == "cancelled", f"job 3 is {status} after the cancel")
        print(f"cancel: job 3 {job.id} cancelled in {seconds:.1f} s, its trainer gone")


def main(argv: list[str]) -> int:
    url, model, train, pid = argv
    client = openai.OpenAI(base_url=url, api_key="local", max_retries=0)
    memory = PeakRss(int(pid))
    memory.start()
    started = time.monotonic()
    life = Lifecycle(client, model, Path(train), int(pid))
    try:
        with life.train_path.open("rb") as upload:
            file_id = client.files.create(file=upload, purpose="fine-tune").id
        job = life.train(file_id)
        assert job.fine_tuned_model is not None
        life.chat(job.fine_tuned_model)
        life.pause_and_resume(file_id)
        life.cancel(file_id)
    except CheckFailed as failed:
        print(f"gpu_check: FAILED: {failed}", file=sys.stderr)
        return 1
    except openai.APIError as exc:
        print(f"gpu_check: FAILED: the API said: {exc}", file=sys.stderr)
        return 1
    finally:
        memory.stopped.set()
        memory.join()
    mib = 1024 * 1024
    print(
        f"peak RSS (serve, accelerate and the trainer together, sampled every "
        f"{PeakRss.INTERVAL} s): {memory.peak / mib:,.0f} MiB; largest single process "
        f"{memory.largest / mib:,.0f} MiB"
    )
    print(f"lifecycle: every check passed in {time.monotonic() - started:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
