"""Benchmark: `tunebench validate` against the OpenAI Cookbook's algorithm on the same file.

Not collected by pytest. Run it with:

    python tests/bench/validate.py [--examples 100000,1500000] [--runs 3] [--dir DIR]
        [--model gpt-4o-mini] [--prose] [--repo PATH]

For each size it writes a chat JSONL file (~38 MB for 100,000 examples, ~570 MB for
1,500,000; into DIR if given, kept and reused, else a temp dir), then times, in separate
subprocesses and alternating run by run: `python -m tui validate FILE --json` and the
Cookbook algorithm (json.loads of each line, then tiktoken `encode` of every message value)
with the same encoding, loaded by tiktoken itself from a pre-filled TIKTOKEN_CACHE_DIR. It
reports per run and as medians with ranges: wall and CPU times (validate's include its
worker processes), the speed ratio, and peak memory (ru_maxrss: validate's main process and
its largest worker; target < 600 MB on the 1.5M file). --repo times the validate of another
checkout (for a before/after comparison).

The default file is the issue's: one sentence a turn. --prose makes each turn several
sentences with commas (more distinct word forms to learn), a harder case for validate's
word cache.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

# The Cookbook's counting loop (Chat_finetuning_data_prep.ipynb), same encoding as the
# validator: json.loads of each line, then encode() of every value of every message.
COOKBOOK = r"""
import json, resource, sys, time
start = time.perf_counter()
import tiktoken
from tui.core.models import resolve_model
# Genuine tiktoken loading, from a TIKTOKEN_CACHE_DIR the benchmark filled (no network).
encoding = tiktoken.get_encoding(resolve_model(sys.argv[2]).encoding)
dataset = []
with open(sys.argv[1], encoding="utf-8") as f:
    dataset = [json.loads(line) for line in f]
total = 0
for ex in dataset:
    num_tokens = 0
    for message in ex["messages"]:
        num_tokens += 3
        for key, value in message.items():
            num_tokens += len(encoding.encode(value))
            if key == "name":
                num_tokens += 1
    num_tokens += 3
    total += num_tokens
elapsed = time.perf_counter() - start
me = resource.getrusage(resource.RUSAGE_SELF)
print(json.dumps({"seconds": elapsed, "cpu": me.ru_utime + me.ru_stime,
                  "maxrss_kb": me.ru_maxrss, "total": total}))
"""

VALIDATE = r"""
import io, json, resource, sys, time, contextlib
start = time.perf_counter()
from tui.cli import main
out = io.StringIO()
with contextlib.redirect_stdout(out):
    code = main(["validate", sys.argv[1], "--json", "--model", sys.argv[2]])
elapsed = time.perf_counter() - start
me = resource.getrusage(resource.RUSAGE_SELF)
kids = resource.getrusage(resource.RUSAGE_CHILDREN)  # forked workers, if any
report = json.loads(out.getvalue())
print(json.dumps({"seconds": elapsed,
                  "cpu": me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime,
                  "maxrss_kb": me.ru_maxrss, "worker_maxrss_kb": kids.ru_maxrss,
                  "total": report["tokens"]["total"], "code": code}))
