#!/usr/bin/env bash
# Clipwise against PyTorch, fastDP and Opacus in one call on the GPU machine: `clipwise bench`
# (webgpu, AdamW) and packages/memory/bench/reference_step.py for the same model, batch and precision.
# From the repository root, after `source .gpu/enter.sh` (see the team's gpu/README.md), with the
# fastDP and Opacus sources (not committed) unpacked under REFSRC (default .refsrc: fastdp/fastDP,
# opacus/opacus):
#   bash packages/memory/bench/gpu-compare.sh gpt2 OUT_DIR [extra clipwise bench flags]
#   bash packages/memory/bench/gpu-compare.sh vit OUT_DIR
# Writes OUT_DIR/bench-MODEL.{txt,json} and OUT_DIR/ref-MODEL.jsonl; prints both.
set -uo pipefail
model=${1:?model: gpt2 or vit}
out=${2:?output folder}
shift 2
mkdir -p "$out"
refsrc=${REFSRC:-.refsrc}
case "$model" in
  gpt2) bench=(--model gpt2 --batch-size 16 --seq-len 128) ;;
  # the references time timm's ViT, which holds q|k|v as one projection: ours packed the same way
  vit) bench=(--model vit-base-16 --batch-size 32 --vit-qkv packed) ;;
  *) echo "gpu-compare.sh: model must be gpt2 or vit, got '$model'" >&2; exit 2 ;;
esac
node node_modules/vite-node/vite-node.mjs --config apps/finetune/vitest.config.ts apps/finetune/bench/run-cli.ts -- \
  bench --backend webgpu "${bench[@]}" --optimizer adamw --json "$out/bench-$model.json" "$@" 2>&1 | grep -v '^Warning' | tee "$out/bench-$model.txt"
for mode in torch fastdp-all-layer fastdp-layer-wise opacus; do
  PYTHONPATH="$refsrc/fastdp:$refsrc/opacus${PYTHONPATH:+:$PYTHONPATH}" python3 packages/memory/bench/reference_step.py --model "$model" --mode "$mode" 2>>"$out/ref-$model.err"
done | tee "$out/ref-$model.jsonl"
