#!/usr/bin/env bash
# The serve lifecycle on a real small instruct model on one CUDA GPU:
# upload -> job (2 epochs, LoRA) -> succeeded with falling loss -> checkpoints -> streaming chat
# with the tuned model -> pause/resume of a second job -> cancel of a third
# (scripts/serve_lifecycle.py drives it through the openai SDK and checks every step).
# Prints training tokens/s, chat tokens/s, the peak RSS of serve and its trainers, and the peak
# GPU memory (nvidia-smi, whole device, sampled each second).
#
# --cpu-rehearsal MODEL_DIR runs the very same lifecycle and checks on the CPU (serve
# --device cpu) against a model directory, offline: only the GPU checks and nvidia-smi are
# left out. It proves the script and serve, not a GPU: figures from it are CPU figures.
#
# Needs: a CUDA GPU, nvidia-smi, network access to the HF hub (or the model in its cache),
#        and tunebench installed with the train extra over a CUDA build of torch 2.13.0:
#          pip install torch==2.13.0 --index-url https://download.pytorch.org/whl/cu128
#          pip install -e '.[train]'
# Usage: scripts/gpu_check.sh [MODEL]                    (default Qwen/Qwen2.5-0.5B-Instruct)
#        scripts/gpu_check.sh --cpu-rehearsal MODEL_DIR
# Exit: 0 every check passed, 1 a check failed, 2 this machine cannot run it (no GPU, no model).
# $PYTHON names the interpreter (default: python).
set -euo pipefail

PYTHON="${PYTHON:-python}"
DEVICE=cuda
if [ "${1:-}" = "--cpu-rehearsal" ]; then
  DEVICE=cpu
  [ $# -eq 2 ] || { echo "usage: scripts/gpu_check.sh --cpu-rehearsal MODEL_DIR" >&2; exit 2; }
  [ -d "$2" ] || { echo "gpu_check: --cpu-rehearsal $2: no such directory" >&2; exit 2; }
  MODEL="$2"
  export HF_HUB_OFFLINE=1
else
  MODEL="${1:-Qwen/Qwen2.5-0.5B-Instruct}"
fi
if [ -d "$MODEL" ]; then  # serve names a directory's model by the directory's name
  MODEL="$(cd "$MODEL" && pwd)"
  MODEL_ID="$(basename "$MODEL")"
else
  MODEL_ID="$MODEL"
fi
WORK="$(mktemp -d -t tunebench-gpu-check-XXXXXX)"
LOG="$WORK/serve.log"
cd "$(dirname "$0")/.."

if [ "$DEVICE" = cuda ]; then
  command -v nvidia-smi >/dev/null \
    || { echo "gpu_check: nvidia-smi not found: no CUDA GPU here" >&2; exit 2; }
  "$PYTHON" -c 'import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)' \
    || { echo "gpu_check: torch sees no CUDA device (a CPU build of torch?)" >&2; exit 2; }
fi

STARTED=$SECONDS
"$PYTHON" -m tui serve --model "$MODEL" --device "$DEVICE" --port 0 --data-dir "$WORK/data" \
  >"$WORK/url" 2>"$LOG" &
SERVE=$!
SMI=""
stop() {
  [ -z "$SMI" ] || kill "$SMI" 2>/dev/null || true
  kill "$SERVE" 2>/dev/null || true
  wait "$SERVE" 2>/dev/null || true
}
trap stop EXIT
if [ "$DEVICE" = cuda ]; then
  nvidia-smi --query-gpu=memory.used --format=csv,noheader,nounits -l 1 >"$WORK/gpu-mem" &
  SMI=$!
fi

for _ in $(seq 1 600); do
  [ -s "$WORK/url" ] && break
  kill -0 "$SERVE" 2>/dev/null \
    || { echo "gpu_check: serve did not start:" >&2; tail -5 "$LOG" >&2; exit 1; }
  sleep 0.5
done
[ -s "$WORK/url" ] || { echo "gpu_check: serve gave no URL within 300 s" >&2; exit 1; }
URL="$(head -1 "$WORK/url")"
echo "serve: $URL ($MODEL on $DEVICE), work dir $WORK"
"$PYTHON" -m tui convert tui/emulator/demo/polish_grammar.txt -o "$WORK/train.jsonl" \
  --system "Popraw gramatykę zdania."

if ! "$PYTHON" scripts/serve_lifecycle.py "$URL" "$MODEL_ID" "$WORK/train.jsonl" \
  "$SERVE"; then
  echo "gpu_check: serve's log ($LOG) ends:" >&2
  tail -5 "$LOG" >&2
  exit 1
fi

if [ -n "$SMI" ]; then
  kill "$SMI" 2>/dev/null || true
  echo "peak GPU memory (nvidia-smi, whole device): $(sort -n "$WORK/gpu-mem" | tail -1) MiB"
fi
echo "gpu_check ($DEVICE): passed in $((SECONDS - STARTED)) s"