"""

SYSTEM_PROMPTS = [
    "Popraw gramatykę zdania.",
    "You are a careful copy editor. Fix grammar and spelling, keep the author's voice, "
    "and answer with the corrected text only.",
    "You are a support agent for a bicycle shop. Answer briefly and politely; if you do not "
    "know, say so and offer to forward the question to a mechanic.",
]


def make_words(rng: random.Random) -> list[str]:
    letters = "abcdefghijklmnoprstuwyzząćęłńóśźż"
    words = ["the", "and", "of", "to", "a", "in", "is", "że", "nie", "się", "na", "jest"]
    words += [
        "".join(rng.choice(letters) for _ in range(rng.randint(2, 10))) for _ in range(30_000)
    ]
    return words


def sentence(rng: random.Random, words: list[str], n: int) -> str:
    text = " ".join(rng.choice(words) for _ in range(n))
    return text[:1].upper() + text[1:] + rng.choice(".?!")


def paragraph(rng: random.Random, words: list[str], n: int) -> str:
    """Several sentences with commas: words are seen with and without marks, capitalised."""
    parts = []
    while n > 0:
        length = min(n, rng.randint(4, 12))
        text = sentence(rng, words, length)
        if length > 5:
            cut = text.index(" ", len(text) // 2)
            text = text[:cut] + "," + text[cut:]
        parts.append(text)
        n -= length
    return " ".join(parts)


def turns(rng: random.Random, words: list[str], prose: bool) -> tuple[str, str]:
    """A user and an assistant turn: one sentence each, or a few sentences of prose."""
    if prose:
        return paragraph(rng, words, rng.randint(8, 30)), paragraph(rng, words, rng.randint(8, 30))
    return sentence(rng, words, rng.randint(3, 11)), sentence(rng, words, rng.randint(5, 18))


def generate(path: Path, n: int, seed: int = 7, *, prose: bool = False) -> int:
    rng = random.Random(seed)
    words = make_words(rng)
    with path.open("w", encoding="utf-8") as f:
        for _ in range(n):
            user, assistant = turns(rng, words, prose)
            example = {
                "messages": [
                    {"role": "system", "content": rng.choice(SYSTEM_PROMPTS)},
                    {"role": "user", "content": user},
                    {"role": "assistant", "content": assistant},
                ]
            }
            f.write(json.dumps(example, ensure_ascii=False) + "\n")
    return path.stat().st_size


def fill_tiktoken_cache(cache_dir: Path) -> None:
    """Put the verified vocabularies where tiktoken looks before downloading them."""
    sys.path.insert(0, str(REPO))
    from tui.core.tokens import ENCODINGS, bundled_ranks, tiktoken_file

    cache_dir.mkdir(exist_ok=True)
    for name in ENCODINGS:
        url = f"https://openaipublic.blob.core.windows.net/encodings/{name}.tiktoken"
        key = hashlib.sha1(url.encode()).hexdigest()
        (cache_dir / key).write_bytes(tiktoken_file(bundled_ranks(name)))


def run(script: str, path: Path, model: str, repo: Path) -> dict[str, float]:
    env = dict(os.environ, PYTHONPATH=str(repo), TIKTOKEN_CACHE_DIR=str(path.parent / "tiktoken"))
    proc = subprocess.run(
        [sys.executable, "-c", script, str(path), model],
        capture_output=True,
        text=True,
        env=env,
        cwd=repo,  # `python -c` imports from the working directory first: the checkout timed
        check=True,
    )
    return json.loads(proc.stdout)


def spread(values: list[float], unit: str = "", digits: int = 2) -> str:
    """median (range min-max)"""
    return (
        f"{statistics.median(values):.{digits}f}{unit} "
        f"({min(values):.{digits}f}-{max(values):.{digits}f})"
    )


def bench_size(args: argparse.Namespace, folder: Path, examples: int) -> None:
    path = folder / f"chat-{examples}{'-prose' if args.prose else ''}.jsonl"
    started = time.perf_counter()
    if not path.exists():
        generate(path, examples, prose=args.prose)
    size = path.stat().st_size
    print(
        f"\n{examples:,} examples, {size / 1e6:.0f} MB, model {args.model} "
        f"(ready in {time.perf_counter() - started:.1f} s), cpus {os.cpu_count()}"
    )
    rows: dict[str, list[float]] = {
        k: [] for k in ("wall", "cpu", "rss", "worker", "cook_wall", "cook_cpu", "cook_rss")
    }
    ratios, cpu_ratios = [], []
    for i in range(args.runs):
        # Alternate which goes first, so load changes do not favour one side.
        if i % 2:
            cook = run(COOKBOOK, path, args.model, REPO)
            ours = run(VALIDATE, path, args.model, args.repo)
        else:
            ours = run(VALIDATE, path, args.model, args.repo)
            cook = run(COOKBOOK, path, args.model, REPO)
        ratios.append(cook["seconds"] / ours["seconds"])
        cpu_ratios.append(cook["cpu"] / ours["cpu"])
        rows["wall"].append(ours["seconds"])
        rows["cpu"].append(ours["cpu"])
        rows["rss"].append(ours["maxrss_kb"] / 1024)
        rows["worker"].append(ours["worker_maxrss_kb"] / 1024)
        rows["cook_wall"].append(cook["seconds"])
        rows["cook_cpu"].append(cook["cpu"])
        rows["cook_rss"].append(cook["maxrss_kb"] / 1024)
        print(
            f"run {i + 1}: validate {ours['seconds']:.2f} s wall, {ours['cpu']:.2f} s cpu, "
            f"peak {ours['maxrss_kb'] / 1024:.0f} MB (largest worker "
            f"{ours['worker_maxrss_kb'] / 1024:.0f} MB) | cookbook "
            f"{cook['seconds']:.2f} s wall, {cook['cpu']:.2f} s cpu, "
            f"peak {cook['maxrss_kb'] / 1024:.0f} MB | {ratios[-1]:.2f}x faster (wall)",
            flush=True,
        )
        if ours["total"] != cook["total"]:
            print(f"  token totals differ: validate {ours['total']}, cookbook {cook['total']}")
    print(
        f"medians (ranges) over {args.runs} runs, {examples:,} examples:\n"
        f"  validate  wall {spread(rows['wall'], ' s')}, cpu {spread(rows['cpu'], ' s')}, "
        f"peak {spread(rows['rss'], ' MB', 0)}, largest worker {spread(rows['worker'], ' MB', 0)}\n"
        f"  cookbook  wall {spread(rows['cook_wall'], ' s')}, "
        f"cpu {spread(rows['cook_cpu'], ' s')}, "
        f"peak {spread(rows['cook_rss'], ' MB', 0)}\n"
        f"  validate is {spread(ratios, 'x')} faster wall-clock, "
        f"uses {spread(cpu_ratios, 'x')} less CPU time",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--examples", default="100000", help="comma-separated sizes, e.g. 100000,1500000"
    )
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--dir", type=Path, help="keep the generated files here and reuse them")
    parser.add_argument("--model", default="gpt-4o-mini-2024-07-18")
    parser.add_argument("--repo", type=Path, default=REPO, help="checkout whose validate runs")
    parser.add_argument(
        "--prose",
        action="store_true",
        help="longer turns of several sentences with commas (default: one sentence each)",
    )
    args = parser.parse_args()
    sizes = [int(n) for n in args.examples.split(",")]
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.dir or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        fill_tiktoken_cache(folder / "tiktoken")
        for examples in sizes:
            bench_size(args, folder, examples)


if __name__ == "__main__":
    main()
