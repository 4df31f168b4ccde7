"""A job's life in `serve`: validate its files (with the model's own tokenizer), queue, train
in an `accelerate launch` subprocess, turn the trainer's reports into events, checkpoints,
the result file and the tuned model.

One job trains at a time (the others wait in `queued`). Cancel stops the trainer's process
group (SIGTERM, then SIGKILL after a grace period); pause asks the trainer, through its
control file, to save a checkpoint and stop; resume starts a new trainer from it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import signal
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tui.emulator.runner import CSV_HEADER, csv_row, resolve_hyperparameters
from tui.emulator.validation import check_file
from tui.serve.bases import BaseModel
from tui.serve.preflight import Count, Counter, estimate_text, estimated_seconds
from tui.serve.store import ORG_SLUG, Store, new_id, now
from tui.serve.train import MARK

STOP_GRACE_SECONDS = 5.0
KEEP_CHECKPOINTS = 3  # per job, as OpenAI keeps the last three epochs' checkpoints
# What only a resume reads from a checkpoint (an epoch checkpoint is never resumed from).
RESUME_STATE = ("optimizer*", "scheduler.pt", "scaler.pt", "rng_state*.pth")
LORA_BASE_RATE = 1e-4  # times learning_rate_multiplier; LoRA wants ~1e-4..1e-3
STDERR_TAIL = 20
# Progress bars off in the trainer: its stderr is the log a failure's cause is read from.
QUIET = {"TQDM_DISABLE": "1", "HF_DATASETS_DISABLE_PROGRESS_BARS": "1"}
ACTIVE = ("validating_files", "queued", "running", "pausing")


@dataclass(frozen=True)
class TrainSettings:
    device: str = "auto"
    accelerate_config: str | None = None
    lora_r: int = 16
    lora_alpha: int = 32
    lora_dropout: float = 0.0


def _step_message(metrics: dict[str, Any], total: int) -> str:
    parts = [f"training loss={metrics['train_loss']:.2f}"] if "train_loss" in metrics else []
    if "valid_loss" in metrics:
        parts.append(f"validation loss={metrics['valid_loss']:.2f}")
    if "full_valid_loss" in metrics:
        parts.append(f"full validation loss={metrics['full_valid_loss']:.2f}")
    return f"Step {metrics['step']}/{total}: " + ", ".join(parts)


class Run:
    """One trainer process of a job (a resumed job gets a new one)."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self.total_steps = 0
        self.last: dict[str, Any] | None = None  # the last report: done / paused / error

    async def stop(self) -> None:
        """SIGTERM to the process group, SIGKILL if it is still there after the grace period."""
        if self.process.returncode is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGTERM)
        try:
            await asyncio.wait_for(self.process.wait(), STOP_GRACE_SECONDS)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            await self.process.wait()


