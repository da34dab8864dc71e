#!/usr/bin/env bash
# One device call of the group-wise study's GPT-2 family (issue 19): pre-trains the sizes not yet
# pre-trained (all at once, each cut at PRETRAIN_S seconds and continued by the next call), then runs the
# grid in passes, cheapest useful first, until about BUDGET seconds have gone; every pass is resumable
# (finished cells are in .study/study.jsonl and skipped), so the same command in the next call goes on.
#   bash apps/finetune/study/gpu-study.sh OUT [BUDGET]
# From the repository root on the device machine, carrying [".gpu", ".study", "packages/core/dist"], with
# .study/gpt2-data.tar.xz made beforehand (docs/group-wise-study.md: prepare-data.sh gpt2, then tar).
# Files in .study/ stay on the machine between calls while it is held; each call copies the results and
# the pre-training logs to OUT. Variables: SIZES (default s1m,s4m,s12m), PRETRAIN_S (300), JOBS (6),
# ENTER (default .gpu/enter.sh), EXTRA (more flags for every pass, e.g. a toy grid on a CPU), STEPS_<size>
# (that size's pre-training steps, where a session cannot fit sizes.json's).
# Everything comes back as one file, OUT/study.tgz, packed after each stage (a device call returns at
# most 8 files: the second GPU call lost its study.jsonl, its ninth).
set -uo pipefail
dest=${1:?usage: gpu-study.sh OUT [BUDGET]}
budget=${2:-480}
mkdir -p "$dest"
out=$(mktemp -d)/study
mkdir -p "$out"
save() { tar czf "$dest/study.tgz" -C "$(dirname "$out")" study; }
t0=$(date +%s)
left() { echo $((budget - ($(date +%s) - t0))); }
source "${ENTER:-.gpu/enter.sh}" > "$out/enter.log" 2>&1 || { cat "$out/enter.log"; exit 1; }
nvidia-smi --query-gpu=name,clocks.sm,memory.used --format=csv,noheader 2>/dev/null
S=.study
[ -f $S/data/e2e-fit.csv ] || tar -xJf $S/gpt2-data.tar.xz -C $S
SIZES=${SIZES:-s1m,s4m,s12m}
have() { [ -f "$S/models/gpt2-$1/model.safetensors" ]; }
for size in ${SIZES//,/ }; do
  have "$size" && continue
  steps=STEPS_${size//[.-]/_} # STEPS_s12m=2500: fewer pre-training steps for that size than sizes.json's
  ( STEPS=${!steps:-} DATA=$S/data MODELS=$S/models timeout "${PRETRAIN_S:-300}" apps/finetune/study/pretrain-gpt2.sh "$size" > "$out/pretrain-$size.log" 2>&1 ) &
done
wait
for size in ${SIZES//,/ }; do
  echo "pre-training $size: $(grep -h 'eval @\|wrote\|not finished' "$out/pretrain-$size.log" 2>/dev/null | tail -2 | tr '\n' ' ')"
  cp "$S/models/gpt2-$size/pretraining-evals.jsonl" "$out/pretraining-evals-$size.jsonl" 2>/dev/null
done
ready=$(for size in ${SIZES//,/ }; do have "$size" && printf '%s,' "$size"; done)
ready=${ready%,}
echo "pre-trained: ${ready:-none}; $(left) s left"
save
# the passes: all-layer against layer-wise first (the claim), one seed over the lr grid, then the other
# seeds, then the other two groupings
PASSES=(
  "--groupings all-layer,layer-wise --epsilons 8 --seeds 0"
  "--groupings all-layer,layer-wise --epsilons 3 --seeds 0"
  "--groupings all-layer,layer-wise --epsilons 8 --seeds 1,2"
  "--groupings all-layer,layer-wise --epsilons 3 --seeds 1,2"
  "--groupings uniform:4,layer-wise-adaptive --epsilons 8 --seeds 0,1,2"
  "--groupings uniform:4,layer-wise-adaptive --epsilons 3 --seeds 0,1,2"
)
if [ -n "$ready" ]; then
  for pass in "${PASSES[@]}"; do
    minutes=$(( ($(left) - 60) / 60 ))
    [ "$minutes" -lt 1 ] && break
    # shellcheck disable=SC2086 # a pass is a list of flags
    node node_modules/vite-node/vite-node.mjs --config apps/finetune/study/vitest.config.ts apps/finetune/study/run-study.ts -- --family gpt2 --sizes "$ready" $pass --data $S/data --models $S/models --runs $S/runs \
      --results $S/study.jsonl --backend webgpu --jobs "${JOBS:-6}" --stop-after-min "$minutes" ${EXTRA:-} 2>&1 | grep -v '^Warning' | tee -a "$out/study.log" | grep -v '^done' | tail -3
    grep -c '"kind":"cell"' $S/study.jsonl
    cp $S/study.jsonl "$out/study.jsonl"
    # the last lines of each failed cell's log (the failure's cause)
    grep -o 'see [^)]*cell\.log' "$out/study.log" | cut -c5- | sort -u | while read -r f; do echo "== $f"; tail -n 15 "$f"; done > "$out/failed-cells.log" 2>&1
    save
  done
fi
cp $S/study.jsonl "$out/study.jsonl" 2>/dev/null
tar czf "$out/bench-logs.tgz" $S/runs/bench-* 2>/dev/null
save
echo "$(left) s of $budget left; results in $dest/study.tgz"
