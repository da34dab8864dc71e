#!/usr/bin/env bash
# Re-makes the demo's pretrained model, apps/finetune/assets/pretrained-shakespeare-byte/, with the
# project's own CLI: a non-private `clipwise train --no-dp` of the gpt2-tiny preset (byte tokenizer) on
# public text, tiny Shakespeare (Karpathy's char-rnn `input.txt`, 1,115,394 bytes).
#
#   npm run build                                   # the CLI in apps/finetune/dist
#   apps/finetune/scripts/make-demo-model.sh PATH/TO/tinyshakespeare.txt
#
# The first 1,000,000 bytes train, the rest (115,394 bytes) is the validation text. About 90 minutes on
# one CPU core (wasm backend). Set CLIPWISE_CLI to run another build of the CLI (e.g. "node my/cli.js").
set -euo pipefail

TEXT=${1:?usage: make-demo-model.sh PATH/TO/tinyshakespeare.txt}
HERE=$(cd "$(dirname "$0")" && pwd)
APP=$(dirname "$HERE")
CLI=${CLIPWISE_CLI:-node $APP/dist/cli.js}
DEST=$APP/assets/pretrained-shakespeare-byte
WORK=$(mktemp -d "${TMPDIR:-/tmp}/clipwise-pretrain-XXXXXX")

head -c 1000000 "$TEXT" > "$WORK/train.txt"
tail -c +1000001 "$TEXT" > "$WORK/valid.txt"

# shellcheck disable=SC2086 # CLI is a command line
$CLI train --model gpt2-tiny --tokenizer byte --seq-len 256 \
  --data "$WORK/train.txt" --eval-data "$WORK/valid.txt" --eval-limit 128 \
  --no-dp --steps 1500 --batch-size 16 --optimizer adamw --lr 1e-2 --schedule warmup-cosine --warmup 50 \
  --seed 0 --backend wasm --out "$WORK/run"

mkdir -p "$DEST"
cp "$WORK/run/checkpoint/model/config.json" "$WORK/run/checkpoint/model/model.safetensors" "$DEST/"
cp "$WORK/run/report/metrics.json" "$DEST/pretraining-metrics.json"
echo "wrote $DEST (run folder: $WORK/run)"