class JobRunner:
    def __init__(self, store: Store, bases: dict[str, BaseModel], settings: TrainSettings) -> None:
        self.store = store
        self.bases = bases
        self.settings = settings
        self.counter = Counter()  # the model's tokenizer, loaded once (the pre-flight route too)
        self.gpu = asyncio.Semaphore(1)
        self.tasks: dict[str, asyncio.Task[None]] = {}
        self.runs: dict[str, Run] = {}
        self.closing = False  # set by shutdown: a trainer stopping then is no job failure

    # -- state ---------------------------------------------------------------------------------

    def update(self, job_id: str, **changes: Any) -> dict[str, Any]:
        data = self.store.job(job_id)
        assert data is not None
        data.update(changes)
        self.store.save_job(data)
        return data

    def status(self, job_id: str) -> str:
        data = self.store.job(job_id)
        return "" if data is None else str(data["status"])

    def fail(self, job_id: str, message: str, code: str = "server_error") -> None:
        self.release_resume_state(job_id)
        self.update(
            job_id,
            status="failed",
            finished_at=now(),
            estimated_finish=None,
            error={"code": code, "message": message, "param": None},
        )
        self.store.add_event(job_id, message, level="error")

    def recover(self) -> None:
        """After a restart: jobs that were active when the server stopped are failed."""
        for data in self.store.jobs():
            if data["status"] in ACTIVE:
                self.fail(
                    data["id"],
                    f"The server stopped while this job was {data['status'].replace('_', ' ')}; "
                    "it was restarted and the job cannot continue. Create the job again.",
                )

    def start(self, job_id: str, *, resume: bool = False) -> None:
        self.tasks[job_id] = asyncio.create_task(self._life(job_id, resume), name=job_id)

    async def shutdown(self) -> None:
        """Stop every trainer and task; their jobs stay as they were (a restart fails them)."""
        self.closing = True
        await asyncio.gather(*(run.stop() for run in self.runs.values()))
        for task in self.tasks.values():
            task.cancel()
        await asyncio.gather(*self.tasks.values(), return_exceptions=True)

    # -- control -------------------------------------------------------------------------------

    async def cancel(self, job_id: str) -> None:
        run = self.runs.get(job_id)
        task = self.tasks.get(job_id)
        if run is not None:
            await run.stop()
        elif task is not None:
            task.cancel()
        self.release_resume_state(job_id)

    def release_resume_state(self, job_id: str) -> None:
        """A job that ended cannot resume: its pause checkpoint's optimizer state goes."""
        path = self.store.job_private(job_id).get("resume_from_checkpoint")
        if path:
            self._release(Path(path))

    def _release(self, checkpoint: Path) -> None:
        """A pause checkpoint no resume needs: the whole folder, or only its resume state
        when it is also a listed checkpoint model."""
        if self.store.has_model_at(checkpoint):
            _drop_resume_state(checkpoint)
        else:
            self.store.remove_output(checkpoint)

    def pause(self, job_id: str) -> None:
        (self.store.job_dir(job_id) / "control").write_text("pause")

    # -- the life of a job ---------------------------------------------------------------------

    async def _life(self, job_id: str, resume: bool) -> None:
        try:
            if not resume:
                settings = await self._validate(job_id)
                if settings is None:
                    return
            await self._queue_and_train(job_id)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # a bug of ours must not leave the job hanging
            if not self.closing:
                self.fail(job_id, f"The job failed: {type(exc).__name__}: {exc}")
        finally:
            self.tasks.pop(job_id, None)
            self.runs.pop(job_id, None)

    async def _validate(self, job_id: str) -> dict[str, Any] | None:
        data = self.store.job(job_id)
        assert data is not None
        files = f"training file: {data['training_file']}"
        if data["validation_file"]:
            files += f" and validation file: {data['validation_file']}"
        self.store.add_event(job_id, f"Validating {files}")
        method = data["method"]["type"]
        base = self.bases[data["model"]]
        count: Count | None = None
        for param in ("training_file", "validation_file"):
            file_id = data[param]
            if file_id is None:
                continue
            path = self.store.file_path(file_id)
            if self.store.file(file_id) is None or not path.exists():
                self.fail(job_id, f"File {file_id} was deleted.", f"invalid_{param}")
                return None
            content = path.read_bytes()
            check = await asyncio.to_thread(
                check_file, content, "gpt-4o-mini-2024-07-18", param=param, method=method
            )
            if check.error is not None:
                self.fail(job_id, check.error.message, check.error.code)
                return None
            if param == "training_file":
                count = await asyncio.to_thread(
                    self.counter.count, base, content, dpo=method == "dpo"
                )
        assert count is not None  # a job always has a training file
        hyper = resolve_hyperparameters(
            data["method"][method]["hyperparameters"], len(count.tokens)
        )
        data["method"][method]["hyperparameters"] = hyper
        data["hyperparameters"] = {k: v for k, v in hyper.items() if k != "beta"}
        self.store.save_job(data)
        self._preflight_event(job_id, base, count, hyper["n_epochs"])
        private = {"max_length": count.max_length, "tokens_per_epoch": sum(count.tokens)}
        self.store.set_job_private(job_id, private)
        self.update(job_id, status="queued")
        self.store.add_event(job_id, "Files validated, moving job to queued state")
        return private

    def _preflight_event(self, job_id: str, base: BaseModel, count: Count, epochs: int) -> None:
        long = count.too_long
        if long:
            shown = ", ".join(str(n) for n in long[:20])
            self.store.add_event(
                job_id,
                f"{len(long)} example(s) exceed the context length of {base.id} "
                f"({count.max_length} tokens) and will be truncated: lines {shown}",
                level="warn",
            )
        tokens = sum(count.tokens)
        speed = self.store.speed(base.id)
        estimate = estimate_text(estimated_seconds(tokens, epochs, speed), speed)
        self.store.add_event(
            job_id,
            f"Pre-flight with the {base.id} tokenizer: {len(count.tokens)} examples, {tokens} "
            f"tokens per epoch, {epochs} epoch(s), longest {max(count.tokens, default=0)} of "
            f"{count.max_length} tokens; {estimate}",
        )

    async def _queue_and_train(self, job_id: str) -> None:
        async with self.gpu:
            if self.status(job_id) not in ("queued", "running"):
                return  # cancelled while queued
            await self._train(job_id)

    def _spec(self, job_id: str) -> dict[str, Any]:
        data = self.store.job(job_id)
        assert data is not None
        private = self.store.job_private(job_id)
        method = data["method"]["type"]
        hyper = data["method"][method]["hyperparameters"]
        folder = self.store.job_dir(job_id)

        def path(file_id: str | None) -> str | None:
            return None if file_id is None else str(self.store.file_path(file_id))

        return {
            "base_path": self.bases[data["model"]].source,
            "output_dir": str(folder / "out"),
            "control_file": str(folder / "control"),
            "method": method,
            "hyperparameters": hyper,
            "learning_rate": LORA_BASE_RATE * float(hyper["learning_rate_multiplier"]),
            "seed": data["seed"],
            "training_file": path(data["training_file"]),
            "validation_file": path(data["validation_file"]),
            "device": self.settings.device,
            "max_length": private["max_length"],
            "resume_from_checkpoint": private.get("resume_from_checkpoint"),
            "lora": {
                "r": self.settings.lora_r,
                "alpha": self.settings.lora_alpha,
                "dropout": self.settings.lora_dropout,
            },
        }

    def _command(self, spec_path: Path) -> list[str]:
        launch = [sys.executable, "-m", "accelerate.commands.launch"]
        if self.settings.accelerate_config:
            launch += ["--config_file", self.settings.accelerate_config]
        else:
            launch += ["--num_processes", "1", "--num_machines", "1"]
            launch += ["--mixed_precision", "no", "--dynamo_backend", "no"]
            if self.settings.device == "cpu":
                launch.append("--cpu")
        return [*launch, "-m", "tui.serve.train", str(spec_path)]

    async def _train(self, job_id: str) -> None:
        folder = self.store.job_dir(job_id)
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "control").unlink(missing_ok=True)
        spec = self._spec(job_id)
        spec_path = folder / "spec.json"
        spec_path.write_text(json.dumps(spec, indent=1))
        resumed = spec["resume_from_checkpoint"] is not None
        self.update(job_id, status="running")
        self.store.add_event(
            job_id, "Fine-tuning job resumed" if resumed else "Fine-tuning job started"
        )
        log_path = folder / "trainer.log"
        with log_path.open("ab") as log:
            process = await asyncio.create_subprocess_exec(
                *self._command(spec_path),
                stdout=asyncio.subprocess.PIPE,
                stderr=log,
                stdin=asyncio.subprocess.DEVNULL,
                start_new_session=True,
                env={**os.environ, **QUIET},
            )
        run = Run(process)
        self.runs[job_id] = run
        model_id = self._model_id(job_id)
        assert process.stdout is not None
        while line := await process.stdout.readline():
            text = line.decode("utf-8", "replace")
            if text.startswith(MARK):
                self._report(job_id, run, model_id, json.loads(text[len(MARK) :]))
        await process.wait()
        self._finish(job_id, run, model_id, log_path)

    def _model_id(self, job_id: str) -> str:
        private = self.store.job_private(job_id)
        if "model_id" not in private:
            data = self.store.job(job_id)
            assert data is not None
            suffix = data["user_provided_suffix"] or ""
            private["model_id"] = f"ft:{data['model']}:{ORG_SLUG}:{suffix}:{new_id('', 8)}"
            self.store.set_job_private(job_id, private)
        return str(private["model_id"])

    def _report(self, job_id: str, run: Run, model_id: str, report: dict[str, Any]) -> None:
        kind = report.pop("type")
        if kind == "started":
            run.total_steps = int(report["total_steps"])
        elif kind == "metrics":
            metrics = {**report, "total_steps": run.total_steps}
            self.store.add_event(
                job_id, _step_message(report, run.total_steps), kind="metrics", data=metrics
            )
            with (self.store.job_dir(job_id) / "metrics.csv").open("a") as rows:
                rows.write(csv_row(report) + "\n")
        elif kind == "checkpoint":
            self._checkpoint(job_id, model_id, report)
        elif kind == "warning":
            self.store.add_event(job_id, report["message"], level="warn")
        else:
            run.last = {"type": kind, **report}

    def _checkpoint(self, job_id: str, model_id: str, report: dict[str, Any]) -> None:
        data = self.store.job(job_id)
        assert data is not None
        step = int(report["step"])
        name = f"{model_id}:ckpt-step-{step}"
        self.store.add_checkpoint(
            job_id,
            {
                "object": "fine_tuning.job.checkpoint",
                "id": new_id("ftckpt_"),
                "created_at": now(),
                "fine_tuned_model_checkpoint": name,
                "fine_tuning_job_id": job_id,
                "metrics": report["metrics"],
                "step_number": step,
            },
        )
        self.store.add_model(name, job_id, data["model"], Path(report["path"]))
        self.store.add_event(job_id, f"Checkpoint created at step {step}")
        _drop_resume_state(Path(report["path"]))
        for older in self.store.checkpoints(job_id)[KEEP_CHECKPOINTS:]:  # newest first
            self.store.delete_model(older["fine_tuned_model_checkpoint"])

    def _finish(self, job_id: str, run: Run, model_id: str, log_path: Path) -> None:
        status = self.status(job_id)
        last = run.last or {}
        if status == "cancelled" or self.closing:
            return
        if last.get("type") == "paused":
            private = self.store.job_private(job_id)
            earlier = private.get("resume_from_checkpoint")
            if earlier and earlier != last["checkpoint"]:
                self._release(Path(earlier))  # paused again: this one resumes now
            private["resume_from_checkpoint"] = last["checkpoint"]
            self.store.set_job_private(job_id, private)
            self.update(job_id, status="paused", estimated_finish=None)
            self.store.add_event(job_id, f"Fine-tuning job paused at step {last['step']}")
            return
        if last.get("type") == "done":
            self._succeed(job_id, model_id, last)
            return
        if last.get("type") == "error":
            message = str(last["message"])
        else:
            code = run.process.returncode
            why = f"killed by signal {-code}" if code is not None and code < 0 else f"exit {code}"
            if code == -signal.SIGKILL:
                why += " (out of memory?)"
            message = f"The trainer stopped ({why}): {_tail(log_path)}"
        self.fail(job_id, f"The job failed during training: {message}")

    def _succeed(self, job_id: str, model_id: str, last: dict[str, Any]) -> None:
        data = self.store.job(job_id)
        assert data is not None
        folder = self.store.job_dir(job_id)
        metrics = folder / "metrics.csv"
        rows = metrics.read_text() if metrics.exists() else ""
        results = self.store.add_file(
            "step_metrics.csv", "fine-tune-results", (CSV_HEADER + rows).encode()
        )
        self.store.add_model(model_id, job_id, data["model"], Path(last["path"]))
        self.store.add_event(job_id, f"New fine-tuned model created: {model_id}")
        private = self.store.job_private(job_id)
        hyper = data["hyperparameters"]
        trained = int(private.get("tokens_per_epoch", 0)) * int(hyper["n_epochs"])
        runtime = last.get("train_runtime")
        if runtime and trained and not private.get("resume_from_checkpoint"):
            self.store.set_speed(data["model"], trained / float(runtime))
        self.update(
            job_id,
            status="succeeded",
            fine_tuned_model=model_id,
            finished_at=now(),
            estimated_finish=None,
            result_files=[results["id"]],
            trained_tokens=trained,
        )
        self.store.add_event(job_id, "The job has successfully completed")
        self.release_resume_state(job_id)


def _drop_resume_state(checkpoint: Path) -> None:
    """Keep a checkpoint's adapter, not the optimizer state a resume would need."""
    for pattern in RESUME_STATE:
        for path in checkpoint.glob(pattern):
            if path.is_dir():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)


def _tail(log_path: Path) -> str:
    """The cause from the end of the trainer's stderr: its last error line, else its last line."""
    try:
        lines = log_path.read_text(errors="replace").splitlines()[-STDERR_TAIL:]
    except OSError:
        return "no trainer log"
    lines = [line.strip() for line in lines if line.strip()]
    errors = [line for line in lines if "Error" in line or "error:" in line]
    return (errors or lines or ["no output"])[-1]
