#!/usr/bin/env bash
# Non-private pre-training of one study size on public data only (pretrain-gpt2.sh / pretrain-vit.sh
# call this): `clipwise train --no-dp` of the shape named in sizes.json, from random weights.
#   GPT-2: the public English corpus (DATA/corpus-train.txt; validation DATA/corpus-valid.txt) with a
#          GPT-2 subset vocabulary of the size's vocab_size fitted on that same public text;
#   ViT:   the public half of CIFAR-10's train split (DATA/cifar-public.tar.gz).
# The model lands in MODELS/FAMILY-SIZE (config.json, model.safetensors, tokenizer.json for GPT-2),
# outside the repository. The run folder is MODELS/runs/pretrain-FAMILY-SIZE; a run that was cut
# (e.g. by HALT=N, or the end of a GPU session) continues from its checkpoint when started again.
#
#   DATA=... MODELS=... apps/finetune/study/pretrain.sh gpt2|vit SIZE [extra clipwise train flags]
#
# Variables (defaults from sizes.json, for the GPU): STEPS, BATCH, LR, PHYS (micro-batch cap), BACKEND
# (webgpu), THREADS (wasm), HALT (stop after N steps of this call), CLIPWISE_CLI (default: the built CLI,
# else the CLI from the sources through vite-node, as on a device machine that carried no dist/).
set -euo pipefail
FAMILY=${1:?usage: pretrain.sh gpt2|vit SIZE}
SIZE=${2:?usage: pretrain.sh gpt2|vit SIZE}
shift 2
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../../.." && pwd)
DATA=${DATA:?set DATA to the folder that prepare-data.sh wrote}
MODELS=${MODELS:?set MODELS to the folder for the pre-trained models (outside the repository)}
if [ -f "$ROOT/apps/finetune/dist/cli.js" ]; then BUILT="node $ROOT/apps/finetune/dist/cli.js"
else BUILT="node $ROOT/node_modules/vite-node/vite-node.mjs --config $ROOT/apps/finetune/vitest.config.ts $ROOT/apps/finetune/bench/run-cli.ts --"; fi
CLI=${CLIPWISE_CLI:-$BUILT}
# one field of this size in sizes.json (z: the size, f: the family)
field() {
  node -e "const f=require('$HERE/sizes.json')['$FAMILY']; const z=f && f.sizes['$SIZE'];
    if (!z) { console.error('unknown $FAMILY size $SIZE' + (f ? ': sizes.json has ' + Object.keys(f.sizes).join(', ') : '')); process.exit(2); }
    console.log($1)"
}
PRESET=$(field z.preset)
CONFIG=$(field 'JSON.stringify(z.config)')
STEPS=${STEPS:-$(field z.pretrain.steps)}
BATCH=${BATCH:-$(field z.pretrain.batch)}
LR=${LR:-$(field z.pretrain.lr)}
PHYS=${PHYS:-$BATCH}
BACKEND=${BACKEND:-webgpu}
RUN=$MODELS/runs/pretrain-$FAMILY-$SIZE
DEST=$MODELS/$FAMILY-$SIZE

if [ "$FAMILY" = gpt2 ]; then
  DATA_FLAGS=(--tokenizer gpt2-subset --seq-len "$(field f.seqLen)" --data "$DATA/corpus-train.txt" --eval-data "$DATA/corpus-valid.txt" --eval-limit 64)
else
  DATA_FLAGS=(--data "$DATA/cifar-public.tar.gz" --eval-limit 1000)
fi
RESUME=()
[ -f "$RUN/checkpoint/manifest.json" ] && RESUME=(--resume)
if [ ! -f "$RUN/report/metrics.json" ]; then
  # shellcheck disable=SC2086 # CLI is a command line
  $CLI train --model "$PRESET" --model-config "$CONFIG" "${DATA_FLAGS[@]}" \
    --no-dp --sampling shuffle --steps "$STEPS" --batch-size "$BATCH" --max-physical-batch "$PHYS" \
    --optimizer adamw --lr "$LR" --schedule warmup-cosine --warmup $(( (STEPS + 19) / 20 )) --weight-decay 0.01 \
    --eval-every $(( (STEPS + 9) / 10 )) --seed 0 --backend "$BACKEND" ${THREADS:+--threads "$THREADS"} ${HALT:+--halt-after "$HALT"} \
    --out "$RUN" "${RESUME[@]}" "$@"
fi
if [ -f "$RUN/report/metrics.json" ]; then
  mkdir -p "$DEST"
  cp "$RUN/checkpoint/model/config.json" "$RUN/checkpoint/model/model.safetensors" "$DEST/"
  [ "$FAMILY" = gpt2 ] && cp "$RUN/checkpoint/tokenizer.json" "$DEST/tokenizer.json"
  cp "$RUN/evals.jsonl" "$DEST/pretraining-evals.jsonl"
  echo "wrote $DEST (run folder: $RUN)"
else
  echo "pre-training of $FAMILY-$SIZE not finished yet; run the same command again to continue it"
fi
