#!/usr/bin/env bash
# One device call of the group-wise study (issue 19), one family (FAMILY=gpt2, the default, or vit):
# pre-trains the sizes not yet pre-trained (all at once, each cut at PRETRAIN_S seconds and continued by
# the next call on the same machine), then runs the grid in passes, cheapest useful first, until BUDGET
# seconds have gone; every pass is resumable (finished cells are in WORK/study.jsonl and skipped), so
# the same command in the next call goes on.
#   bash apps/finetune/study/gpu-study.sh OUT [BUDGET]
# From the repository root on the device machine. Inputs travel in a folder of their own (carry it):
#   gpt2: .study/gpt2-data.tar.xz (docs/group-wise-study.md: prepare-data.sh gpt2, then tar);
#   vit:  .study-vit/cifar10-jpeg.tar.gz (the team's archive; prepare-data.sh splits it here, with python3).
# gpt2: carry [".gpu", ".study", "packages/core/dist"]. vit: that is over a call's 64 MiB (.gpu 49 MB,
# the archive 20, the working tree 10), so carry .gpu in an earlier call on the same machine (an
# ignored folder not named in carry stays there), then [".study-vit", "packages/core/dist"].
# The work (data unpacked, models, runs, WORK/study.jsonl) is in WORK (default .study-work, ignored),
# not in the inputs' folder: a call that carries a folder replaces it on the machine. It stays between
# calls while the machine is held. The inputs' study.jsonl, when present, seeds WORK/study.jsonl
# (results kept from an earlier machine: those cells are skipped).
# Variables: SIZES (default gpt2 s1m,s4m,s12m; vit s0.5m,s4.8m,s21m), PRETRAIN_S (300), JOBS (6), ENTER
# (default .gpu/enter.sh), KEEP_MODELS (sizes whose pre-trained folders come back, in parts; see
# below), EXTRA (more flags for every pass, e.g. a toy grid on a CPU), STEPS_<size> (that size's
# pre-training steps, where a session cannot fit sizes.json's; dots and dashes become _).
# VIT_TASK=transfer (vit only): the class-disjoint task (prepare-data.sh; docs/group-wise-study.md,
# "ViT: the class-disjoint transfer task"), its data, models and results in WORK .study-work-transfer
# unless WORK is set, so they never mix with the halves task's (its seed: IN/study-transfer.jsonl).
# Everything comes back as one file, OUT/study.tgz (a device call returns at most 8 files; with the
# results, the logs and step-times.tsv, every run's step times and batch sizes), written
# after each stage and every minute, so a call cut by its time limit still returns its logs. A pass
# still running 20 s before BUDGET is stopped (its cells in flight are lost); a pass does not start a
# cell that the cells of its size already run say would not end by then.
set -uo pipefail
dest=${1:?usage: gpu-study.sh OUT [BUDGET]}
budget=${2:-480}
mkdir -p "$dest"
out=$(mktemp -d)/study
mkdir -p "$out"
save() { tar czf "$dest/study.tgz.part" -C "$(dirname "$out")" study 2>/dev/null; mv -f "$dest/study.tgz.part" "$dest/study.tgz"; }
t0=$(date +%s)
left() { echo $((budget - ($(date +%s) - t0))); }
( while sleep 60; do save; done ) &
saver=$!
trap 'kill $saver 2>/dev/null' EXIT
source "${ENTER:-.gpu/enter.sh}" > "$out/enter.log" 2>&1 || { cat "$out/enter.log"; exit 1; }
nvidia-smi --query-gpu=name,clocks.sm,memory.used --format=csv,noheader 2>/dev/null
FAMILY=${FAMILY:-gpt2}
IN=$([ "$FAMILY" = vit ] && echo .study-vit || echo .study)
VIT_TASK=${VIT_TASK:-halves}
case "$FAMILY/$VIT_TASK" in
  */halves) S=${WORK:-.study-work} ;;
  vit/transfer) S=${WORK:-.study-work-transfer} ;;
  *) echo "gpu-study.sh: VIT_TASK=$VIT_TASK is for FAMILY=vit (halves or transfer)" >&2; exit 2 ;;
esac
export VIT_TASK
mkdir -p "$S"
# the seed's lines that WORK does not hold yet (WORK may hold the other family's cells from an earlier
# call on the same machine, which must not hide the seed)
# (the transfer task's seed is its own file: its cells have the halves task's keys)
SEED=$IN/$([ "$VIT_TASK" = transfer ] && echo study-transfer.jsonl || echo study.jsonl)
if [ -f $SEED ]; then touch $S/study.jsonl; grep -vxF -f $S/study.jsonl $SEED >> $S/study.jsonl || true; fi
if [ "$FAMILY" = vit ]; then
  D=$S/data-vit
  [ -f $D/cifar-private-val.tar.gz ] || apps/finetune/study/prepare-data.sh vit $D $IN > "$out/prepare-data.log" 2>&1 \
    || { cat "$out/prepare-data.log"; exit 1; }
  SIZES=${SIZES:-s0.5m,s4.8m,s21m}
else
  D=$S/data
  [ -f $D/e2e-fit.csv ] || tar -xJf $IN/gpt2-data.tar.xz -C $S
  SIZES=${SIZES:-s1m,s4m,s12m}
