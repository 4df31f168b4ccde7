"""`tunebench chat --model M [--system TEXT] [--compare M2] PROMPT`: stream a reply to stdout.

With --compare the models answer concurrently; their replies are printed one after another,
each under a `== MODEL ==` label (the first streams live, the others follow as they arrive).
Timings and token usage go to stderr, so stdout is only the replies.
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any

from tui.core.printable import one_line, plain_text
from tui.errors import EXIT_FAILED, UsageError

if TYPE_CHECKING:
    from openai import AsyncOpenAI

    from tui.api.chat import Message, Reply

HELP = "stream a chat reply from a model (a tuned model, a checkpoint or a base model)"
MAX_COMPARE = 2


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("prompt", metavar="PROMPT", help="the user message ('-' reads stdin)")
    parser.add_argument("--model", "-m", required=True, metavar="M", help="model to ask")
    parser.add_argument(
        "--system",
        metavar="TEXT",
        help="system prompt (default: dataset.system_prompt from the config, the one used "
        "in training; pass '' for none)",
    )
    parser.add_argument(
        "--compare",
        metavar="M2",
        action="append",
        default=[],
        help="also ask this model, concurrently (up to twice)",
    )
    parser.add_argument("--temperature", type=float, metavar="T", help="sampling temperature")
    parser.add_argument("--max-tokens", type=int, metavar="N", help="cap the reply length")


def run(args: argparse.Namespace) -> int:
    import asyncio

    from tui.config import load_config

    if len(args.compare) > MAX_COMPARE:
        raise UsageError(f"--compare: at most {MAX_COMPARE} extra models")
    if args.max_tokens is not None and args.max_tokens < 1:
        raise UsageError("--max-tokens: must be at least 1")
    prompt = sys.stdin.read() if args.prompt == "-" else args.prompt
    if not prompt.strip():
        raise UsageError("PROMPT: empty message")
    loaded = load_config()
    for warning in loaded.warnings_for(loaded.profile_name(args.profile)):
        print(f"warning: {warning}", file=sys.stderr)
    system = loaded.config.dataset.system_prompt if args.system is None else args.system
    from tui.api.client import open_client

    client = open_client(loaded, args.profile)
    models = [args.model, *args.compare]
    return asyncio.run(_chat(client, models, system, prompt, args))


async def _chat(
    client: AsyncOpenAI, models: list[str], system: str, prompt: str, args: argparse.Namespace
) -> int:
    from tui.api import chat

    def retrying(seconds: float | None) -> None:
        wait = f" in {seconds:.1f} s" if seconds is not None else ""
        print(f"rate limited (429), retrying{wait}…", file=sys.stderr)

    watched = chat.watch_rate_limits(client, retrying)
    messages = chat.build_messages(system, [{"role": "user", "content": prompt}])
    options: dict[str, Any] = {"temperature": args.temperature, "max_tokens": args.max_tokens}
    async with watched:
        if len(models) == 1:
            reply = await chat.stream_chat(watched, models[0], messages, on_delta=_write, **options)
            _finish(reply, labelled=False)
            return 0 if reply.ok else EXIT_FAILED
        replies = await _compare(watched, models, messages, options)
    return 0 if all(r.ok for r in replies) else EXIT_FAILED


async def _compare(
    client: AsyncOpenAI, models: list[str], messages: list[Message], options: dict[str, Any]
) -> list[Reply]:
    """Ask all models at once; print each reply in turn, live while it is the current one."""
    import asyncio

    from tui.api import chat

    queues: list[asyncio.Queue[str | None]] = [asyncio.Queue() for _ in models]

    async def one(index: int, model: str) -> Reply:
        try:
            [reply] = await chat.compare(
                client,
                [model],
                messages,
                on_delta=lambda _i, text: queues[index].put_nowait(text),
                **options,
            )
        finally:
            queues[index].put_nowait(None)
        return reply

    tasks = [asyncio.ensure_future(one(i, m)) for i, m in enumerate(models)]
    for index, model in enumerate(models):
        print(f"{chr(10) if index else ''}== {one_line(model)} ==", flush=True)
        while (text := await queues[index].get()) is not None:
            _write(text)
        _finish(await tasks[index], labelled=True)
    return [task.result() for task in tasks]


def _write(text: str) -> None:
    sys.stdout.write(plain_text(text))
    sys.stdout.flush()


def _finish(reply: Reply, *, labelled: bool) -> None:
    if reply.text and not reply.text.endswith("\n"):
        _write("\n")
    if reply.error and not reply.text and not reply.cut:
        error = f"error: {reply.model}: {reply.error}" if labelled else f"error: {reply.error}"
        print(one_line(error), file=sys.stderr)
        return
    who = f"{reply.model}: " if labelled else ""
    print(one_line(f"[{who}{format_stats(reply)}]"), file=sys.stderr)
    if reply.cut:
        print(one_line(f"warning: {reply.error}; the text above is partial"), file=sys.stderr)


def format_stats(reply: Reply) -> str:
    """`first token 120 ms · total 1.30 s · 19 prompt + 6 reply tokens`"""
    parts = []
    if reply.first_token_s is not None:
        parts.append(f"first token {reply.first_token_s * 1000:.0f} ms")
    parts.append(f"total {reply.total_s:.2f} s")
    if reply.usage is not None:
        parts.append(
            f"{reply.usage.prompt_tokens} prompt + {reply.usage.completion_tokens} reply tokens"
        )
    return " · ".join(parts)
