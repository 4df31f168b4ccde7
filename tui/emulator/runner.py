"""A job's life as a background task: validate, queue, train step by step, finish.

Durations are real seconds at speed 1 divided by `speed`; pause waits on the job's resume
event; cancel is `task.cancel()` by the handler, which has already set the status.
"""

from __future__ import annotations

import asyncio
import base64
import math
from dataclasses import dataclass
from typing import Any

from tui.emulator.examples import Example, parse_examples
from tui.emulator.faults import Faults
from tui.emulator.store import ORG_SLUG, Job, Store, now
from tui.emulator.training import Metrics, StepResult, Trainer
from tui.emulator.validation import FileError, check_file

VALIDATING_SECONDS = 3.0
QUEUED_SECONDS = 2.0
STEP_SECONDS = 0.5
CSV_HEADER = "step,train_loss,train_accuracy,valid_loss,valid_mean_token_accuracy\n"


@dataclass(frozen=True)
class RunConfig:
    speed: float
    base64_results: bool = False
    azure_names: bool = False  # `BASE.ft-HEX` tuned models, as Azure OpenAI names them

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds / self.speed)


def default_epochs(n_examples: int) -> int:
    """OpenAI's documented default: 3, raised for small files, lowered for huge ones."""
    if n_examples * 3 < 100:
        return min(25, 100 // max(1, n_examples))
    if n_examples * 3 > 25_000:
        return max(1, 25_000 // n_examples)
    return 3


def resolve_hyperparameters(hyper: dict[str, Any], n_examples: int) -> dict[str, Any]:
    """Replace `auto` with the values the service would pick (shown once the job is queued)."""
    resolved = dict(hyper)
    if resolved.get("n_epochs", "auto") == "auto":
        resolved["n_epochs"] = default_epochs(n_examples)
    if resolved.get("batch_size", "auto") == "auto":
        resolved["batch_size"] = max(1, min(256, round(n_examples * 0.002)))
    if resolved.get("learning_rate_multiplier", "auto") == "auto":
        resolved["learning_rate_multiplier"] = 2.0
    if resolved.get("beta") == "auto":
        resolved["beta"] = 0.1
    return resolved


def _fail(job: Job, error: FileError | dict[str, Any]) -> None:
    err = error.as_dict() if isinstance(error, FileError) else error
    job.data.update(status="failed", error=err, estimated_finish=None)
    job.event(err["message"], level="error")


def _metrics(result: StepResult) -> dict[str, float]:
    out: dict[str, float] = {"step": result.step}
    named: list[tuple[str, Metrics | None]] = [
        ("train", result.train),
        ("valid", result.valid),
        ("full_valid", result.full_valid),
    ]
    for prefix, metrics in named:
        if metrics is not None:
            out[f"{prefix}_loss"] = round(metrics.loss, 4)
            out[f"{prefix}_mean_token_accuracy"] = round(metrics.accuracy, 4)
    return out


def _step_message(result: StepResult, total: int) -> str:
    parts = [f"training loss={result.train.loss:.2f}"]
    if result.valid is not None:
        parts.append(f"validation loss={result.valid.loss:.2f}")
    if result.full_valid is not None:
        parts.append(f"full validation loss={result.full_valid.loss:.2f}")
    return f"Step {result.step}/{total}: " + ", ".join(parts)


def csv_row(metrics: dict[str, float]) -> str:
    cells = [
        metrics.get(k)
        for k in (
            "train_loss",
            "train_mean_token_accuracy",
            "valid_loss",
            "valid_mean_token_accuracy",
        )
    ]
    return ",".join([str(int(metrics["step"]))] + ["" if c is None else f"{c}" for c in cells])


class JobRunner:
    def __init__(self, store: Store, faults: Faults, config: RunConfig) -> None:
        self.store = store
        self.faults = faults
        self.config = config

    def _content(self, file_id: str | None) -> bytes | None:
        stored = self.store.files.get(file_id) if file_id else None
        return None if stored is None else stored.content

    def _check_files(self, job: Job) -> FileError | None:
        """Run the validator on the job's files; keeps the training tokens for billing."""
        method = job.data["method"]["type"]
        for param in ("training_file", "validation_file"):
            file_id = job.data[param]
            if file_id is None:
                continue
            content = self._content(file_id)
            if content is None:
                return FileError(f"invalid_{param}", f"File {file_id} was deleted.", param)
            check = check_file(content, job.data["model"], param=param, method=method)
            if check.error is not None:
                return check.error
            if param == "training_file":
                job.training_tokens = check.tokens
        return None

    async def run(self, job: Job) -> None:
        data = job.data
        files = f"training file: {data['training_file']}"
        if data["validation_file"]:
            files += f" and validation file: {data['validation_file']}"
        job.event(f"Validating {files}")
        await self.config.sleep(VALIDATING_SECONDS)
        # Validating and parsing a big file takes a while: off the loop, so requests flow.
        error = await asyncio.to_thread(self._check_files, job)
        if error is not None:
            _fail(job, error)
            return
        job.examples = await asyncio.to_thread(
            parse_examples, self._content(data["training_file"]) or b""
        )
        valid = await asyncio.to_thread(
            parse_examples, self._content(data["validation_file"]) or b""
        )
        method = data["method"]
        hyper = resolve_hyperparameters(
            method[method["type"]]["hyperparameters"], len(job.examples)
        )
        method[method["type"]]["hyperparameters"] = hyper
        data["hyperparameters"] = {k: v for k, v in hyper.items() if k != "beta"}
        data["status"] = "queued"
        job.event("Files validated, moving job to queued state")
        await self.config.sleep(QUEUED_SECONDS)
        await self._train(job, valid, hyper)

    async def _pause_point(self, job: Job) -> None:
        if job.status != "pausing":
            return
        job.data.update(status="paused", estimated_finish=None)
        job.event("Fine-tuning job paused")
        job.resume.clear()
        await job.resume.wait()

    async def _train(self, job: Job, valid: list[Example], hyper: dict[str, Any]) -> None:
        data = job.data
        data["status"] = "running"
        job.event("Fine-tuning job started")
        trainer = Trainer(
            job.examples,
            valid,
            n_epochs=hyper["n_epochs"],
            batch_size=hyper["batch_size"],
            learning_rate_multiplier=hyper["learning_rate_multiplier"],
            seed=data["seed"],
        )
        model_id = self._model_id(job)
        total = trainer.total_steps
        fail_step = max(1, total // 2)
        rows = [CSV_HEADER]
        while not trainer.done:
            await self._pause_point(job)
            seconds_left = (total - trainer.step_number) * STEP_SECONDS / self.config.speed
            data["estimated_finish"] = now() + math.ceil(seconds_left)
            await self.config.sleep(STEP_SECONDS)
            result = await asyncio.to_thread(trainer.step)
            metrics = _metrics(result)
            job.event(
                _step_message(result, total), kind="metrics", data={**metrics, "total_steps": total}
            )
            rows.append(csv_row(metrics) + "\n")
            if result.epoch_end and result.epoch > trainer.n_epochs - 3:
                # Azure: "the final epoch will be represented by your fine-tuned model"
                final = self.config.azure_names and trainer.done
                name = model_id if final else f"{model_id}:ckpt-step-{result.step}"
                self._checkpoint(job, name, metrics)
            if result.step == fail_step and self.faults.take("fail-job") is not None:
                _fail(
                    job,
                    {
                        "code": "server_error",
                        "param": None,
                        "message": "The job failed due to an internal error during "
                        "training (injected by the emulator).",
                    },
                )
                return
        self._succeed(job, model_id, "".join(rows).encode(), hyper["n_epochs"])

    def _model_id(self, job: Job) -> str:
        """OpenAI's `ft:BASE:ORG:SUFFIX:ID`, or Azure's `BASE.ft-<32 hex>` (Azure ignores
        the suffix in the name)."""
        data = job.data
        if self.config.azure_names:
            return f"{data['model']}.ft-{job.ids.hex(32)}"
        suffix = data["user_provided_suffix"] or ""
        return f"ft:{data['model']}:{ORG_SLUG}:{suffix}:{job.ids.token(8)}"

    def _checkpoint(self, job: Job, model: str, metrics: dict[str, float]) -> None:
        step = int(metrics["step"])
        job.checkpoints.append(
            {
                "object": "fine_tuning.job.checkpoint",
                "id": job.ids.new("ftckpt_"),
                "created_at": now(),
                "fine_tuned_model_checkpoint": model,
                "fine_tuning_job_id": job.id,
                "metrics": metrics,
                "step_number": step,
            }
        )
        self.store.add_model(model, job.id)
        job.event(f"Checkpoint created at step {step}")

    def _succeed(self, job: Job, model_id: str, csv: bytes, n_epochs: int) -> None:
        content = base64.b64encode(csv) if self.config.base64_results else csv
        results = self.store.add_file("step_metrics.csv", "fine-tune-results", content)
        self.store.add_model(model_id, job.id)
        job.event(f"New fine-tuned model created: {model_id}")
        job.event("Evaluating model against our usage policies")
        job.event("Usage policy evaluations completed, model is now enabled for sampling")
        job.data.update(
            status="succeeded",
            fine_tuned_model=model_id,
            finished_at=now(),
            estimated_finish=None,
            result_files=[results["id"]],
            trained_tokens=n_epochs * job.training_tokens,
        )
        job.event("The job has successfully completed")
