"""`tunebench jobs create|list|watch|cancel`: fine-tuning jobs without the TUI."""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tui.core.printable import one_line
from tui.errors import EXIT_FAILED, EXIT_OK, CheckFailed, UsageError

if TYPE_CHECKING:
    from tui.config import LoadedConfig

HELP = "create, list, watch and cancel fine-tuning jobs"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    create = sub.add_parser("create", help="pre-flight, upload (once) and create a job")
    create.add_argument("path", metavar="PATH", help="dataset (.jsonl, pairs .txt, .csv/.tsv)")
    create.add_argument("--model", metavar="M", help="base model (default: defaults.model)")
    create.add_argument("--suffix", metavar="S", help="suffix of the tuned model's name")
    create.add_argument("--epochs", metavar="N", type=int, help="epochs (default: auto)")
    create.add_argument(
        "--validation",
        metavar="FILE|N%",
        help="validation dataset, or a share of PATH held out for it (like 10%%)",
    )
    create.add_argument("--seed", metavar="N", type=int, help="training seed")
    create.add_argument("--batch-size", metavar="N", help="batch size (default: auto)")
    create.add_argument(
        "--lr-multiplier", metavar="X", help="learning rate multiplier (default: auto)"
    )
    create.add_argument("--beta", metavar="X", help="DPO beta, for DPO datasets (default: auto)")
    create.add_argument(
        "--training-type",
        metavar="T",
        help="Azure only: standard (regional), globalstandard or developer",
    )
    create.add_argument(
        "--metadata",
        metavar="KEY=VALUE",
        action="append",
        default=[],
        help="job metadata, repeatable (at most 12 pairs)",
    )
    lst = sub.add_parser("list", help="the profile's jobs, newest first")
    lst.add_argument("--limit", metavar="N", type=int, default=20, help="how many (default 20)")
    watch = sub.add_parser("watch", help="print events oldest first until the job ends")
    watch.add_argument("job", metavar="JOB", help="job id (ftjob-...)")
    cancel = sub.add_parser(
        "cancel",
        help="cancel a job and wait until it is cancelled (exit 0), about a minute at most",
    )
    cancel.add_argument("job", metavar="JOB", help="job id (ftjob-...)")
    cancel.add_argument(
        "--no-wait",
        action="store_true",
        help="only ask to cancel; exit 0 when the API accepted the request",
    )


def run(args: argparse.Namespace) -> int:
    from tui.config import load_config

    loaded = load_config()
    for warning in loaded.warnings_for(loaded.profile_name(args.profile)):
        print(f"warning: {warning}", file=sys.stderr)
    handler = {"create": _create, "list": _list, "watch": _watch, "cancel": _cancel}[args.action]
    return asyncio.run(handler(args, loaded))


def _client(args: argparse.Namespace, loaded: LoadedConfig, **kwargs: Any) -> tuple[str, Any]:
    from tui.api.client import endpoint_for

    endpoint = endpoint_for(loaded, args.profile)
    return endpoint.name, endpoint.async_client(**kwargs)


def _say(text: str) -> None:
    print(one_line(text), file=sys.stderr, flush=True)


def upload_progress(sent: int, total: int) -> None:
    """A text progress bar on stderr: redrawn in place on a terminal, one line a step else."""
    width = 30
    filled = width * sent // total if total else width
    line = (
        f"uploading [{'#' * filled}{'.' * (width - filled)}] "
        f"{sent * 100 // max(total, 1)}% of {total / 1e6:.1f} MB"
    )
    if sys.stderr.isatty():
        print(f"\r{line}", end="" if sent < total else "\n", file=sys.stderr, flush=True)
    else:
        _say(line)


class _StepProgress:
    """The pre-flight's step and percent on stderr, redrawn in place on a terminal (a 500 MB
    file takes about a minute to check and write)."""

    def __init__(self) -> None:
        self.shown: tuple[str, int] | None = None

    def __call__(self, step: str, done: int, total: int) -> None:
        percent = done * 100 // total if total else 100
        if (step, percent) != self.shown:
            self.shown = (step, percent)
            print(f"\r\033[Kpre-flight: {step}… {percent}%", end="", file=sys.stderr, flush=True)

    def clear(self) -> None:
        if self.shown is not None:
            print("\r\033[K", end="", file=sys.stderr, flush=True)


