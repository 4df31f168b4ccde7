"""The trainer process: `accelerate launch -m tui.serve.train SPEC.json`.

Runs one job (TRL `SFTTrainer` or `DPOTrainer` with a PEFT LoRA adapter) and reports to the
server on stdout, one `TUNEBENCH {json}` line per thing that happened (only the main process
reports): `started`, `metrics` (each step), `checkpoint` (each epoch end), `paused`, `done`,
`error`. Pausing is asked for through the spec's control file (the server writes `pause`);
the trainer then saves a full checkpoint (adapter + optimizer) and stops, so a new process can
go on with `resume_from_checkpoint`.
"""

from __future__ import annotations

import json
import math
import os
import sys
import time
import traceback
from pathlib import Path
from typing import Any

MARK = "TUNEBENCH "
# Faults for tests: `oom` fails the first step as out of memory; `hold-for-pause` keeps the
# trainer before its second step (step 1's metrics sent) until a pause is asked (at most
# HOLD_SECONDS), so a pause test cannot lose the race against a tiny model that trains fast.
FAULT_ENV = "TUNEBENCH_TRAIN_FAULT"
HOLD_SECONDS = 120.0


def emit(kind: str, **data: Any) -> None:
    print(MARK + json.dumps({"type": kind, **data}), flush=True)


def _round(value: Any) -> float:
    return round(float(value), 4)


def _pause_asked(control_file: Path) -> bool:
    """Whether the server asked for a pause; with several processes, rank 0's answer is
    broadcast so every rank stops at the same step."""
    import torch.distributed as dist

    asked = control_file.exists() and control_file.read_text().strip() == "pause"
    if dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1:
        flag = [asked]
        dist.broadcast_object_list(flag, src=0)
        asked = bool(flag[0])
    return asked


def _hold_until_paused(control_file: Path) -> None:
    """The `hold-for-pause` test fault: wait, bounded, until the server asks for a pause."""
    deadline = time.monotonic() + HOLD_SECONDS
    while time.monotonic() < deadline and not (
        control_file.exists() and control_file.read_text().strip() == "pause"
    ):
        time.sleep(0.05)


def _metrics_callback(spec: dict[str, Any], is_main: bool) -> Any:
    from transformers import TrainerCallback

    control_file = Path(spec["control_file"])
    dpo = spec["method"] == "dpo"

    class Reporter(TrainerCallback):  # type: ignore[misc]
        """Per-step metrics (merged with that step's eval), epoch checkpoints, pause."""

        def __init__(self) -> None:
            self.pending: dict[str, float] | None = None
            self.epoch_ended = False
            self.paused = False

        def _flush(self) -> None:
            if self.pending is not None and is_main:
                emit("metrics", **self.pending)
            self.pending = None

        def on_train_begin(self, args: Any, state: Any, control: Any, **kw: Any) -> None:
            if is_main:
                emit("started", total_steps=state.max_steps, step=state.global_step)

        def on_step_begin(self, args: Any, state: Any, control: Any, **kw: Any) -> None:
            self._flush()
            # Held here, after step 1's metrics went out (they are logged after on_step_end):
            # holding in on_step_end kept them back, so a test waiting for them to ask the
            # pause waited out the whole hold and then raced a finishing trainer.
            if os.environ.get(FAULT_ENV) == "hold-for-pause" and state.global_step == 1:
                _hold_until_paused(control_file)
            if os.environ.get(FAULT_ENV) == "oom":
                import torch

                raise torch.OutOfMemoryError(f"CUDA out of memory ({FAULT_ENV}=oom)")

        def on_step_end(self, args: Any, state: Any, control: Any, **kw: Any) -> None:
            if _pause_asked(control_file):
                self.paused = True
                control.should_save = True
                control.should_training_stop = True

        def on_epoch_end(self, args: Any, state: Any, control: Any, **kw: Any) -> None:
            if spec.get("validation_file") and not self.paused:
                self.epoch_ended = True
                control.should_evaluate = True

        def on_log(self, args: Any, state: Any, control: Any, logs: Any = None, **kw: Any) -> None:
            logs = logs or {}
            step = state.global_step
            if "loss" in logs:
                self._flush()
                self.pending = {"step": step, "train_loss": _round(logs["loss"])}
                accuracy = None if dpo else logs.get("mean_token_accuracy")
                if accuracy is not None:
                    self.pending["train_mean_token_accuracy"] = _round(accuracy)
            elif "eval_loss" in logs:
                if self.pending is None or self.pending["step"] != step:
                    self._flush()
                    self.pending = {"step": step}
                prefix = "full_valid" if self.epoch_ended else "valid"
                self.pending[f"{prefix}_loss"] = _round(logs["eval_loss"])
                accuracy = None if dpo else logs.get("eval_mean_token_accuracy")
                if accuracy is not None:
                    self.pending[f"{prefix}_mean_token_accuracy"] = _round(accuracy)
                if self.epoch_ended:  # the last step's valid_loss is the full one's value
                    self.pending.setdefault("valid_loss", self.pending[f"{prefix}_loss"])
                self.epoch_ended = False

        def on_save(self, args: Any, state: Any, control: Any, **kw: Any) -> None:
            metrics = dict(self.pending or {})
            self._flush()
            if self.paused or not is_main:
                return
            path = Path(args.output_dir) / f"checkpoint-{state.global_step}"
            emit("checkpoint", step=state.global_step, path=str(path), metrics=metrics)

        def on_train_end(self, args: Any, state: Any, control: Any, **kw: Any) -> None:
            self._flush()

    return Reporter()


