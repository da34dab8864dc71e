#!/usr/bin/env bash
# What a session with the H200 runs, in three device calls of under 10 minutes each (a call's limit):
#   1  test:gpu, then Clipwise beside PyTorch/fastDP/Opacus for GPT-2 small B16×T128 (gpu-compare.sh)
#   2  the same for ViT-B/16 B32 and its layer-norm record compaction off; GPT-2 with TF.js's own
#      launch recording (--dispatch tfjs): the befores of before/afters
#   4  test:gpu, then ViT against the references (matmul tuning off, the default)
#   5  GPT-2 against the references; ViT and GPT-2 with matmul tuning on, GPT-2 without the
#      ghost batching and clip-in-product launch cuts (the befores); the ViT shapes' tiles one by one
#      (apps/finetune/bench/matmul-tiles.ts)
#   6  one call for a short session: GPT-2 and ViT beside the references, then core's, ghost-norm's
#      and optim's tests (SAVE=FILE.tgz packs the results after each stage)
#   7  GPT-2 beside the references alone (about 4 minutes)
#   8  GPT-2's groupings with tuning off, PyTorch and fastDP all-layer, then tuning on (2-3 minutes)
#   9  the ghost-norm kernel's microbenchmark, this build's and a before's (CLIPWISE_CORE_DIST: core's
#      dist/index.js of the before, copied to .gpu/old-core/), then GPT-2's and ViT's steps alone (ours:
#      VIT=0 skips ViT; about 3 minutes without)
#  12  one call: the ghost-norm kernel's microbenchmark (this build), GPT-2 beside the references, core's
#      tests, ViT beside the references (about 9 minutes; SAVE packs after each stage)
#  13  what a call of about 3 minutes fits: the ghost-norm kernel's tests, GPT-2's steps alone (ours, no
#      references), the kernel's microbenchmark (SAVE packs after each stage)
#  14  GPT-2's groupings with param-wise's biases in launches of their own (--paired-bias-clip off, the
#      before) and paired with their weights (the default), then core's, ghost-norm's and optim's
#      tests (about 6 minutes)
#  15  the ghost-norm kernel's work splits: its tests, the microbenchmark over seven splits, then ViT's
#      and GPT-2's steps with the default split and with the microbenchmark's fastest on ViT (about 5 minutes)
#  17  the pool's size classes before/after (--pool-classes 8 and 16: ViT's and GPT-2's pool peaks and
#      steps), then the ghost kernel's split sweep on ViT's layers alone (about 7 minutes)
#  18  the pool's size classes on ViT (16 profiled, then 8) and GPT-2 (16, 8), then the ViT shapes'
#      matmul tiles (about 7 minutes; SAVE packs after each stage)
#  19  the whole test:gpu, then the ghost kernel's split sweep on ViT's layers (about 6 minutes)
#  20  ViT's and GPT-2's steps with the ghost kernel's default split (32x2) and the old one (16x4), about 2 minutes
#  23  GPT-2 (four groupings) and ViT with q|k|v packed (timm's layout, as the references' ViT; three
#      groupings) beside the references, then our ViT with Hugging Face's separate q, k, v (about 9 minutes)
#  24  part 23's comparisons alone, for a session's last few minutes (about 6 minutes)
#  25  ViT's 768-wide products (q, k, v, attention output; HF's layout) against q|k|v packed (timm's),
#      every tile and split-K, `matmul-tiles.ts --only vit-768` (about 1 minute)
#  26  core's, ghost-norm's, optim's and models' tests on the GPU, then part 25 (about 5 minutes)
#  27  a session's one call, most needed first, each stage saved: the whole test:gpu, ViT (q|k|v
#      packed, all-layer and layer-wise) beside the references, (SEPARATE=1: our ViT with q, k, v
#      separate,) then GPT-2 beside the references, then two 6-step demo runs whose weights must be
#      bit-identical (about 7 minutes: a call cut at its limit loses the last stages; TESTS=0 skips the
#      tests, for a call after part 39 on the same build); GROUPINGS
#      (default all-layer,layer-wise) sets the configurations of the benches; AB_DECISION=1 runs it all
#      with the switches part 29 adopted on the same warm machine (tmp/ab-decision.env); GPT2_KERNELS=N
#      adds GPT-2's kernel table (its N costliest kernels a configuration)
#  28  A/Bs, each beside its baseline: ViT with narrow tiles (CLIPWISE_MATMUL_NARROW=on) and with matmul
#      tuning, GPT-2 with Dawn's skip_validation and disable_workgroup_init and with narrow tiles
#      (about 6 minutes)
#  29  interleaved A/Bs (`clipwise bench --ab`, 9 rounds): narrow tiles on ViT (packed) and GPT-2, the
#      tuned matmul plans against the heuristic's and the ghost kernel's fitted tiles on ViT, and the
#      verdicts (apps/finetune/bench/ab-decide.ts) in tmp/ab-decision.env (about 8 minutes)
#  30  the largest batch under 24,000 MiB at GPT-2 T = 1024, ours and the references' (part 3 without
#      its PEFT rows: carry [".gpu", ".refsrc", "packages/core/dist"]; about 70 s on an H100)
#  31  parts 27 (without its demo runs) and 30 in one call (about 9.5 minutes): a session's first call
#      after GPU-facing changes
#  33  the interleaved A/B of the layer-norm clip in sums (CLIPWISE_LAYER_NORM_CLIP) on GPT-2 and ViT,
#      layer-wise and param-wise, then core's, optim's and ghost-norm's tests with it on (about 5 minutes)
#  34  a short budget's one call: part 33's GPT-2 A/B (7 rounds), the whole test:gpu with the layer-norm
#      clip on (every GPU-facing change since part 27 runs: the clip's path, the linear layers' terms,
#      the product-fits guard; its off path in its own tests), with VIT=1 then ViT's A/B (about 6 minutes;
#      9 with ViT)
#  35  ViT's A/B of the layer-norm clip alone (part 34's last stage; about 2.5 minutes)
#  36  the ghost norm's K split (CLIPWISE_GHOST_SPLIT_K): the kernel's microbenchmark at four targets,
#      GPT-2's A/B, core's, ghost-norm's and optim's tests with it on, ViT's A/B (about 6 minutes); its
#      verdict in tmp/ab-decision.env, so that part 27 with AB_DECISION=1 next on the same machine runs
#      the whole test:gpu and the comparisons with it
#  37  where a step's time goes on the device: GPT-2's groupings (GROUPINGS, default all-layer,layer-wise,
#      param-wise,uniform:4; 5 rounds) and ViT's (3 rounds) with `--gpu-passes on` (the device's busy and
#      idle ms per step on its own clock, beside the host's ms, and the idle by the phase that began the
#      passes) and with GPT2_KERNELS=N GPT-2's kernel table (exact timestamps since setupBackend turns
#      Dawn's timestamp quantisation off), the whole test:gpu (TESTS=0 skips it and what follows), then
#      ViT (VIT=0 skips it; about 7 minutes; SAVE packs after each stage)
#  38  the ghost kernel on 48- and 64-row Gram tiles (setGhostTileRows: 6×6 and 8×8 blocks a thread),
#      with and without the K split, in its microbenchmark on GPT-2's layers; then the ghost norms by Gram
#      matmuls against the fused kernel (`clipwise bench --ab ghost-matmul`, with the device's busy and
#      idle ms): GPT-2's all-layer, layer-wise and param-wise (7 rounds), then the same with 64-row tiles,
#      16x2 and the K split against the defaults (`--ab ghost-tiles-64`), then ViT's ghost-matmul A/B (5
#      rounds; about 8 minutes)
#  39  the guarded update (`clipwise bench --ab guarded-update`: the optimizer's update enqueued before the
#      release's read, its finiteness check on the device) on GPT-2's four groupings (7 rounds, busy and
#      idle), the whole test:gpu (TESTS=0 skips it), then ViT's A/B (5 rounds; about 6 minutes)
#  44  the whole test:gpu alone (about 4 minutes on an H100): after part 27 with TESTS=0 on the same build,
#      when both would not fit one call's 10 minutes
#  45  GPT-2's groupings (all-layer, layer-wise, param-wise) in bench runs, three a mode, modes alternated
#      (MODES, default "plain semi64"; also pin: taskset on PIN_CPUS): how much the group-wise steps move
#      with the host between runs (about 25 s a run on an H200; on an H100 in the twenty-second session,
#      plain against pin: no difference, every grouping within 1.15x in all six)
#  46  the pool trim at micro-batch shape changes, full (the default) against bounded
#      (CLIPWISE_POOL_TRIM_BOUNDED), interleaved: the study's s53m GPT-2 at Poisson batch ~256 in
#      micro-batches of 128, lengths 64-176 (apps/finetune/bench/shape-trim.ts; about 3 minutes);
#      TRIM_MODES (default full,bounded) adds shape-trim's other modes: fixed (no shape changes, the
#      reference) and fitup:N (core's pool fitting up, CLIPWISE_POOL_FIT_UP), each with the main
#      thread's CPU ms and the buffers and bind groups created a step (five modes: TRIM_LIMIT=300);
#      TRIM_PASSES=on adds the device's busy and idle ms a step (timestamp queries)
#  48  GPT-2's interleaved A/B of one `clipwise bench --ab` switch (AB, default scale-narrow: the LM
#      head's clip factors on its narrow operand) over GROUPINGS (default all-layer,layer-wise,param-wise;
#      9 rounds, the device's busy and idle ms a step; about 2.5 minutes)
#  41  GPT-2's interleaved A/B of the matmul tuning over its four groupings (7 rounds, busy and idle): does
#      the tuning speed the private steps as it does the non-private one? Then the A/B of core's variant
#      tuning (the private steps' scaled products tuned as they run) on GPT-2, with TESTS=1 the whole test:gpu,
#      then (VIT=1, the default) ViT's (about 5 minutes with TESTS=1 VIT=0, 8 with TESTS=0 VIT=1)
#  32  GPT-2 beside the references (COMPARE=0 skips it), then JOBS (default 6) private trainings of the
#      study's s12m GPT-2 at once, CELL_STEPS steps each, their device reports, step times and pool peaks
#      (carry .study too; about 4 minutes)
#  10  the ghost-norm kernel's microbenchmark (as 9), then GPT-2 beside the references (about 5 minutes)
#  11  ViT beside the references, then the whole test:gpu (about 8 minutes)
#   3  the largest batch under a 24,000 MiB budget per grouping, ours (`clipwise bench --budget-mib`) and
#      PyTorch's/fastDP's (reference_step.py --budget-mib), GPT-2 small at T = 1024; and the GPT-2 LoRA
#      all-linear rows of the PEFT table (apps/finetune/scripts/gpu-results.sh, data in .gpu-data/);
#      then GPT-2 with the compaction off and with 64 dispatches a submit (TF.js: 15)
# From the repository root on the device, with carry [".gpu", ".refsrc", "packages/core/dist", ".gpu-data"]
# (fastDP's and Opacus's sources under .refsrc/, see gpu-compare.sh; build core's dist first; .gpu-data/
# is ignored by git and holds e2e/devset.csv and e2e/testset_w_refs.csv from ../shared/data/e2e and
# gpt2-shakespeare/ from apps/finetune/assets/pretrained-shakespeare-byte; all of it under 64 MiB, the
# tracked files (~10 MiB) included: keep only fastdp/fastDP and opacus/opacus of the references' sources,
# 1.4 MiB, not their whole repositories, 4.7 MiB, or .gpu + .refsrc + .study + core's dist do not fit):
#   bash packages/memory/bench/gpu-session.sh 1 /tmp/res && tar czf $OUT/res1.tgz -C /tmp res
# A fresh machine took about 450 s of the session's 1800 s device budget to start (2026-12-05), and one
# is given back after 30 s idle: make the calls back to back.
set -uo pipefail
part=${1:?part: 1 to 48}
out=${2:?output folder}
mkdir -p "$out"
source .gpu/enter.sh > "$out/enter.log" 2>&1 || { cat "$out/enter.log"; exit 1; }
V=(node node_modules/vite-node/vite-node.mjs --config apps/finetune/vitest.config.ts)
table() { grep -A"$2" '^| trainable\|^| configuration' "$1"; }
# SAVE=FILE.tgz: pack the results so far (the parts that call it do so after each stage, so a call cut
# at its limit still brings back what finished)
save() { [ -n "${SAVE:-}" ] && tar czf "$SAVE" -C "$(dirname "$out")" "$(basename "$out")"; }
# a step bench with extra flags: ViT-B/16 B32 (all-layer, layer-wise, 3 timed rounds) or GPT-2 small
# B16×T128 (GROUPINGS, 4 rounds), written to $out/NAME.json and .txt, its rounds and table printed
vit_step() {
  local name=$1 label=$2; shift 2
  timeout "${STEP_LIMIT:-120}" "${V[@]}" apps/finetune/bench/run-cli.ts -- bench --backend webgpu --model vit-base-16 --batch-size 32 --optimizer adamw \
    --groupings all-layer,layer-wise --reps 3 "$@" --json "$out/$name.json" > "$out/$name.txt" 2>&1
  echo "ViT, $label"; grep 'timed round' "$out/$name.txt"; table "$out/$name.txt" "${TABLE_LINES:-4}"; save
}
# test:gpu over the workspaces given (none: every workspace) within LIMIT seconds: its table and failures
test_gpu() {
  local limit=$1; shift
  timeout "$limit" node tooling/scripts/test-gpu.mjs "$@" > "$out/test-gpu.log" 2>&1
  local rc=$?
  echo "test:gpu (${*:-every workspace}) rc=$rc"; grep -A12 '^| workspace' "$out/test-gpu.log"; grep -E 'FAIL|×' "$out/test-gpu.log" | head -20
}
gpt2_step() {
  local name=$1 label=$2 groupings=$3; shift 3
  timeout "${STEP_LIMIT:-80}" "${V[@]}" apps/finetune/bench/run-cli.ts -- bench --backend webgpu --model gpt2 --batch-size 16 --seq-len 128 --optimizer adamw \
    --groupings "$groupings" --reps 4 "$@" --json "$out/$name.json" > "$out/$name.txt" 2>&1
  echo "GPT-2, $label"; grep 'timed round' "$out/$name.txt"; table "$out/$name.txt" "${TABLE_LINES:-5}"; save
}
# part 29's verdicts (apps/finetune/bench/ab-decide.ts, run-bench's abVerdict: a switch is on where its A/B wins every private ViT configuration by
# more than the rounds' spread and loses nothing on GPT-2, else off), kept on the warm machine in tmp/ (ignored
# by git, so the next call finds it) for part 27 to run with: AB_DECISION=1
decide() {
  mkdir -p tmp
  "${V[@]}" apps/finetune/bench/ab-decide.ts -- CLIPWISE_GHOST_FITTED_TILES="$out/vit-ab-ghost.json" \
    CLIPWISE_MATMUL_NARROW="$out/vit-ab-narrow.json,$out/gpt2-ab-narrow.json" CLIPWISE_MATMUL_TUNING="$out/vit-ab-tuning.json" > tmp/ab-decision.env
  cp tmp/ab-decision.env "$out/"
}
if [ -n "${AB_DECISION:-}" ] && [ -f tmp/ab-decision.env ]; then
  echo "AB_DECISION: part 29's verdicts:"; cat tmp/ab-decision.env; source tmp/ab-decision.env; cp tmp/ab-decision.env "$out/"
