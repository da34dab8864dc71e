#!/usr/bin/env bash
# The app README's results table: private fine-tuning at ε ∈ {1, 3, 8} (δ = 1e-5) with all-layer and
# layer-wise clipping, on the webgpu backend, the six runs of a task at once (one process each).
#
#   apps/finetune/scripts/gpu-results.sh DATA OUT pretrain-vit   # non-private ViT pre-training on the public half
#   apps/finetune/scripts/gpu-results.sh DATA OUT e2e            # GPT-2 (Shakespeare-pretrained) on E2E
#   apps/finetune/scripts/gpu-results.sh DATA OUT vit            # the pre-trained ViT on the private half
#   apps/finetune/scripts/gpu-results.sh DATA OUT e2e bias       # the same six runs, DP-BiTFiT (also: vit bias)
#   apps/finetune/scripts/gpu-results.sh DATA OUT e2e lora:16    # ... LoRA of rank 16 (α = 2r) on the default targets
#   apps/finetune/scripts/gpu-results.sh DATA OUT e2e lora-all:16  # ... LoRA of rank 16 on every linear layer (--lora-targets all-linear)
#
# The 4th argument, the trainable mode (default all: full fine-tuning), scales the learning rate:
# bias ×10 and LoRA ×4, the ratios that did best in the wasm pilot of the demo (apps/finetune/README.md).
#
# DATA holds: e2e/devset.csv, e2e/testset_w_refs.csv, gpt2-shakespeare/ (the shipped demo model),
# cifar-public.tar.gz and cifar-private.tar.gz (scripts/split-cifar.py), and for `vit` the
# pre-trained model in vit-public/ (OUT/vit-pretrain/checkpoint/model of the first phase).
# CLIPWISE_CLI overrides how the CLI is run (default: from source through vite-node).
set -uo pipefail
DATA=${1:?DATA} OUT=${2:?OUT} PHASE=${3:?phase} MODE=${4:-all}
case $MODE in
  all) PEFT=(); LR_SCALE=1; TAG= ;;
  bias) PEFT=(--trainable bias); LR_SCALE=10; TAG=-bias ;;
  lora:*) R=${MODE#lora:}; PEFT=(--lora-rank "$R" --lora-alpha $((2 * R))); LR_SCALE=4; TAG=-lora$R ;;
  lora-all:*) R=${MODE#lora-all:}; PEFT=(--lora-rank "$R" --lora-alpha $((2 * R)) --lora-targets all-linear); LR_SCALE=4; TAG=-lora$R-all ;;
  *) echo "unknown mode $MODE (all, bias, lora:R, lora-all:R)" >&2; exit 2 ;;
esac
lr() { awk -v a="$1" -v s="$LR_SCALE" 'BEGIN { printf "%g", a * s }'; }
CLI=${CLIPWISE_CLI:-node node_modules/vite-node/vite-node.mjs --config apps/finetune/vitest.config.ts apps/finetune/bench/run-cli.ts --}
mkdir -p "$OUT"
run() { # name, args...
  local name=$1; shift
  # shellcheck disable=SC2086
  ( t0=$(date +%s); $CLI train "$@" --out "$OUT/$name" > "$OUT/$name.log" 2>&1; rc=$?; echo "$name exit $rc wall $(( $(date +%s) - t0 )) s" >> "$OUT/$name.log" ) &
}
case $PHASE in
  pretrain-vit)
    run vit-pretrain --model vit-mini --data "$DATA/cifar-public.tar.gz" --no-dp --steps 400 --batch-size 128 --sampling shuffle \
      --optimizer adamw --lr 1e-3 --schedule warmup-cosine --warmup 20 --eval-limit 1000 --eval-every 100 --backend webgpu --seed 0 ;;
  e2e)
    for eps in 1 3 8; do for g in all-layer layer-wise; do
      run "e2e$TAG-$g-eps$eps" "${PEFT[@]}" --model "$DATA/gpt2-shakespeare" --tokenizer byte --seq-len 256 --task e2e \
        --data "$DATA/e2e/devset.csv" --eval-data "$DATA/e2e/testset_w_refs.csv" --eval-limit 200 --gen-limit 20 --gen-tokens 96 \
        --epsilon $eps --delta 1e-5 --grouping $g --clip-norm 1 --steps 100 --batch-size 128 --max-physical-batch 64 \
        --optimizer adamw --lr "$(lr 5e-3)" --schedule warmup-cosine --warmup 5 --eval-every 100000 --backend webgpu --seed 0
    done; done ;;
  vit)
    for eps in 1 3 8; do for g in all-layer layer-wise; do
      run "vit$TAG-$g-eps$eps" "${PEFT[@]}" --model "$DATA/vit-public" --data "$DATA/cifar-private.tar.gz" --eval-limit 2000 \
        --epsilon $eps --delta 1e-5 --grouping $g --clip-norm 1 --steps 100 --batch-size 256 --max-physical-batch 128 \
        --optimizer adamw --lr "$(lr 2e-3)" --schedule warmup-cosine --warmup 5 --eval-every 100000 --backend webgpu --seed 0
    done; done ;;
  *) echo "unknown phase $PHASE" >&2; exit 2 ;;
esac
wait
grep -h " exit " "$OUT"/*.log