def _datasets(spec: dict[str, Any], tokenizer: Any) -> tuple[Any, Any]:
    from datasets import Dataset

    from tui.serve.data import preference_rows, tokenize_file

    def load(path: str | None, what: str) -> Any:
        if not path:
            return None
        data = Path(path).read_bytes()
        if spec["method"] == "dpo":
            return Dataset.from_list(preference_rows(data))
        tokenized = tokenize_file(tokenizer, data, spec["max_length"])
        if tokenized.dropped:
            lines = ", ".join(str(n) for n, _ in tokenized.dropped[:20])
            emit(
                "warning",
                message=f"{len(tokenized.dropped)} {what} example(s) skipped: their trained "
                f"answer lies past max_length={spec['max_length']} tokens (lines {lines})",
            )
        if not tokenized.rows:
            raise ValueError(f"no {what} example has a trained answer within max_length")
        return Dataset.from_list(tokenized.rows)

    return load(spec["training_file"], "training"), load(spec.get("validation_file"), "validation")


def _bf16() -> bool:
    import torch

    return bool(torch.cuda.is_bf16_supported())


def resolve_device(device: str) -> str:
    """`auto`: cuda when torch sees a GPU, else cpu (TRL's defaults assume a GPU)."""
    if device != "auto":
        return device
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def _common_args(spec: dict[str, Any], n_train: int) -> dict[str, Any]:
    hyper = spec["hyperparameters"]
    steps_per_epoch = math.ceil(n_train / hyper["batch_size"])
    total = steps_per_epoch * hyper["n_epochs"]
    validation = bool(spec.get("validation_file"))
    return {
        "output_dir": spec["output_dir"],
        "num_train_epochs": hyper["n_epochs"],
        "per_device_train_batch_size": hyper["batch_size"],
        "per_device_eval_batch_size": hyper["batch_size"],
        "learning_rate": spec["learning_rate"],
        "seed": spec["seed"],
        "data_seed": spec["seed"],
        "logging_steps": 1,
        "save_strategy": "epoch",
        "eval_strategy": "steps" if validation else "no",
        "eval_steps": max(1, total // 10) if validation else None,
        "report_to": "none",
        "disable_tqdm": True,
        "use_cpu": spec["device"] == "cpu",
        "bf16": spec["device"] == "cuda" and _bf16(),
        "max_length": spec["max_length"],
        "dataloader_num_workers": 0,
    }


def run(spec: dict[str, Any]) -> int:
    import torch
    from accelerate import PartialState
    from peft import LoraConfig
    from transformers import AutoModelForCausalLM, AutoTokenizer

    is_main = PartialState().is_main_process
    tokenizer = AutoTokenizer.from_pretrained(spec["base_path"])
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    dtype = torch.float32 if spec["device"] == "cpu" else "auto"
    model = AutoModelForCausalLM.from_pretrained(spec["base_path"], dtype=dtype)
    lora = LoraConfig(
        r=spec["lora"]["r"],
        lora_alpha=spec["lora"]["alpha"],
        lora_dropout=spec["lora"]["dropout"],
        target_modules="all-linear",
        task_type="CAUSAL_LM",
    )
    train_set, eval_set = _datasets(spec, tokenizer)
    common = _common_args(spec, len(train_set))
    reporter = _metrics_callback(spec, is_main)
    trainer: Any
    if spec["method"] == "dpo":
        from trl import DPOConfig, DPOTrainer

        trainer = DPOTrainer(
            model=model,
            args=DPOConfig(beta=spec["hyperparameters"]["beta"], **common),
            train_dataset=train_set,
            eval_dataset=eval_set,
            processing_class=tokenizer,
            peft_config=lora,
            callbacks=[reporter],
        )
    else:
        from trl import SFTConfig, SFTTrainer

        trainer = SFTTrainer(
            model=model,
            args=SFTConfig(**common),
            train_dataset=train_set,
            eval_dataset=eval_set,
            processing_class=tokenizer,
            peft_config=lora,
            callbacks=[reporter],
        )
    result = trainer.train(resume_from_checkpoint=spec.get("resume_from_checkpoint"))
    if reporter.paused:
        if is_main:
            step = trainer.state.global_step
            emit(
                "paused", step=step, checkpoint=str(Path(spec["output_dir"]) / f"checkpoint-{step}")
            )
        return 0
    final = Path(spec["output_dir"]) / "final"
    trainer.save_model(str(final))
    if is_main:
        emit(
            "done",
            path=str(final),
            step=trainer.state.global_step,
            train_runtime=result.metrics.get("train_runtime"),
        )
    return 0


def oom_message(spec: dict[str, Any]) -> str:
    batch = spec["hyperparameters"]["batch_size"]
    hint = f": try batch_size {max(1, batch // 4)}" if batch > 1 else ": try a smaller model"
    return f"out of memory at batch_size {batch}{hint}"


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    spec = json.loads(Path(args[0]).read_text())
    spec["device"] = resolve_device(spec["device"])
    try:
        return run(spec)
    except Exception as exc:
        import torch

        traceback.print_exc()
        if isinstance(exc, torch.OutOfMemoryError):
            message = oom_message(spec)
        else:
            message = f"{type(exc).__name__}: {exc}"
        emit("error", message=message)
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
