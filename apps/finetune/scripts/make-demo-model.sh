#!/usr/bin/env bash
# Re-makes the demo's pretrained model, apps/finetune/assets/pretrained-public-bpe4k/, with the
# project's own CLI: a non-private `clipwise train --no-dp` of a small GPT-2 (3 layers, d = 128,
# 4 heads) with a 4,096-token GPT-2 subset vocabulary (--tokenizer gpt2-subset, fitted on the same
# public text), on public English text only (scripts/make-public-corpus.sh: tiny Shakespeare, the
# Debian Reference, GCIDE definitions). No E2E data is used, tokenizer included.
#
#   npm run build                                   # the CLI in apps/finetune/dist
#   apps/finetune/scripts/make-demo-model.sh PATH/TO/tinyshakespeare.txt
#
# The first 5,000,000 bytes of the corpus train, the rest is the validation text. 600 steps of
# 16 × 176 tokens: 52 minutes on one core of the 2-core dev VM shared with other jobs (wasm, niced).
# Set CLIPWISE_CLI to run another build of the CLI (e.g. "node my/cli.js").
set -euo pipefail

TEXT=${1:?usage: make-demo-model.sh PATH/TO/tinyshakespeare.txt}
HERE=$(cd "$(dirname "$0")" && pwd)
APP=$(dirname "$HERE")
CLI=${CLIPWISE_CLI:-node $APP/dist/cli.js}
DEST=$APP/assets/pretrained-public-bpe4k
WORK=${WORK:-$(mktemp -d "${TMPDIR:-/tmp}/clipwise-pretrain-XXXXXX")}

"$HERE/make-public-corpus.sh" "$TEXT" "$WORK/corpus.txt"
head -c 5000000 "$WORK/corpus.txt" > "$WORK/train.txt"
tail -c +5000001 "$WORK/corpus.txt" > "$WORK/valid.txt"

# shellcheck disable=SC2086 # CLI is a command line
$CLI train --model gpt2-tiny --model-config '{"n_embd":128,"n_layer":3,"n_head":4,"vocab_size":4096}' \
  --tokenizer gpt2-subset --seq-len 176 \
  --data "$WORK/train.txt" --eval-data "$WORK/valid.txt" --eval-limit 32 --eval-every 100 \
  --no-dp --steps 600 --batch-size 16 --optimizer adamw --lr 5e-3 --schedule warmup-cosine --warmup 30 \
  --seed 0 --backend wasm --out "$WORK/run"

mkdir -p "$DEST"
cp "$WORK/run/checkpoint/model/config.json" "$WORK/run/checkpoint/model/model.safetensors" "$DEST/"
cp "$WORK/run/checkpoint/tokenizer.json" "$DEST/tokenizer.json"
cp "$WORK/run/evals.jsonl" "$DEST/pretraining-evals.jsonl"
echo "wrote $DEST (run folder: $WORK/run)"
