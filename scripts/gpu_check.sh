#!/usr/bin/env bash
# The serve lifecycle on a real small instruct model on one CUDA GPU:
# upload -> job (2 epochs, LoRA) -> succeeded with falling loss -> checkpoints -> streaming chat
# with the tuned model -> pause/resume of a second job -> cancel of a third.
# Prints training tokens/s, chat tokens/s and peak GPU memory (nvidia-smi, sampled each second).
#
# Needs: a CUDA GPU, nvidia-smi, network access to the HF hub (or the model in its cache),
#        and tunebench installed with the train extra over a CUDA build of torch 2.13.0:
#          pip install torch==2.13.0 --index-url https://download.pytorch.org/whl/cu128
#          pip install -e '.[train]'
# Usage: scripts/gpu_check.sh [MODEL]   (default Qwen/Qwen2.5-0.5B-Instruct)
set -euo pipefail

MODEL="${1:-Qwen/Qwen2.5-0.5B-Instruct}"
WORK="$(mktemp -d -t tunebench-gpu-check-XXXXXX)"
LOG="$WORK/serve.log"
cd "$(dirname "$0")/.."

command -v nvidia-smi >/dev/null || { echo "gpu_check: nvidia-smi not found: no CUDA GPU here" >&2; exit 2; }
python -c 'import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)' \
  || { echo "gpu_check: torch sees no CUDA device (a CPU build of torch?)" >&2; exit 2; }

python -m tui serve --model "$MODEL" --device cuda --port 0 --data-dir "$WORK/data" \
  >"$WORK/url" 2>"$LOG" &
SERVE=$!
nvidia-smi --query-gpu=memory.used --format=csv,noheader,nounits -l 1 >"$WORK/gpu-mem" &
SMI=$!
trap 'kill $SERVE $SMI 2>/dev/null; wait $SERVE 2>/dev/null || true' EXIT

for _ in $(seq 1 600); do
  [ -s "$WORK/url" ] && break
  kill -0 $SERVE 2>/dev/null || { echo "gpu_check: serve did not start:" >&2; tail -5 "$LOG" >&2; exit 1; }
  sleep 0.5
done
URL="$(head -1 "$WORK/url")"
echo "serve: $URL ($MODEL), log $LOG"
python -m tui convert tui/emulator/demo/polish_grammar.txt -o "$WORK/train.jsonl" \
  --system "Popraw gramatykę zdania."

python - "$URL" "$MODEL" "$WORK/train.jsonl" <<'PY'
import sys, time
import openai

url, model, train = sys.argv[1:]
client = openai.OpenAI(base_url=url, api_key="local", max_retries=0)
done = ("succeeded", "failed", "cancelled")


def follow(job_id, until, limit=3600):
    start = time.monotonic()
    while time.monotonic() - start < limit:
        job = client.fine_tuning.jobs.retrieve(job_id)
        if until(job):
            return job
        time.sleep(1)
    raise SystemExit(f"gpu_check: job {job_id} stuck")


def metrics(job_id):
    events = client.fine_tuning.jobs.list_events(job_id, limit=10000).data
    return [dict(e.data) for e in reversed(events) if e.type == "metrics"]


file_id = client.files.create(file=open(train, "rb"), purpose="fine-tune").id
started = time.monotonic()
job = client.fine_tuning.jobs.create(
    model=model, training_file=file_id, suffix="gpu-check",
    hyperparameters={"n_epochs": 2, "batch_size": 4},
)
job = follow(job.id, lambda j: j.status in done)
wall = time.monotonic() - started
assert job.status == "succeeded", job.error
steps = metrics(job.id)
print(f"job {job.id}: {len(steps)} steps, train_loss {steps[0]['train_loss']} -> "
      f"{steps[-1]['train_loss']}")
print(f"training: {job.trained_tokens} tokens in {wall:.0f} s from create to succeeded = "
      f"{job.trained_tokens / wall:,.0f} tokens/s end to end")
ckpts = client.fine_tuning.jobs.checkpoints.list(job.id).data
print("checkpoints:", ", ".join(c.fine_tuned_model_checkpoint for c in ckpts))

messages = [{"role": "system", "content": "Popraw gramatykę zdania."},
            {"role": "user", "content": "Kot, spać, kanapa"}]
start, pieces, usage = time.monotonic(), [], None
for chunk in client.chat.completions.create(
    model=job.fine_tuned_model, messages=messages, max_tokens=64, temperature=0,
    stream=True, stream_options={"include_usage": True},
):
    usage = chunk.usage or usage
    pieces += [c.delta.content or "" for c in chunk.choices]
seconds = time.monotonic() - start
print(f"chat with {job.fine_tuned_model}: {''.join(pieces)!r}")
print(f"chat: {usage.completion_tokens} tokens in {seconds:.1f} s (incl. loading the adapter)")

second = client.fine_tuning.jobs.create(
    model=model, training_file=file_id, hyperparameters={"n_epochs": 3, "batch_size": 4})
follow(second.id, lambda j: bool(metrics(j.id)))
client.fine_tuning.jobs.pause(second.id)
follow(second.id, lambda j: j.status == "paused")
paused_at = metrics(second.id)[-1]["step"]
client.fine_tuning.jobs.resume(second.id)
second = follow(second.id, lambda j: j.status in done)
assert second.status == "succeeded", second.error
print(f"pause/resume: paused at step {paused_at}, resumed, succeeded")

third = client.fine_tuning.jobs.create(
    model=model, training_file=file_id, hyperparameters={"n_epochs": 10})
follow(third.id, lambda j: bool(metrics(j.id)))
start = time.monotonic()
client.fine_tuning.jobs.cancel(third.id)
print(f"cancel: returned after {time.monotonic() - start:.1f} s, status "
      f"{client.fine_tuning.jobs.retrieve(third.id).status}")
PY

kill $SMI 2>/dev/null || true
PEAK="$(sort -n "$WORK/gpu-mem" | tail -1)"
echo "peak GPU memory (nvidia-smi, whole device): ${PEAK} MiB"
