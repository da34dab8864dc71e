#!/usr/bin/env bash
# The wasm step before and after a change, in one run on one machine: the demo's model shape and the
# old demo's, layer-wise, each configuration in its own process, before/after/before/after.
#
#   bash packages/memory/bench/wasm-before-after.sh PATH/TO/BEFORE_CHECKOUT [ROUNDS]
#
# BEFORE_CHECKOUT is a built clone or worktree of the "before" commit (`npm ci && npm run build` in
# it); "after" is this checkout, built. Prints each run's table rows; compare within a round.
set -euo pipefail
BEFORE=${1:?usage: wasm-before-after.sh PATH/TO/BEFORE_CHECKOUT [ROUNDS]}
ROUNDS=${2:-2}
AFTER=$(cd "$(dirname "$0")/../../.." && pwd)
DEMO='{"n_embd":128,"n_layer":3,"n_head":4,"vocab_size":4096}'
bench() { (cd "$1" && node apps/finetune/dist/cli.js bench --backend wasm --model gpt2-tiny "${@:2}" --groupings layer-wise 2>&1 | grep -v Warning | tail -2); }
for round in $(seq "$ROUNDS"); do
  for which in before after; do
    dir=$BEFORE; [ "$which" = after ] && dir=$AFTER
    echo "== $which ($round), demo shape, $(date +%T), load $(cut -d' ' -f1 /proc/loadavg)"
    bench "$dir" --model-config "$DEMO" --batch-size 32 --seq-len 176 --reps 1
    echo "== $which ($round), old demo shape, $(date +%T), load $(cut -d' ' -f1 /proc/loadavg)"
    bench "$dir" --batch-size 32 --seq-len 256 --reps 3
  done
done
