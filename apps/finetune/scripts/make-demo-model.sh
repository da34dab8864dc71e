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
# Two stages. 1: the first 5,000,000 bytes of the corpus train, the rest is the validation text; 600
# steps of 16 × 176 tokens (52 minutes on one core of the 2-core dev VM shared with other jobs, wasm,
# niced). 2: from stage 1, STAGE2_STEPS steps of 32 × 176 tokens on the same text plus synthetic
# attribute-to-sentence records made from public words (scripts/make-copy-records.mjs), which teach
# the model to copy bracketed values into prose; evaluated on held-out records. STAGE1=DIR skips
# stage 1 and continues from that model folder (e.g. a copy of the shipped one).
# Set CLIPWISE_CLI to run another build of the CLI (e.g. "node my/cli.js").
set -euo pipefail

TEXT=${1:?usage: make-demo-model.sh PATH/TO/tinyshakespeare.txt}
HERE=$(cd "$(dirname "$0")" && pwd)
APP=$(dirname "$HERE")
CLI=${CLIPWISE_CLI:-node $APP/dist/cli.js}
DEST=$APP/assets/pretrained-public-bpe4k
WORK=${WORK:-$(mktemp -d "${TMPDIR:-/tmp}/clipwise-pretrain-XXXXXX")}
STAGE2_STEPS=${STAGE2_STEPS:-1500}

"$HERE/make-public-corpus.sh" "$TEXT" "$WORK/corpus.txt"
head -c 5000000 "$WORK/corpus.txt" > "$WORK/train.txt"
tail -c +5000001 "$WORK/corpus.txt" > "$WORK/valid.txt"

if [ -z "${STAGE1:-}" ]; then
  # shellcheck disable=SC2086 # CLI is a command line
  $CLI train --model gpt2-tiny --model-config '{"n_embd":128,"n_layer":3,"n_head":4,"vocab_size":4096}' \
    --tokenizer gpt2-subset --seq-len 176 \
    --data "$WORK/train.txt" --eval-data "$WORK/valid.txt" --eval-limit 32 --eval-every 100 \
    --no-dp --steps 600 --batch-size 16 --optimizer adamw --lr 5e-3 --schedule warmup-cosine --warmup 30 \
    --seed 0 --backend wasm --out "$WORK/run"
  STAGE1=$WORK/stage1
  mkdir -p "$STAGE1"
  cp "$WORK/run/checkpoint/model/config.json" "$WORK/run/checkpoint/model/model.safetensors" "$WORK/run/checkpoint/tokenizer.json" "$STAGE1/"
  cp "$WORK/run/evals.jsonl" "$WORK/stage1-evals.jsonl"
fi

# stage 2: the corpus plus copy records (GCIDE's words, Shakespeare's names), held-out records to evaluate
(cd "$WORK" && apt-get download dict-gcide >/dev/null && dpkg-deb -x dict-gcide_*.deb gcide)
node "$HERE/make-copy-records.mjs" "$WORK/corpus.txt" "$WORK/gcide/usr/share/dictd/gcide.dict.dz" 40500 1 > "$WORK/records.txt"
head -n 40000 "$WORK/records.txt" | cat "$WORK/train.txt" - > "$WORK/train2.txt"
tail -n 500 "$WORK/records.txt" > "$WORK/valid2.txt"
# shellcheck disable=SC2086 # CLI is a command line
$CLI train --model "$STAGE1" --seq-len 176 \
  --data "$WORK/train2.txt" --eval-data "$WORK/valid2.txt" --eval-limit 32 --eval-every 250 \
  --no-dp --steps "$STAGE2_STEPS" --batch-size 32 --max-physical-batch 32 --optimizer adamw --lr 3e-3 --schedule warmup-cosine --warmup 50 \
  --seed 1 --backend wasm --out "$WORK/run2"

mkdir -p "$DEST"
cp "$WORK/run2/checkpoint/model/config.json" "$WORK/run2/checkpoint/model/model.safetensors" "$DEST/"
cp "$WORK/run2/checkpoint/tokenizer.json" "$DEST/tokenizer.json"
[ -f "$WORK/stage1-evals.jsonl" ] && cp "$WORK/stage1-evals.jsonl" "$DEST/pretraining-evals.jsonl"
cp "$WORK/run2/evals.jsonl" "$DEST/pretraining-stage2-evals.jsonl"
echo "wrote $DEST (run folders: $WORK/run, $WORK/run2)"
