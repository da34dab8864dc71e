#!/usr/bin/env bash
# One device call that checks and measures everything GPU-facing, for a session with the H200:
# test:gpu, then Clipwise beside PyTorch/fastDP/Opacus for GPT-2 small and ViT-B/16 (gpu-compare.sh),
# the before/after of the size-class pool and of the fused ghost-norm kernel, and the matmul tiles.
# From the repository root on the device, after `source .gpu/enter.sh`, with fastDP's and Opacus's
# sources under .refsrc/ (see gpu-compare.sh):
#   bash packages/memory/bench/gpu-session.sh OUT_DIR
# Writes logs and tables under OUT_DIR (tar it into $OUT: only a few files come back).
# Too long for one call (10 minutes a call): run it in pieces. On 2026-12-05 a fresh machine took about
# 450 s of the session's 1800 s device budget to start, and one is given back after 30 s idle: keep the
# calls back to back.
set -uo pipefail
out=${1:?output folder}
mkdir -p "$out"
V=(node node_modules/vite-node/vite-node.mjs --config apps/finetune/vitest.config.ts)
timeout 240 node tooling/scripts/test-gpu.mjs > "$out/test-gpu.log" 2>&1
echo "test:gpu rc=$?"; grep -A12 '^| workspace' "$out/test-gpu.log"
timeout 300 bash packages/memory/bench/gpu-compare.sh gpt2 "$out" --groupings all-layer,layer-wise,param-wise,uniform:4 --reps 5 --kernels 40 > "$out/gpt2.log" 2>&1
grep -A7 '^| configuration' "$out/bench-gpt2.txt"; cut -c1-220 "$out/ref-gpt2.jsonl"
timeout 240 bash packages/memory/bench/gpu-compare.sh vit "$out" --groupings all-layer,layer-wise --reps 3 --kernels 40 > "$out/vit.log" 2>&1
grep -A5 '^| configuration' "$out/bench-vit.txt"; cut -c1-220 "$out/ref-vit.jsonl"
# before/after of the layer-norm record compaction (all-layer memory; two launches more per layer norm)
for m in "--model gpt2 --batch-size 16 --seq-len 128" "--model vit-base-16 --batch-size 32"; do
  timeout 120 "${V[@]}" apps/finetune/bench/run-cli.ts -- bench --backend webgpu $m --optimizer adamw --groupings all-layer --reps 3 --compact-records off > "$out/compact-off.txt" 2>&1
  grep -A4 '^| trainable' "$out/compact-off.txt"
done
# before/after of earlier GPU changes
timeout 120 "${V[@]}" apps/finetune/bench/run-cli.ts -- bench --backend webgpu --model vit-base-16 --batch-size 32 --groupings all-layer --reps 3 --pool exact > "$out/vit-pool-exact.txt" 2>&1
grep -A4 '^| configuration' "$out/vit-pool-exact.txt"
for m in "--model gpt2 --batch-size 16 --seq-len 128" "--model vit-base-16 --batch-size 32"; do
  timeout 120 "${V[@]}" apps/finetune/bench/run-cli.ts -- bench --backend webgpu $m --groupings all-layer --reps 3 --ghost-kernel matmul > "$out/ghost-matmul.txt" 2>&1
  grep -A4 '^| configuration' "$out/ghost-matmul.txt"
done
timeout 100 "${V[@]}" apps/finetune/bench/matmul-tiles.ts -- --reps 5 > "$out/matmul.txt" 2>&1; cat "$out/matmul.txt"
# peft-format LoRA fixture (torch + transformers, float64): copy OUT/fixtures/lora-* to packages/models/__fixtures__/
timeout 120 python3 packages/models/scripts/make_lora_fixture.py --out "$out/fixtures" > "$out/lora-fixture.log" 2>&1
echo "lora fixture rc=$?"; tail -6 "$out/lora-fixture.log"