async def _create(args: argparse.Namespace, loaded: LoadedConfig) -> int:
    from tui.api import jobs
    from tui.api.client import endpoint_for
    from tui.api.options import (
        AUTO,
        check_training_type,
        parse_auto,
        parse_metadata,
        parse_validation,
    )
    from tui.api.preflight import ask_server, preflight
    from tui.api.store import shared_store
    from tui.commands.validate import _usable_cpus

    settings = loaded.config
    model = args.model or settings.defaults.model
    epochs = args.epochs
    if epochs is None and isinstance(settings.defaults.epochs, int):
        epochs = settings.defaults.epochs
    # Every flag is read before the (slower) pre-flight, so a typo fails at once.
    validation_path, split_percent = parse_validation(args.validation or "")
    batch_size = parse_auto(args.batch_size or "", int, "--batch-size")
    lr_multiplier = parse_auto(args.lr_multiplier or "", float, "--lr-multiplier")
    beta = parse_auto(args.beta or "", float, "--beta")
    metadata = parse_metadata(args.metadata)
    endpoint = endpoint_for(loaded, args.profile)
    training_type = check_training_type(args.training_type, endpoint.profile.kind, endpoint.name)
    shown = _StepProgress()
    try:
        check = preflight(
            Path(args.path),
            model,
            epochs=epochs,
            validation_path=validation_path,
            split_percent=split_percent,
            seed=args.seed or 0,
            system=settings.dataset.system_prompt or None,
            sep=settings.dataset.separator,
            local=endpoint.profile.kind == "local",
            workers=_usable_cpus(),
            progress=shown if sys.stderr.isatty() else None,
        )
    finally:
        shown.clear()
    if beta != AUTO and check.method != "dpo":
        raise UsageError(f"--beta: {args.path} is a supervised dataset; beta is for DPO")
    if check.local and not check.blocked:  # the model's own tokenizer is on the server
        async with endpoint.async_client() as client:
            await ask_server(client, check, epochs)
    for line in check.summary():
        _say(line)
    if check.blocked:
        raise CheckFailed(f"{args.path}: {len(check.report.errors)} errors; nothing was uploaded")
    spec = jobs.LaunchSpec(
        model=check.model,
        method=check.method,
        n_epochs=epochs if epochs is not None else AUTO,
        batch_size=batch_size,
        learning_rate_multiplier=lr_multiplier,
        beta=beta,
        suffix=args.suffix,
        seed=args.seed,
        metadata=metadata,
        training_type=training_type,
    )
    name, client = endpoint.name, endpoint.async_client()
    async with client:
        _training, job = await jobs.launch(
            client,
            shared_store(),
            name,
            check,
            spec,
            notify=_say,
            progress=upload_progress,
            poll_interval=settings.ui.poll_interval,
        )
    print(job.id)
    return EXIT_OK


async def _list(args: argparse.Namespace, loaded: LoadedConfig) -> int:
    from tui.api import jobs

    _name, client = _client(args, loaded)
    async with client:
        page = await jobs.list_jobs(client, limit=args.limit)
    if not page.jobs:
        odd = (
            " (the server said there were more, but sent an empty page)"
            if page.claimed_more
            else ""
        )
        _say(f"no jobs{odd}")
    for job in page.jobs:
        created = _utc(job.created_at)
        tokens = f"{job.trained_tokens:,}" if job.trained_tokens else "-"
        print(
            one_line(
                f"{job.id}  {job.status:<16} {job.model or '-':<26} {created}  {tokens:>10}  "
                f"{job.fine_tuned_model or '-'}"
            )
        )
    if page.has_more:
        _say(f"(more jobs: --limit {args.limit * 2})")
    return EXIT_OK


def _utc(timestamp: int | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    return time.strftime(fmt, time.gmtime(timestamp)) if timestamp is not None else "-"


def format_event(event: Any) -> str:
    stamp = _utc(event.created_at, "%H:%M:%S")
    level = "" if event.level == "info" else f"{event.level}: "
    return one_line(f"{stamp}  {level}{event.message}")


async def _watch(args: argparse.Namespace, loaded: LoadedConfig) -> int:
    from tui.api import jobs

    _name, client = _client(args, loaded, max_retries=0)
    interval = loaded.config.ui.poll_interval
    final = None
    notices: set[str] = set()
    async with client:
        async for update in jobs.watch(client, args.job, interval=interval):
            if update.reconnecting:
                _say(update.reconnecting)
                continue
            for event in update.events:
                print(format_event(event), flush=True)
            if update.notice and update.notice not in notices:
                notices.add(update.notice)
                _say(f"warning: {update.notice}")
            final = update.job
    if final is None:
        return EXIT_FAILED
    if final.status == "succeeded":
        _say(f"job {final.id} succeeded: {final.fine_tuned_model}")
        return EXIT_OK
    _say(jobs.failure_text(final))
    return EXIT_FAILED


async def _cancel(args: argparse.Namespace, loaded: LoadedConfig) -> int:
    from tui.api import jobs

    _name, client = _client(args, loaded)
    async with client:
        if args.no_wait:
            job = await jobs.control(client, args.job, "cancel")
            print(one_line(f"{job.id}: {job.status}"))
            return EXIT_OK
        job = await jobs.cancel_and_wait(client, args.job, notify=_say)
    print(one_line(f"{job.id}: {job.status}"))
    if job.status == "cancelled":
        return EXIT_OK
    if job.status in jobs.TERMINAL:
        _say(f"job {job.id} ended as {job.status} before it could be cancelled")
    else:
        _say(f"job {job.id} is still {job.status}: cancel asked, not yet done (see jobs watch)")
    return EXIT_FAILED
