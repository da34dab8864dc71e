#!/usr/bin/env bash
# The app README's results table: private fine-tuning at ε ∈ {1, 3, 8} (δ = 1e-5) with all-layer and
# layer-wise clipping, on the webgpu backend, the six runs of a task at once (one process each).
#
#   apps/finetune/scripts/gpu-results.sh DATA OUT pretrain-vit   # non-private ViT pre-training on the public half
#   apps/finetune/scripts/gpu-results.sh DATA OUT e2e            # GPT-2 (Shakespeare-pretrained) on E2E
#   apps/finetune/scripts/gpu-results.sh DATA OUT vit            # the pre-trained ViT on the private half
#
# DATA holds: e2e/devset.csv, e2e/testset_w_refs.csv, gpt2-shakespeare/ (the shipped demo model),
# cifar-public.tar.gz and cifar-private.tar.gz (scripts/split-cifar.py), and for `vit` the
# pre-trained model in vit-public/ (OUT/vit-pretrain/checkpoint/model of the first phase).
# CLIPWISE_CLI overrides how the CLI is run (default: from source through vite-node).
set -uo pipefail
DATA=${1:?DATA} OUT=${2:?OUT} PHASE=${3:?phase}
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
      run "e2e-$g-eps$eps" --model "$DATA/gpt2-shakespeare" --tokenizer byte --seq-len 256 --task e2e \
        --data "$DATA/e2e/devset.csv" --eval-data "$DATA/e2e/testset_w_refs.csv" --eval-limit 200 --gen-limit 20 --gen-tokens 96 \
        --epsilon $eps --delta 1e-5 --grouping $g --clip-norm 1 --steps 100 --batch-size 128 --max-physical-batch 64 \
        --optimizer adamw --lr 5e-3 --schedule warmup-cosine --warmup 5 --eval-every 100000 --backend webgpu --seed 0
    done; done ;;
  vit)
    for eps in 1 3 8; do for g in all-layer layer-wise; do
      run "vit-$g-eps$eps" --model "$DATA/vit-public" --data "$DATA/cifar-private.tar.gz" --eval-limit 2000 \
        --epsilon $eps --delta 1e-5 --grouping $g --clip-norm 1 --steps 100 --batch-size 256 --max-physical-batch 128 \
        --optimizer adamw --lr 2e-3 --schedule warmup-cosine --warmup 5 --eval-every 100000 --backend webgpu --seed 0
    done; done ;;
  *) echo "unknown phase $PHASE" >&2; exit 2 ;;
esac
wait
grep -h " exit " "$OUT"/*.log