fi
# matmul tuning is for the benches (gpu-compare.sh reads it back from here), not the tests
bench_tuning=${CLIPWISE_MATMUL_TUNING:-}; unset CLIPWISE_MATMUL_TUNING
# the matmul tile bench on the shapes whose label contains FILTER, to $out/NAME.{json,txt}, printed
tiles() {
  local name=$1 filter=$2 limit=$3
  CLIPWISE_DAWN_FLAGS=enable-dawn-features=allow_unsafe_apis timeout "$limit" "${V[@]}" apps/finetune/bench/matmul-tiles.ts -- --reps 5 --only "$filter" \
    --json "$out/$name.json" 2>&1 | grep -v '^Warning' > "$out/$name.txt"
  cat "$out/$name.txt"
}
case $part in
  1)
    nvidia-smi --query-gpu=name,clocks.sm,memory.used --format=csv,noheader
    test_gpu 240
    timeout 280 bash packages/memory/bench/gpu-compare.sh gpt2 "$out" --groupings all-layer,layer-wise,param-wise,uniform:4 --reps 5 --kernels 30 > "$out/gpt2.log" 2>&1
    table "$out/bench-gpt2.txt" 7; cut -c1-260 "$out/ref-gpt2.jsonl" ;;
  2)
    timeout 220 bash packages/memory/bench/gpu-compare.sh vit "$out" --groupings all-layer,layer-wise --reps 3 --kernels 30 > "$out/vit.log" 2>&1
    table "$out/bench-vit.txt" 5; cut -c1-260 "$out/ref-vit.jsonl"
    # TF.js's own launch recording against core's lean one (GPT-2's step is launch-bound)
    timeout 100 "${V[@]}" apps/finetune/bench/run-cli.ts -- bench --backend webgpu --model gpt2 --batch-size 16 --seq-len 128 --optimizer adamw \
      --groupings all-layer,layer-wise --reps 5 --dispatch tfjs --json "$out/gpt2-dispatch-tfjs.json" > "$out/gpt2-dispatch-tfjs.txt" 2>&1
    table "$out/gpt2-dispatch-tfjs.txt" 5
    timeout 110 "${V[@]}" apps/finetune/bench/run-cli.ts -- bench --backend webgpu --model vit-base-16 --batch-size 32 --optimizer adamw \
      --groupings all-layer,layer-wise --reps 3 --compact-records off --json "$out/vit-compact-off.json" > "$out/vit-compact-off.txt" 2>&1
    table "$out/vit-compact-off.txt" 5 ;;
  3)
    ( timeout 240 bash apps/finetune/scripts/gpu-results.sh .gpu-data "$out/peft" e2e lora-all:16 > "$out/peft.log" 2>&1 ) &
    timeout 180 "${V[@]}" apps/finetune/bench/run-cli.ts -- bench --backend webgpu --model gpt2 --seq-len 1024 --optimizer adamw \
      --groupings all-layer,layer-wise --budget-mib 24000 > "$out/budget-gpt2.txt" 2>&1
    grep -v '^Warning' "$out/budget-gpt2.txt" | tail -8
    for mode in torch fastdp-all-layer fastdp-layer-wise; do
      PYTHONPATH=.refsrc/fastdp:.refsrc/opacus timeout 100 python3 packages/memory/bench/reference_step.py --model gpt2 --seq 1024 --mode "$mode" --budget-mib 24000 2>>"$out/ref-budget.err"
    done | tee "$out/ref-budget-gpt2.jsonl" | cut -c1-400
    wait
    cat "$out/peft.log"; node apps/finetune/scripts/results-table.mjs "$out"/peft/* | tee "$out/peft-table.md"
    # GPT-2's befores and afters that need no reference: compaction off, fewer submits
    for flags in "--compact-records off" "--submit-every 64"; do
      name=gpt2$(echo "$flags" | tr ' ' '_')
      timeout 90 "${V[@]}" apps/finetune/bench/run-cli.ts -- bench --backend webgpu --model gpt2 --batch-size 16 --seq-len 128 --optimizer adamw \
        --groupings all-layer,layer-wise --reps 5 $flags --json "$out/$name.json" > "$out/$name.txt" 2>&1
      table "$out/$name.txt" 5
    done ;;
  4)
    nvidia-smi --query-gpu=name,clocks.sm,memory.used --format=csv,noheader
    test_gpu 230
    CLIPWISE_DAWN_FLAGS=enable-dawn-features=allow_unsafe_apis timeout 280 bash packages/memory/bench/gpu-compare.sh vit "$out" --groupings all-layer,layer-wise --reps 3 --kernels 12 > "$out/vit.log" 2>&1
    grep -A16 'launches (' "$out/bench-vit.txt"
    grep -A45 'shapes timed' "$out/bench-vit.txt" | grep '^|\|shapes timed' | grep -v 'trainable\|^| all' | head -45; table "$out/bench-vit.txt" 5; cut -c1-260 "$out/ref-vit.jsonl" ;;
  5)
    nvidia-smi --query-gpu=name,clocks.sm,memory.used --format=csv,noheader
    timeout 200 bash packages/memory/bench/gpu-compare.sh gpt2 "$out" --groupings all-layer,layer-wise --reps 5 > "$out/gpt2.log" 2>&1
    grep 'shapes timed' "$out/bench-gpt2.txt"; table "$out/bench-gpt2.txt" 5; cut -c1-260 "$out/ref-gpt2.jsonl"
    timeout 110 "${V[@]}" apps/finetune/bench/run-cli.ts -- bench --backend webgpu --model vit-base-16 --batch-size 32 --optimizer adamw \
      --groupings all-layer,layer-wise --reps 3 --matmul-tuning on --json "$out/vit-tuning-on.json" > "$out/vit-tuning-on.txt" 2>&1
    table "$out/vit-tuning-on.txt" 5
    timeout 80 "${V[@]}" apps/finetune/bench/run-cli.ts -- bench --backend webgpu --model gpt2 --batch-size 16 --seq-len 128 --optimizer adamw \
      --groupings all-layer,layer-wise --reps 5 --matmul-tuning on --json "$out/gpt2-tuning-on.json" > "$out/gpt2-tuning-on.txt" 2>&1
    table "$out/gpt2-tuning-on.txt" 5
    # the befores of the third session's launch cuts
    timeout 80 "${V[@]}" apps/finetune/bench/run-cli.ts -- bench --backend webgpu --model gpt2 --batch-size 16 --seq-len 128 --optimizer adamw \
      --groupings all-layer,layer-wise --reps 5 --ghost-batching off --clip-in-product off --json "$out/gpt2-cuts-off.json" > "$out/gpt2-cuts-off.txt" 2>&1
    table "$out/gpt2-cuts-off.txt" 5
    tiles matmul-tiles vit 60 ;;
  13)
    nvidia-smi --query-gpu=name,clocks.sm,memory.used --format=csv,noheader
    # the ghost-norm kernel's own tests first (about 20 s), then the steps, then its microbenchmark
    (cd packages/core && CLIPWISE_BACKEND=webgpu timeout 60 node ../../node_modules/vitest/vitest.mjs run src/fused/ghost-sq-norm src/fused/clipped-outer-sum-from-terms) > "$out/test-ghost.log" 2>&1
    echo "ghost-norm kernel tests rc=$?"; grep -E 'Tests |FAIL|×' "$out/test-ghost.log" | head -10; save
    CLIPWISE_DAWN_FLAGS=enable-dawn-features=allow_unsafe_apis timeout 90 "${V[@]}" apps/finetune/bench/run-cli.ts -- bench --backend webgpu --model gpt2 --batch-size 16 --seq-len 128 --optimizer adamw \
      --groupings all-layer,layer-wise --reps 4 --kernels 14 --json "$out/bench-gpt2.json" > "$out/bench-gpt2.txt" 2>&1
    grep -A16 'launches (' "$out/bench-gpt2.txt" | head -54; table "$out/bench-gpt2.txt" 5; save
    CLIPWISE_DAWN_FLAGS=enable-dawn-features=allow_unsafe_apis timeout 60 "${V[@]}" apps/finetune/bench/ghost-norm-kernel.ts -- --reps 5 2>&1 | grep -v '^Warning' > "$out/ghost-after.txt"; cat "$out/ghost-after.txt"; save ;;
  17)
    nvidia-smi --query-gpu=name,clocks.sm,memory.used --format=csv,noheader
    for C in 8 16; do
      vit_step "vit-classes-$C" "$C pool classes" --pool-classes $C
      gpt2_step "gpt2-classes-$C" "$C pool classes" all-layer,layer-wise,param-wise --pool-classes $C
    done
    CLIPWISE_DAWN_FLAGS=enable-dawn-features=allow_unsafe_apis timeout 120 "${V[@]}" apps/finetune/bench/ghost-norm-kernel.ts -- --reps 5 --models vit \
      --splits 16x4,32x2,8x4,16x2,8x8,32x1 2>&1 | grep -v '^Warning' > "$out/ghost-splits-vit.txt"; cat "$out/ghost-splits-vit.txt"; save ;;
  18)
    nvidia-smi --query-gpu=name,clocks.sm,memory.used --format=csv,noheader
    export CLIPWISE_DAWN_FLAGS=enable-dawn-features=allow_unsafe_apis
    vit_step vit-classes-16 "16 pool classes" --pool-classes 16 --kernels 30
    vit_step vit-classes-8 "8 pool classes" --pool-classes 8
    for C in 16 8; do gpt2_step "gpt2-classes-$C" "$C pool classes" all-layer,layer-wise,param-wise --pool-classes $C; done
    tiles matmul-tiles vit 90; save ;;
  25)
    nvidia-smi --query-gpu=name,clocks.sm,memory.used --format=csv,noheader
    tiles matmul-vit-768 vit-768 150; save ;;
  20)
    nvidia-smi --query-gpu=name,clocks.sm,memory.used --format=csv,noheader
    for S in 32x2 16x4; do
      vit_step "vit-split-$S" "ghost split $S" --ghost-split $S
      gpt2_step "gpt2-split-$S" "ghost split $S" all-layer,layer-wise --ghost-split $S
    done ;;
  23|24)
    nvidia-smi --query-gpu=name,clocks.sm,memory.used --format=csv,noheader
    timeout $((part == 23 ? 170 : 150)) bash packages/memory/bench/gpu-compare.sh gpt2 "$out" --groupings all-layer,layer-wise,param-wise,uniform:4 --reps 4 > "$out/gpt2.log" 2>&1
    grep 'timed round' "$out/bench-gpt2.txt"; table "$out/bench-gpt2.txt" 7; cut -c1-200 "$out/ref-gpt2.jsonl"; save
    timeout $((part == 23 ? 210 : 185)) bash packages/memory/bench/gpu-compare.sh vit "$out" --groupings all-layer,layer-wise,param-wise --reps 3 > "$out/vit.log" 2>&1
    grep 'timed round' "$out/bench-vit.txt"; table "$out/bench-vit.txt" 6; cut -c1-200 "$out/ref-vit.jsonl"; save
    [ "$part" = 24 ] && exit 0
    vit_step vit-separate "q, k, v separate (Hugging Face's layout)" ;;
  37)
    nvidia-smi --query-gpu=name,clocks.sm,memory.used --format=csv,noheader
    g=${GROUPINGS:-all-layer,layer-wise,param-wise,uniform:4}
    # 240 s: the bench's matmul tuning (on by default) took 81 s of part 27's GPT-2 stage in the twentieth session (91 in the nineteenth)
    TABLE_LINES=7 STEP_LIMIT=${GPT2_LIMIT:-240} gpt2_step gpt2-passes "device busy/idle per step" "$g" --reps 5 --gpu-passes on ${GPT2_KERNELS:+--kernels $GPT2_KERNELS}
    grep 'device idle before' "$out/gpt2-passes.txt"; grep -B2 -A18 'launches (' "$out/gpt2-passes.txt" | cut -c1-200 | head -120; save
    [ "${TESTS:-1}" = 1 ] || exit 0
    test_gpu 330; save
    [ "${VIT:-1}" = 1 ] || exit 0
    TABLE_LINES=7 STEP_LIMIT=150 vit_step vit-passes "device busy/idle per step, q|k|v packed" --vit-qkv packed --groupings "$g" --gpu-passes on ;;
  26|27)
    nvidia-smi --query-gpu=name,clocks.sm,memory.used --format=csv,noheader
    # part 27: every workspace (about 4 minutes on an H100); part 26: the kernels' packages
    ws=(packages/core packages/ghost-norm packages/optim packages/models)
    [ "$part" = 27 ] && ws=()
    # TESTS=0 skips them (a call after one that ran them on the same build)
    [ "${TESTS:-1}" = 1 ] && { test_gpu 330 "${ws[@]}"; save; }
    if [ "$part" = 27 ]; then
      # GROUPINGS=all-layer,layer-wise,param-wise,uniform:4 adds rows (about 20 s each); the references time all-layer and layer-wise
      g=${GROUPINGS:-all-layer,layer-wise}
      # GPT-2 first (about 150 s with tuning; ViT about 200 s): a call cut at its limit loses the later stages
      # 7 rounds after 2 warm-up steps (fourteenth session: with 4 after 1, the first round ran 82-118 ms
      # in four of five configurations against 56-72 after it but one 98, and those slow rounds decided
      # layer-wise's and param-wise's medians)
      CLIPWISE_MATMUL_TUNING=$bench_tuning timeout 200 bash packages/memory/bench/gpu-compare.sh gpt2 "$out" --groupings "$g" --reps "${GPT2_REPS:-7}" --warmup 2 ${GPT2_KERNELS:+--kernels $GPT2_KERNELS} > "$out/gpt2.log" 2>&1
      grep 'timed round' "$out/bench-gpt2.txt"; table "$out/bench-gpt2.txt" 7; cut -c1-200 "$out/ref-gpt2.jsonl"; save
      CLIPWISE_MATMUL_TUNING=$bench_tuning timeout 240 bash packages/memory/bench/gpu-compare.sh vit "$out" --groupings "$g" --reps 3 --kernels 14 > "$out/vit.log" 2>&1
      grep 'timed round' "$out/bench-vit.txt"; table "$out/bench-vit.txt" 7; cut -c1-200 "$out/ref-vit.jsonl"; save
      [ -n "${SEPARATE:-}" ] && vit_step vit-separate "q, k, v separate (Hugging Face's layout)"
      # reproducibility on the GPU: two private demo runs must write the same weights (DET=0 skips it)
      [ "${DET:-1}" = 1 ] && for r in 1 2; do timeout 60 "${V[@]}" apps/finetune/bench/run-cli.ts -- demo --backend webgpu --steps 6 --out "/tmp/det$r" > "$out/det$r.log" 2>&1; done
      [ "${DET:-1}" = 1 ] && cmp /tmp/det1/checkpoint/model/model.safetensors /tmp/det2/checkpoint/model/model.safetensors && echo "two webgpu demo runs: identical weights"; save
      exit 0
    fi
    tiles matmul-vit-768 vit-768 120; save ;;
  28)
    # A/Bs of options that are off by default, each beside its baseline in this call: ViT's GPU-bound
    # step with narrow tiles (attention's N = 64 products on the 128 × 64 tile: CLIPWISE_MATMUL_NARROW)
    # and with the matmul tiles tuned per shape; GPT-2's launch-bound step with Dawn's skip_validation
    # and disable_workgroup_init toggles (host time, a shader prologue)
    nvidia-smi --query-gpu=name,clocks.sm,memory.used --format=csv,noheader
    vit_step vit-base "packed, defaults" --vit-qkv packed --kernels 14
    CLIPWISE_MATMUL_NARROW=on vit_step vit-narrow "packed, narrow tiles" --vit-qkv packed --kernels 14
    vit_step vit-tuned "packed, matmul tiles tuned per shape" --vit-qkv packed --matmul-tuning on --kernels 14
    grep -A40 'tuning matmul tiles' "$out/vit-tuned.txt" | head -42
    gpt2_step gpt2-base "defaults" all-layer,layer-wise --kernels 10
    CLIPWISE_DAWN_FLAGS=enable-dawn-features=skip_validation,disable_workgroup_init gpt2_step gpt2-dawn "Dawn skip_validation + disable_workgroup_init" all-layer,layer-wise
    # narrow tiles on GPT-2's attention (the 64 × 64 tile for its N = 64 products): kernel time, as its step waits on launches
    CLIPWISE_MATMUL_NARROW=on gpt2_step gpt2-narrow "narrow tiles" all-layer,layer-wise --kernels 10
    save ;;
  19)
    nvidia-smi --query-gpu=name,clocks.sm,memory.used --format=csv,noheader
    test_gpu 330; save
    CLIPWISE_DAWN_FLAGS=enable-dawn-features=allow_unsafe_apis timeout 150 "${V[@]}" apps/finetune/bench/ghost-norm-kernel.ts -- --reps 5 --models vit \
      --splits 16x4,32x2,8x4,16x2,8x8,32x1 2>&1 | grep -v '^Warning' > "$out/ghost-splits-vit.txt"; cat "$out/ghost-splits-vit.txt"; save ;;
  15)
    nvidia-smi --query-gpu=name,clocks.sm,memory.used --format=csv,noheader
    (cd packages/core && CLIPWISE_BACKEND=webgpu timeout 90 node ../../node_modules/vitest/vitest.mjs run src/fused/ghost-sq-norm) > "$out/test-ghost.log" 2>&1
    echo "ghost-norm kernel tests rc=$?"; grep -E 'Tests |FAIL|×' "$out/test-ghost.log" | head -10; save
    CLIPWISE_DAWN_FLAGS=enable-dawn-features=allow_unsafe_apis timeout 150 "${V[@]}" apps/finetune/bench/ghost-norm-kernel.ts -- --reps 5 \
      --splits 16x4,32x2,8x4,16x2,8x8,32x1,16x1 2>&1 | grep -v '^Warning' > "$out/ghost-splits.txt"; cat "$out/ghost-splits.txt"; save
    best=$(grep 'ViT-B/16 | layer-wise: ghostSqNormPartials, a launch' "$out/ghost-splits.txt" | sort -t'|' -k6 -g | head -1 | cut -d'|' -f4 | tr -d ' ')
    echo "fastest split on ViT's layers: ${best:-none}"
    for S in 16x4 ${best:-16x4}; do
      CLIPWISE_DAWN_FLAGS=enable-dawn-features=allow_unsafe_apis timeout 90 "${V[@]}" apps/finetune/bench/run-cli.ts -- bench --backend webgpu --model vit-base-16 --batch-size 32 --optimizer adamw \
        --groupings all-layer,layer-wise --reps 3 --kernels 4 --ghost-split $S --json "$out/vit-split-$S.json" > "$out/vit-split-$S.txt" 2>&1
      echo "ViT, ghost split $S"; grep 'timed round' "$out/vit-split-$S.txt"; table "$out/vit-split-$S.txt" 4; save
      CLIPWISE_DAWN_FLAGS=enable-dawn-features=allow_unsafe_apis timeout 90 "${V[@]}" apps/finetune/bench/run-cli.ts -- bench --backend webgpu --model gpt2 --batch-size 16 --seq-len 128 --optimizer adamw \
        --groupings all-layer,layer-wise --reps 4 --kernels 4 --ghost-split $S --json "$out/gpt2-split-$S.json" > "$out/gpt2-split-$S.txt" 2>&1
      echo "GPT-2, ghost split $S"; grep 'timed round' "$out/gpt2-split-$S.txt"; table "$out/gpt2-split-$S.txt" 4; save
      [ "$best" = 16x4 ] && break
    done ;;
  14)
    nvidia-smi --query-gpu=name,clocks.sm,memory.used --format=csv,noheader
    # param-wise's bias in launches of its own (off, the before) and paired with its weight (on)
    for P in off on; do
      CLIPWISE_DAWN_FLAGS=enable-dawn-features=allow_unsafe_apis timeout 100 "${V[@]}" apps/finetune/bench/run-cli.ts -- bench --backend webgpu --model gpt2 --batch-size 16 --seq-len 128 --optimizer adamw \
        --groupings all-layer,layer-wise,param-wise --reps 4 --kernels 10 --paired-bias-clip $P --json "$out/gpt2-paired-$P.json" > "$out/gpt2-paired-$P.txt" 2>&1
      echo "paired bias clip: $P"; grep 'timed round' "$out/gpt2-paired-$P.txt"; table "$out/gpt2-paired-$P.txt" 5; save
    done
    test_gpu 150 packages/core packages/ghost-norm packages/optim; save ;;
  12)
    nvidia-smi --query-gpu=name,clocks.sm,memory.used --format=csv,noheader
    CLIPWISE_DAWN_FLAGS=enable-dawn-features=allow_unsafe_apis timeout 70 "${V[@]}" apps/finetune/bench/ghost-norm-kernel.ts -- --reps 10 2>&1 | grep -v '^Warning' > "$out/ghost-after.txt"; cat "$out/ghost-after.txt"; save
    timeout 180 bash packages/memory/bench/gpu-compare.sh gpt2 "$out" --groupings all-layer,layer-wise --reps 4 --kernels 16 > "$out/gpt2.log" 2>&1
    grep -A18 'launches (' "$out/bench-gpt2.txt" | head -60; table "$out/bench-gpt2.txt" 5; cut -c1-200 "$out/ref-gpt2.jsonl"; save
    test_gpu 110 packages/core; save
    CLIPWISE_DAWN_FLAGS=enable-dawn-features=allow_unsafe_apis timeout 200 bash packages/memory/bench/gpu-compare.sh vit "$out" --groupings all-layer,layer-wise --reps 2 --kernels 12 > "$out/vit.log" 2>&1
    grep -A16 'launches (' "$out/bench-vit.txt" | head -40; table "$out/bench-vit.txt" 5; cut -c1-200 "$out/ref-vit.jsonl"; save ;;
  6)
    # one call when the session's device time allows no more: GPT-2 and ViT beside the references
    # (matmul tuning as the default: off since the H200 run), then the GPU-facing workspaces' tests; results packed after each stage into
    # $SAVE (a .tgz) so that a call cut at its limit still brings back what finished
    nvidia-smi --query-gpu=name,clocks.sm,memory.used --format=csv,noheader
    timeout 180 bash packages/memory/bench/gpu-compare.sh gpt2 "$out" --groupings all-layer,layer-wise --reps 4 > "$out/gpt2.log" 2>&1
    grep 'shapes timed' "$out/bench-gpt2.txt"; table "$out/bench-gpt2.txt" 5; cut -c1-200 "$out/ref-gpt2.jsonl"; save
    CLIPWISE_DAWN_FLAGS=enable-dawn-features=allow_unsafe_apis timeout 200 bash packages/memory/bench/gpu-compare.sh vit "$out" --groupings all-layer,layer-wise --reps 2 --kernels 12 > "$out/vit.log" 2>&1
    grep -A16 'launches (' "$out/bench-vit.txt" | head -40; grep 'shapes timed' "$out/bench-vit.txt"; table "$out/bench-vit.txt" 5; cut -c1-200 "$out/ref-vit.jsonl"; save
    grep -A40 'shapes timed' "$out/bench-vit.txt" | grep '^| [0-9]' | head -20
    test_gpu 150 packages/core packages/ghost-norm packages/optim; save ;;
  7)
    # what fits a call of about 4 minutes: GPT-2 beside the references
    nvidia-smi --query-gpu=name,clocks.sm,memory.used --format=csv,noheader
    timeout 200 bash packages/memory/bench/gpu-compare.sh gpt2 "$out" --groupings all-layer,layer-wise --reps 3 > "$out/gpt2.log" 2>&1
    grep 'shapes timed' "$out/bench-gpt2.txt"; table "$out/bench-gpt2.txt" 5; cut -c1-200 "$out/ref-gpt2.jsonl" ;;
  8)
    # what fits a call of 2-3 minutes: our GPT-2 groupings against our non-private (same process, tuning
    # off), PyTorch and fastDP all-layer, then ours with tuning on
    nvidia-smi --query-gpu=name,clocks.sm,memory.used --format=csv,noheader
    timeout 90 "${V[@]}" apps/finetune/bench/run-cli.ts -- bench --backend webgpu --model gpt2 --batch-size 16 --seq-len 128 --optimizer adamw \
      --groupings all-layer,layer-wise --reps 3 --matmul-tuning off > "$out/gpt2-off.txt" 2>&1
    table "$out/gpt2-off.txt" 5
    for mode in torch fastdp-all-layer; do
      PYTHONPATH=.refsrc/fastdp:.refsrc/opacus timeout 40 python3 packages/memory/bench/reference_step.py --model gpt2 --mode "$mode" 2>>"$out/ref.err"
    done | cut -c1-200
    timeout 120 "${V[@]}" apps/finetune/bench/run-cli.ts -- bench --backend webgpu --model gpt2 --batch-size 16 --seq-len 128 --optimizer adamw \
      --groupings all-layer,layer-wise --reps 3 --matmul-tuning on > "$out/gpt2-on.txt" 2>&1
    grep 'shapes timed' "$out/gpt2-on.txt"; table "$out/gpt2-on.txt" 5 ;;
  9)
    nvidia-smi --query-gpu=name,clocks.sm,memory.used --format=csv,noheader
    export CLIPWISE_DAWN_FLAGS=enable-dawn-features=allow_unsafe_apis
    timeout 90 "${V[@]}" apps/finetune/bench/ghost-norm-kernel.ts -- --reps 10 2>&1 | grep -v '^Warning' > "$out/ghost-after.txt"; cat "$out/ghost-after.txt"
    if [ -f .gpu/old-core/index.js ]; then
      CLIPWISE_CORE_DIST=$PWD/.gpu/old-core/index.js timeout 90 "${V[@]}" apps/finetune/bench/ghost-norm-kernel.ts -- --reps 10 2>&1 | grep -v '^Warning' > "$out/ghost-before.txt"; cat "$out/ghost-before.txt"
    fi
    timeout 100 "${V[@]}" apps/finetune/bench/run-cli.ts -- bench --backend webgpu --model gpt2 --batch-size 16 --seq-len 128 --optimizer adamw \
      --groupings all-layer,layer-wise --reps 5 --kernels 20 --json "$out/bench-gpt2.json" > "$out/bench-gpt2.txt" 2>&1
    grep -A24 'launches (' "$out/bench-gpt2.txt" | head -75; table "$out/bench-gpt2.txt" 5
    [ "${VIT:-1}" = 0 ] && exit 0
    timeout 200 "${V[@]}" apps/finetune/bench/run-cli.ts -- bench --backend webgpu --model vit-base-16 --batch-size 32 --optimizer adamw \
      --groupings all-layer,layer-wise --reps 3 --kernels 25 --json "$out/bench-vit.json" > "$out/bench-vit.txt" 2>&1
    grep -A30 'launches (' "$out/bench-vit.txt" | head -90; table "$out/bench-vit.txt" 5 ;;
  10)
    nvidia-smi --query-gpu=name,clocks.sm,memory.used --format=csv,noheader
    export CLIPWISE_DAWN_FLAGS=enable-dawn-features=allow_unsafe_apis
    timeout 90 "${V[@]}" apps/finetune/bench/ghost-norm-kernel.ts -- --reps 10 2>&1 | grep -v '^Warning' > "$out/ghost-after.txt"; cat "$out/ghost-after.txt"
    if [ -f .gpu/old-core/index.js ]; then
      CLIPWISE_CORE_DIST=$PWD/.gpu/old-core/index.js timeout 60 "${V[@]}" apps/finetune/bench/ghost-norm-kernel.ts -- --reps 10 2>&1 | grep -v '^Warning' > "$out/ghost-before.txt"; cat "$out/ghost-before.txt"
    fi
    save
    timeout 200 bash packages/memory/bench/gpu-compare.sh gpt2 "$out" --groupings all-layer,layer-wise --reps 5 --kernels 20 > "$out/gpt2.log" 2>&1
    grep -A22 'launches (' "$out/bench-gpt2.txt" | head -70; table "$out/bench-gpt2.txt" 5; cut -c1-200 "$out/ref-gpt2.jsonl"; save ;;
  11)
    nvidia-smi --query-gpu=name,clocks.sm,memory.used --format=csv,noheader
    CLIPWISE_DAWN_FLAGS=enable-dawn-features=allow_unsafe_apis timeout 220 bash packages/memory/bench/gpu-compare.sh vit "$out" --groupings all-layer,layer-wise --reps 3 --kernels 12 > "$out/vit.log" 2>&1
    grep -A16 'launches (' "$out/bench-vit.txt" | head -40; table "$out/bench-vit.txt" 5; cut -c1-200 "$out/ref-vit.jsonl"; save
    test_gpu 300; save ;;
  29)
    # interleaved A/Bs (`bench --ab`: both sides in every timed round, 9 rounds), where part 28 ran the
    # sides one after the other and the drift between them exceeded the difference; most promising
    # for ViT's private steps first: the ghost-norm kernel on 40-row tiles at T = 197 (15 tile pairs
    # where 32-row tiles take 28), narrow tiles on ViT, the tuned matmul plans against the
    # heuristic's on ViT, narrow tiles on GPT-2
    nvidia-smi --query-gpu=name,clocks.sm,memory.used --format=csv,noheader
    # six configurations a bench (each grouping off and on): more time than a three-configuration bench
    STEP_LIMIT=200 TABLE_LINES=7 vit_step vit-ab-ghost "packed, A/B fitted ghost tiles" --vit-qkv packed --reps 9 --ab ghost-tiles --kernels 8; decide
    STEP_LIMIT=200 TABLE_LINES=7 vit_step vit-ab-narrow "packed, A/B narrow tiles" --vit-qkv packed --reps 9 --ab narrow-tiles; decide
    STEP_LIMIT=240 TABLE_LINES=7 vit_step vit-ab-tuning "packed, A/B tuned matmul plans" --vit-qkv packed --reps 9 --ab matmul-tuning; decide
    grep -A30 'tuning matmul tiles' "$out/vit-ab-tuning.txt" | head -32
    STEP_LIMIT=150 TABLE_LINES=7 gpt2_step gpt2-ab-narrow "A/B narrow tiles" all-layer,layer-wise --reps 9 --ab narrow-tiles; decide
    cat tmp/ab-decision.env; save ;;
  31)
    # one call for what a session must show first (about 9.5 minutes): part 27 (the whole test:gpu, both
    # models beside the references in GROUPINGS, default all four), then part 30
    # (GPT-2's largest batch at T = 1024); with SAVE=F.tgz each packs to F-27.tgz and F-30.tgz
    s27=; s30=
    if [ -n "${SAVE:-}" ]; then s27=${SAVE%.tgz}-27.tgz; s30=${SAVE%.tgz}-30.tgz; fi
    # 2026-12-06: with bench's matmul tuning (~25 s a model) part 27 no longer fits beside part 30, and
    # its GPT-2 stage (then after ViT) was cut: GPT-2 now runs before ViT, and the demo runs are left out
    SAVE=$s27 DET=0 GROUPINGS=${GROUPINGS:-all-layer,layer-wise,param-wise,uniform:4} timeout 470 bash "$0" 27 "$out/r27"
    SAVE=$s30 timeout 110 bash "$0" 30 "$out/r30" ;;
  32)
    # GPT-2 beside the references (GROUPINGS, default all four), then the study's s12m cells that
    # failed on the device (2026-12-06: "Invalid BindGroup", then a NaN loss): a 20-step pre-training
    # for the model folder and its tokenizer, then JOBS (default 6) private trainings at once, as the
    # study runs them (B 256 Poisson in micro-batches of 128, T 176, lr 5e-3), each log kept whole.
    # Carry .study as well (its gpt2-data.tar.xz)
    nvidia-smi --query-gpu=name,clocks.sm,memory.used --format=csv,noheader
    g=${GROUPINGS:-all-layer,layer-wise,param-wise,uniform:4}
    if [ "${COMPARE:-1}" = 1 ]; then
      CLIPWISE_MATMUL_TUNING=$bench_tuning timeout "${GPT2_LIMIT:-230}" bash packages/memory/bench/gpu-compare.sh gpt2 "$out" --groupings "$g" --reps 4 > "$out/gpt2.log" 2>&1
      grep 'timed round' "$out/bench-gpt2.txt"; table "$out/bench-gpt2.txt" 7; cut -c1-200 "$out/ref-gpt2.jsonl"; save
    fi
    W=.study-work; mkdir -p $W; [ -f $W/data/e2e-fit.csv ] || tar -xJf .study/gpt2-data.tar.xz -C $W
    STEPS=${PRE_STEPS:-20} DATA=$W/data MODELS=$W/models timeout 90 apps/finetune/study/pretrain.sh gpt2 s12m > "$out/pretrain-s12m.log" 2>&1; tail -2 "$out/pretrain-s12m.log"
    cells() {
      local pids=() j
      for j in $(seq 1 "$1"); do
        timeout "${CELL_LIMIT:-150}" "${V[@]}" apps/finetune/bench/run-cli.ts -- train --model $W/models/gpt2-s12m --data $W/data/e2e-fit.csv --eval-data $W/data/e2e-val.csv \
          --epsilon 8 --delta 1e-5 --sampling poisson --accountant rdp --grouping "$([ $((j % 2)) = 0 ] && echo all-layer || echo layer-wise)" --clip-norm 1 \
          --steps "${CELL_STEPS:-8}" --batch-size 256 --max-physical-batch 128 --optimizer adamw --lr 0.005 --seed "$j" --backend webgpu --out "/tmp/cell-$2-$j" \
          --eval-every "${CELL_STEPS:-8}" --eval-limit 256 --seq-len 176 --gen-limit 0 > "$out/cell-$2-$j.log" 2>&1 &
        pids+=($!)
      done
      for j in $(seq 1 "$1"); do wait "${pids[$((j - 1))]}"; echo "$2 cell $j: rc=$?; $(grep -c '^validation\|^out of memory\|^internal' "$out/cell-$2-$j.log") device reports; $(grep -h 'clipwise train:\|eval @ step [1-9]' "$out/cell-$2-$j.log" | head -1 | cut -c1-160); $(grep -o '"meanStepMs": [0-9.]*\|"devicePeak[A-Za-z]*": [0-9.]*' "/tmp/cell-$2-$j/report/metrics.json" 2>/dev/null | tr '\n' ' ')"; done
    }
    cells "${JOBS:-6}" together; save
    f=$(grep -l 'clipwise train:' "$out"/cell-together-*.log | head -1)
    [ -n "$f" ] && { echo "== first failure, $f:"; grep -v '^Warning' "$f" | grep -m1 -A14 'GPU device reported\|^validation\|^out of memory\|^internal'; cells 1 alone; save; } ;;
  33)
    # the interleaved A/B of a layer norm's clip factors in the launch that sums it (ghost-norm's
    # setLayerNormClipInSums, off by default; 9 rounds): GPT-2 and ViT, layer-wise and param-wise, where
    # it cuts launches, then its tests on the GPU (about 5 minutes)
    nvidia-smi --query-gpu=name,clocks.sm,memory.used --format=csv,noheader
    STEP_LIMIT=200 TABLE_LINES=7 gpt2_step gpt2-ab-ln "A/B layer-norm clip in sums" layer-wise,param-wise --reps 9 --ab layer-norm-clip
    STEP_LIMIT=240 TABLE_LINES=7 vit_step vit-ab-ln "packed, A/B layer-norm clip in sums" --vit-qkv packed --groupings layer-wise,param-wise --reps 9 --ab layer-norm-clip
    CLIPWISE_LAYER_NORM_CLIP=on test_gpu 90 packages/core packages/optim packages/ghost-norm; save ;;
  34)
    nvidia-smi --query-gpu=name,clocks.sm,memory.used --format=csv,noheader
    STEP_LIMIT=130 TABLE_LINES=7 gpt2_step gpt2-ab-ln "A/B layer-norm clip in sums" layer-wise,param-wise --reps 7 --ab layer-norm-clip
    CLIPWISE_LAYER_NORM_CLIP=on test_gpu 300; save
    [ "${VIT:-0}" = 1 ] && STEP_LIMIT=${VIT_LIMIT:-150} TABLE_LINES=7 vit_step vit-ab-ln "packed, A/B layer-norm clip in sums" --vit-qkv packed --groupings layer-wise,param-wise --reps 5 --ab layer-norm-clip ;;
  36)
    # the ghost norm's K split over workgroups (core's setGhostSplitK, CLIPWISE_GHOST_SPLIT_K; off by
    # default): the kernel's microbenchmark at targets 0 (the one-launch kernel), 1024, 2048 and 4096,
    # GPT-2's interleaved A/B (7 rounds), core's, ghost-norm's and optim's tests with it on, then ViT's
    # A/B (5 rounds; about 6 minutes in all)
    nvidia-smi --query-gpu=name,clocks.sm,memory.used --format=csv,noheader
    CLIPWISE_DAWN_FLAGS=enable-dawn-features=allow_unsafe_apis timeout 90 "${V[@]}" apps/finetune/bench/ghost-norm-kernel.ts -- --reps 10 --split-k 0,1024,2048,4096 2>&1 | grep -v '^Warning' > "$out/ghost-split-k.txt"; cat "$out/ghost-split-k.txt"; save
    # the verdict (ab-decide.ts: on where it wins every private GPT-2 configuration and loses none on
    # ViT) in tmp/ab-decision.env on the warm machine, for part 27 under AB_DECISION=1
    split_decide() {
      mkdir -p tmp
      "${V[@]}" apps/finetune/bench/ab-decide.ts -- CLIPWISE_GHOST_SPLIT_K="$out/gpt2-ab-splitk.json,$out/vit-ab-splitk.json" > tmp/ab-decision.env
      cp tmp/ab-decision.env "$out/"; grep -v '^#' tmp/ab-decision.env
    }
    STEP_LIMIT=130 TABLE_LINES=9 gpt2_step gpt2-ab-splitk "A/B ghost K split" all-layer,layer-wise,param-wise --reps 7 --ab ghost-split-k; split_decide
    CLIPWISE_GHOST_SPLIT_K=on test_gpu 100 packages/core packages/ghost-norm packages/optim; save
    STEP_LIMIT=${VIT_LIMIT:-150} TABLE_LINES=9 vit_step vit-ab-splitk "packed, A/B ghost K split" --vit-qkv packed --groupings all-layer,layer-wise,param-wise --reps 5 --ab ghost-split-k
    split_decide; save ;;
  46)
    nvidia-smi --query-gpu=name,clocks.sm,memory.used --format=csv,noheader
    for g in ${TRIM_GROUPINGS:-all-layer layer-wise}; do
      timeout "${TRIM_LIMIT:-200}" "${V[@]}" apps/finetune/bench/shape-trim.ts -- --embd 768 --layers 7 --heads 12 --vocab 4096 \
        --batch 256 --physical 128 --min-len 64 --seq 176 --grouping "$g" --rounds "${TRIM_ROUNDS:-3}" --steps 10 --warmup 3 \
        --modes "${TRIM_MODES:-full,bounded}" --gpu-passes "${TRIM_PASSES:-off}" \
        2>&1 | grep -v '^Warning' | tee "$out/shape-trim-$g.txt" | tail -12
      save
    done ;;
  48)
    nvidia-smi --query-gpu=name,clocks.sm,memory.used --format=csv,noheader
    ab=${AB:-scale-narrow}
    STEP_LIMIT=${AB_LIMIT:-200} TABLE_LINES=9 gpt2_step "gpt2-ab-$ab" "A/B $ab" "${GROUPINGS:-all-layer,layer-wise,param-wise}" --reps 9 --ab "$ab" --gpu-passes on
    grep 'device idle before' "$out/gpt2-ab-$ab.txt" ;;
  44)
    nvidia-smi --query-gpu=name,clocks.sm,memory.used --format=csv,noheader
    test_gpu 330; save ;;
  45)
    # how GPT-2's group-wise steps follow the host: bench runs alternating MODES (default
    # "plain semi64", about 25 s each on an H200): plain; semi64, V8's young generation raised with
    # NODE_OPTIONS=--max-semi-space-size=64 (less GC); pin, the process on CPUs PIN_CPUS (default 2-5)
    # by taskset (no migration between cores). The twenty-first session ran plain and semi64 inline.
    modes=${MODES:-plain semi64}
    [[ " $modes " =~ ^(\ (plain|semi64|pin))+\ $ ]] || { echo "part 45: MODES takes plain, semi64 and pin, got '$modes'" >&2; exit 2; }
    [[ " $modes " != *" pin "* ]] || command -v taskset > /dev/null || { echo "part 45: mode pin needs taskset, not found here" >&2; exit 2; }
    nvidia-smi --query-gpu=name,clocks.sm,memory.used --format=csv,noheader
    for i in 1 2 3; do for mode in $modes; do
      ( case $mode in
          semi64) export NODE_OPTIONS=--max-semi-space-size=64 ;;
          pin) V=(taskset -c "${PIN_CPUS:-2-5}" "${V[@]}") ;;
        esac
        STEP_LIMIT=75 TABLE_LINES=5 gpt2_step "gpt2-host-$i-$mode" "run $i, $mode" all-layer,layer-wise,param-wise --reps 9 --matmul-tuning off )
    done; done ;;
  39)
    # the guarded update (the optimizer's update enqueued before the release's read, its finiteness check
    # on the device) against the wait-then-update order, with the device's busy/idle; then the whole
    # test:gpu; then ViT's A/B (about 6 minutes)
    nvidia-smi --query-gpu=name,clocks.sm,memory.used --format=csv,noheader
    STEP_LIMIT=150 TABLE_LINES=11 gpt2_step gpt2-ab-guarded "A/B guarded update" all-layer,layer-wise,param-wise,uniform:4 --reps 7 --ab guarded-update --gpu-passes on
    grep 'device idle before' "$out/gpt2-ab-guarded.txt"; save
    # TEST_WS="packages/optim apps/finetune" narrows the tests to the workspaces a change touched
    [ "${TESTS:-1}" = 1 ] && { test_gpu 300 ${TEST_WS:-}; save; }
    [ "${VIT:-1}" = 1 ] || exit 0
    STEP_LIMIT=${VIT_LIMIT:-150} TABLE_LINES=9 vit_step vit-ab-guarded "packed, A/B guarded update" --vit-qkv packed --groupings all-layer,layer-wise,param-wise --reps 5 --ab guarded-update --gpu-passes on ;;
  41)
    # the matmul tuning's effect on each GPT-2 configuration (`clipwise bench --ab matmul-tuning`: tuned, then
    # the heuristic's and the tuned plans in every round): part 27 (tuning on) and part 40 (off, as every
    # --ab of another switch) put non-private 1.9 ms apart and the private steps level, so the tuning may
    # pay only where products run plain (it times tf.matMul, not the clip-scaled variants); 7 rounds,
    # device busy and idle (about 3 minutes)
    # then core's variant tuning (the scaled products tuned as they run: `--ab variant-tuning`), GPT-2's four
    # groupings and with VIT=1 ViT's three (about 8 minutes with ViT)
    nvidia-smi --query-gpu=name,clocks.sm,memory.used --format=csv,noheader
    STEP_LIMIT=240 TABLE_LINES=11 gpt2_step gpt2-ab-tuning "A/B tuned matmul plans" all-layer,layer-wise,param-wise,uniform:4 --reps 7 --ab matmul-tuning --gpu-passes on
    grep -A24 '^| batch×M×N×K' "$out/gpt2-ab-tuning.txt" | head -26; save
    STEP_LIMIT=240 TABLE_LINES=11 gpt2_step gpt2-ab-variant-tuning "A/B variant tuning" all-layer,layer-wise,param-wise,uniform:4 --reps 7 --ab variant-tuning --gpu-passes on
    grep -A40 '^| batch×M×N×K' "$out/gpt2-ab-variant-tuning.txt" | grep 'k-scale\|clip'; save
    # TESTS=1: the whole test:gpu (variant tuning and the prologue's walk are GPU-facing changes since part 40's)
    [ "${TESTS:-0}" = 1 ] && { test_gpu 300 ${TEST_WS:-}; save; }
    [ "${VIT:-1}" = 1 ] || exit 0
    STEP_LIMIT=${VIT_LIMIT:-240} TABLE_LINES=9 vit_step vit-ab-variant-tuning "packed, A/B variant tuning" --vit-qkv packed --groupings all-layer,layer-wise,param-wise --reps 5 --ab variant-tuning --gpu-passes on
    grep -A40 '^| batch×M×N×K' "$out/vit-ab-variant-tuning.txt" | grep 'k-scale\|clip' ;;
  40)
    # core's parallel clip factors (setParallelClipFactors; the kernels that form clip factors in every
    # workgroup, layer-wise and param-wise: the clipped product's prologue, a layer norm's clipped row
    # sums, with all their threads) against a thread a sample walking its row: the kernels alone
    # (apps/finetune/bench/clip-product.ts, off → on), then GPT-2's interleaved A/B (7 rounds), with
    # TESTS=1 test:gpu (TEST_WS narrows it), then ViT's A/B (5 rounds; about 5 minutes without the tests)
    nvidia-smi --query-gpu=name,clocks.sm,memory.used --format=csv,noheader
    timeout 150 "${V[@]}" apps/finetune/bench/clip-product.ts -- --reps 10 2>/dev/null | grep -v '^Warning' | tee "$out/clip-product.txt"; save
    STEP_LIMIT=150 TABLE_LINES=9 gpt2_step gpt2-ab-clip-factors "A/B parallel clip factors" all-layer,layer-wise,param-wise --reps 7 --ab parallel-clip-factors --gpu-passes on
    [ "${TESTS:-0}" = 1 ] && { test_gpu 300 ${TEST_WS:-}; save; }
    [ "${VIT:-1}" = 1 ] || exit 0
    STEP_LIMIT=${VIT_LIMIT:-150} TABLE_LINES=9 vit_step vit-ab-clip-factors "packed, A/B parallel clip factors" --vit-qkv packed --groupings all-layer,layer-wise,param-wise --reps 5 --ab parallel-clip-factors --gpu-passes on ;;
  38)
    # the fused ghost kernel (upper-triangle tiles in registers, ~10 TFLOP/s of computed tiles on GPT-2's
    # layers) against the two Grams on the matmul kernel (25-31 TFLOP/s on large products, twice the
    # FLOPs, more launches): which costs the private step less
    nvidia-smi --query-gpu=name,clocks.sm,memory.used --format=csv,noheader
    timeout 200 "${V[@]}" apps/finetune/bench/ghost-norm-kernel.ts -- --reps 10 --models gpt2 --splits 32x2,16x2 --tile-rows 0,48,64 --split-k 0,2048 2>&1 | grep -v '^Warning' > "$out/ghost-tile-rows.txt"; cat "$out/ghost-tile-rows.txt"; save
    STEP_LIMIT=150 TABLE_LINES=9 gpt2_step gpt2-ab-ghost-matmul "A/B ghost norms by Gram matmuls" all-layer,layer-wise,param-wise --reps 7 --ab ghost-matmul --gpu-passes on
    STEP_LIMIT=150 TABLE_LINES=9 gpt2_step gpt2-ab-ghost-tiles-64 "A/B 64-row ghost tiles, 16x2, K split" all-layer,layer-wise,param-wise --reps 7 --ab ghost-tiles-64 --gpu-passes on
    STEP_LIMIT=${VIT_LIMIT:-170} TABLE_LINES=9 vit_step vit-ab-ghost-matmul "packed, A/B ghost norms by Gram matmuls" --vit-qkv packed --groupings all-layer,layer-wise,param-wise --reps 5 --ab ghost-matmul --gpu-passes on ;;
  35)
    # ViT's interleaved A/B of the layer-norm clip alone (part 34's last stage; about 2.5 minutes)
    nvidia-smi --query-gpu=name,clocks.sm,memory.used --format=csv,noheader
    STEP_LIMIT=${VIT_LIMIT:-200} TABLE_LINES=7 vit_step vit-ab-ln "packed, A/B layer-norm clip in sums" --vit-qkv packed --groupings layer-wise,param-wise --reps 5 --ab layer-norm-clip ;;
  30)
    # the largest batch under 24,000 MiB at GPT-2 T = 1024, ours with the logits in spans and the
    # references' (part 3's, without its PEFT rows): never measured on a GPU since the spans
    nvidia-smi --query-gpu=name,clocks.sm,memory.used --format=csv,noheader
    timeout 240 "${V[@]}" apps/finetune/bench/run-cli.ts -- bench --backend webgpu --model gpt2 --seq-len 1024 --optimizer adamw \
      --groupings all-layer,layer-wise --budget-mib 24000 > "$out/budget-gpt2.txt" 2>&1
    grep -v '^Warning' "$out/budget-gpt2.txt" | tail -8; save
    for mode in torch fastdp-all-layer fastdp-layer-wise; do
      PYTHONPATH=.refsrc/fastdp:.refsrc/opacus timeout 100 python3 packages/memory/bench/reference_step.py --model gpt2 --seq 1024 --mode "$mode" --budget-mib 24000 2>>"$out/ref-budget.err"
    done | tee "$out/ref-budget-gpt2.jsonl" | cut -c1-400; save ;;
  *) echo "part must be one of those listed at the top (1 to 48), got '$part'" >&2; exit 2 ;;
esac