fi
have() { [ -f "$S/models/$FAMILY-$1/model.safetensors" ]; }
# pre-trained models kept from an earlier machine (KEEP_MODELS below): IN/models/FAMILY-SIZE.tar.partNN
mkdir -p "$S/models"
for size in ${SIZES//,/ }; do
  parts=("$IN/models/$FAMILY-$size.tar.part"*)
  if ! have "$size" && [ -f "${parts[0]}" ]; then
    cat "${parts[@]}" | tar xf - -C "$S/models" && echo "pre-trained $size: from $IN/models (${#parts[@]} parts)"
  fi
done
pretraining=()
for size in ${SIZES//,/ }; do
  have "$size" && continue
  steps=STEPS_${size//[.-]/_} # STEPS_s12m=2500: fewer pre-training steps for that size than sizes.json's
  ( STEPS=${!steps:-} DATA=$D MODELS=$S/models timeout "${PRETRAIN_S:-300}" apps/finetune/study/pretrain.sh "$FAMILY" "$size" > "$out/pretrain-$size.log" 2>&1 ) &
  pretraining+=($!)
done
[ ${#pretraining[@]} -eq 0 ] || wait "${pretraining[@]}"
for size in ${SIZES//,/ }; do
  echo "pre-training $size: $(grep -h 'eval @\|wrote\|not finished' "$out/pretrain-$size.log" 2>/dev/null | tail -2 | tr '\n' ' ')"
  cp "$S/models/$FAMILY-$size/pretraining-evals.jsonl" "$out/pretraining-evals-$FAMILY-$size.jsonl" 2>/dev/null
done
ready=$(for size in ${SIZES//,/ }; do have "$size" && printf '%s,' "$size"; done)
ready=${ready%,}
echo "pre-trained: ${ready:-none}; $(left) s left"
# KEEP_MODELS=s12m,...: those sizes' model folders come back as OUT/FAMILY-SIZE.tar.partNN (15 MB parts:
# a call returns files of at most 16 MiB); kept in IN/models/, a later machine starts from them instead
# of pre-training again (the cells' baseModel hash says it is the same model)
for size in $(echo "${KEEP_MODELS:-}" | tr , " "); do
  have "$size" && tar cf - -C "$S/models" "$FAMILY-$size" | split -b 15000000 -d - "$dest/$FAMILY-$size.tar.part"
done
save
# the passes: all-layer against layer-wise first (the claim), seed 0 over the lr grid, then seeds 1
# and 2 at seed 0's pick (--seeds-at-pick: 5 runs a setting instead of 9), then the other two groupings
PASSES=(
  "--groupings all-layer,layer-wise --epsilons 8 --seeds 0"
  "--groupings all-layer,layer-wise --epsilons 3 --seeds 0"
  "--groupings all-layer,layer-wise --epsilons 8,3 --seeds 1,2 --seeds-at-pick"
  "--groupings uniform:4,layer-wise-adaptive --epsilons 8 --seeds 0"
  "--groupings uniform:4,layer-wise-adaptive --epsilons 3 --seeds 0"
  "--groupings uniform:4,layer-wise-adaptive --epsilons 8,3 --seeds 1,2 --seeds-at-pick"
)
if [ -n "$ready" ]; then
  for pass in "${PASSES[@]}"; do
    # no cell starts that would end after the kill below (run-study.ts knows a size's cell time once one
    # has run at this concurrency, in this call or in the results carried in)
    secs=$(( $(left) - 30 ))
    [ "$secs" -lt 60 ] && break
    minutes=$(printf '%d.%02d' $((secs / 60)) $(( (secs % 60) * 100 / 60 )))
    # its own process group, so that the deadline stops the cells it started too
    # shellcheck disable=SC2086 # a pass is a list of flags
    setsid node node_modules/vite-node/vite-node.mjs --config apps/finetune/study/vitest.config.ts apps/finetune/study/run-study.ts -- --family "$FAMILY" --sizes "$ready" $pass --data $D --models $S/models --runs $S/runs \
      --results $S/study.jsonl --backend webgpu --jobs "${JOBS:-6}" --stop-after-min "$minutes" $([ "$VIT_TASK" = transfer ] && echo --new-head) ${EXTRA:-} >> "$out/study.log" 2>&1 &
    pass_pid=$!
    stop_in=$(( $(left) - 20 ))
    ( sleep $(( stop_in > 1 ? stop_in : 1 )); echo "stopped at the deadline: $pass" >> "$out/study.log"; kill -TERM -- -$pass_pid; sleep 5; kill -KILL -- -$pass_pid ) 2>/dev/null &
    deadline=$!
    wait $pass_pid
    kill $deadline 2>/dev/null
    grep -v '^Warning\|^done' "$out/study.log" | tail -3
    echo "$(grep -c '"kind":"cell"' $S/study.jsonl) cells in the results"
    cp $S/study.jsonl "$out/study.jsonl"
    # the last lines of each failed cell's log (the failure's cause)
    grep -o 'see [^)]*cell\.log' "$out/study.log" | cut -c5- | sort -u | while read -r f; do echo "== $f"; tail -n 15 "$f"; done > "$out/failed-cells.log" 2>&1
    save
  done
fi
cp $S/study.jsonl "$out/study.jsonl" 2>/dev/null
tar czf "$out/bench-logs.tgz" $S/runs/bench-* 2>/dev/null
# every run's step times and batch sizes (the run folders stay on the machine): where a cell's step goes
# beyond its micro-batches' bench time (Poisson's variable last micro-batch, the step's bookkeeping)
python3 - "$S"/runs/*/log.jsonl > "$out/step-times.tsv" 2>/dev/null <<'PY'
import json, os, sys
print('run\tstep\tbatch\tstep_ms')
for f in sys.argv[1:]:
    run = os.path.basename(os.path.dirname(f))
    for line in open(f):
        try:
            r = json.loads(line)
        except ValueError:
            continue
        if 'stepMs' in r:
            print(f"{run}\t{r['step']}\t{r.get('batchSize', '')}\t{r['stepMs']:.1f}")
PY
save
echo "$(left) s of $budget left; results in $dest/study.tgz"
