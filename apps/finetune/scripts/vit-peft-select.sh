#!/usr/bin/env bash
# ViT at ε = 8 (issue #15; EPSILON sets another): full fine-tuning against LoRA on every linear layer with the classifier
# trained beside it, each with its learning rate picked on validation, then both over five seeds on
# the test split. On the webgpu backend; the runs of a phase at once (one process each).
#
#   apps/finetune/scripts/vit-peft-select.sh DATA OUT
#
# DATA: cifar-public.tar.gz and cifar-private.tar.gz (scripts/split-cifar.py); missing pieces are made:
# DATA/vit-public/ (vit-mini pre-trained on the public half, 400 non-private steps, as the app README's
# results) and cifar-private-fit/-val.tar.gz (study/split-cifar-val.py: every 10th image of a class
# is validation). Phases:
#   select  full fine-tuning (all-layer) at lr 1e-3, 2e-3, 4e-3; LoRA r = 16, α = 32, all-linear, with
#           the classifier (modules_to_save), layer-wise and all-layer, at lr 2e-3, 4e-3, 8e-3, 1.6e-2:
#           trained on the fit part, scored on validation (the test split picks nothing)
#   test    the best of each family (validation accuracy) on the whole private half, seeds 0-4, scored
#           on 2,000 test images; then the table (scripts/peft-pick.mjs)
# CLIPWISE_CLI overrides how the CLI is run (default: from source through vite-node).
# CIFAR=ARCHIVE: make DATA's halves from the team's cifar10-jpeg.tar.gz first (the app README's split:
# 1,000 public and 500 private images a class, 200 test images a class). PRETRAINED=DIR: start from that
# pre-trained vit-mini instead of pre-training one here, e.g. the group-wise study's s0.5m (the same
# shape, pre-trained on all of the public half, disjoint from the private half: 59% against 42%).
# FULL_LRS, LORA_LRS (space-separated) and EPSILON override the grids and the budget (defaults below);
# peft-pick.mjs notes a pick on the edge of its grid.
# WORK=DIR: the runs' folders and logs go there instead of OUT, and OUT gets picks.txt, results.txt and
# runs.tgz (every run's log and report/metrics.json): three files, for a device that returns only a few.
# VIT_TASK=transfer (with CIFAR): the class-disjoint task of the group-wise study instead of the halves
# (airplane to deer public, 2,000 images a class; dog to truck private, 1,000 a class, tested on 2,000 of
# their test images; every run starts a fresh 5-class head, --new-head), where fine-tuning has
# something to learn: on the halves task the pre-trained model already scores what fine-tuning reaches
# (apps/finetune/README.md).
set -uo pipefail
DATA=${1:?DATA} OUT=${2:?OUT}
mkdir -p "$DATA"
case "${VIT_TASK:-halves}" in
  halves) SPLIT=(--public-limit 1000 --private-limit 500) HEAD=() ;;
  transfer) SPLIT=(--public-limit 2000 --private-limit 1000 --test-limit 400 --transfer) HEAD=(--new-head) ;;
  *) echo "vit-peft-select.sh: VIT_TASK must be halves or transfer, got $VIT_TASK" >&2; exit 2 ;;
esac
if [ -n "${CIFAR:-}" ] && [ ! -f "$DATA/cifar-private.tar.gz" ]; then
  python3 "$(dirname "$0")/split-cifar.py" "$CIFAR" "$DATA" "${SPLIT[@]}" || exit 1
fi
if [ -n "${PRETRAINED:-}" ] && [ ! -f "$DATA/vit-public/config.json" ]; then
  mkdir -p "$DATA/vit-public" && cp "$PRETRAINED/config.json" "$PRETRAINED/model.safetensors" "$DATA/vit-public/" || exit 1
fi
CLI=${CLIPWISE_CLI:-node node_modules/vite-node/vite-node.mjs --config apps/finetune/vitest.config.ts apps/finetune/bench/run-cli.ts --}
HERE=$(dirname "$0")
WORK=${WORK:-$OUT}
mkdir -p "$OUT" "$WORK"
run() { # name, args...
  local name=$1; shift
  # shellcheck disable=SC2086
  ( t0=$(date +%s); $CLI train "$@" --out "$WORK/$name" > "$WORK/$name.log" 2>&1; echo "$name exit $? wall $(( $(date +%s) - t0 )) s" >> "$WORK/$name.log" ) &
}
PRIVATE=(--epsilon "${EPSILON:-8}" --delta 1e-5 --clip-norm 1 --steps 100 --batch-size 256 --max-physical-batch 128 --optimizer adamw
  --schedule warmup-cosine --warmup 5 --eval-every 100000 --backend webgpu "${HEAD[@]}")
LORA=(--lora-rank 16 --lora-alpha 32 --lora-targets all-linear --lora-modules-to-save classifier)
if [ ! -f "$DATA/vit-public/config.json" ]; then
  $CLI train --model vit-mini --data "$DATA/cifar-public.tar.gz" --no-dp --steps 400 --batch-size 128 --sampling shuffle \
    --optimizer adamw --lr 1e-3 --schedule warmup-cosine --warmup 20 --eval-limit 1000 --eval-every 400 --backend webgpu --seed 0 \
    --out "$WORK/vit-pretrain" > "$WORK/vit-pretrain.log" 2>&1 || { tail -5 "$WORK/vit-pretrain.log"; exit 1; }
  mkdir -p "$DATA/vit-public" && cp "$WORK/vit-pretrain/checkpoint/model/"* "$DATA/vit-public/"
fi
[ -f "$DATA/cifar-private-val.tar.gz" ] || python3 "$HERE/../study/split-cifar-val.py" "$DATA/cifar-private.tar.gz" "$DATA"
# select
FIT=(--model "$DATA/vit-public" --data "$DATA/cifar-private-fit.tar.gz" --eval-data "$DATA/cifar-private-val.tar.gz" --seed 0)
for lr in ${FULL_LRS:-1e-3 2e-3 4e-3}; do run "select-full-all-layer-lr$lr" "${FIT[@]}" "${PRIVATE[@]}" --grouping all-layer --lr $lr; done
for g in layer-wise all-layer; do for lr in ${LORA_LRS:-2e-3 4e-3 8e-3 1.6e-2}; do
  run "select-lora-$g-lr$lr" "${FIT[@]}" "${PRIVATE[@]}" "${LORA[@]}" --grouping $g --lr $lr
done; done
wait
node "$HERE/peft-pick.mjs" select "$WORK" > "$OUT/picks.txt" || exit 1
cat "$OUT/picks.txt"
# test: the picks, five seeds each
TEST=(--model "$DATA/vit-public" --data "$DATA/cifar-private.tar.gz" --eval-limit 2000)
while read -r family grouping lr; do
  extra=(); [ "$family" = lora ] && extra=("${LORA[@]}")
  for seed in 0 1 2 3 4; do run "test-$family-$grouping-lr$lr-s$seed" "${TEST[@]}" "${PRIVATE[@]}" "${extra[@]}" --grouping "$grouping" --lr "$lr" --seed $seed; done
done < <(grep '^pick ' "$OUT/picks.txt" | cut -d' ' -f2-)
wait
node "$HERE/peft-pick.mjs" test "$WORK" | tee "$OUT/results.txt"
if [ "$WORK" != "$OUT" ]; then
  (cd "$WORK" && { find . -maxdepth 1 -name '*.log'; find . -path '*/report/metrics.json'; } | tar -czf - -T -) > "$OUT/runs.tgz"
fi
