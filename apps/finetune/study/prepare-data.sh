#!/usr/bin/env bash
# Builds the study's data in DATA (outside the repository; nothing here is committed):
#   gpt2: corpus-train.txt / corpus-valid.txt (public pre-training text: scripts/make-public-corpus.sh,
#         the first 5,000,000 bytes train), e2e-fit.csv / e2e-val.csv (the private E2E dev set split by
#         MR, split-e2e.ts), e2e-test.csv (the E2E test set with references);
#   vit:  cifar-public.tar.gz (public half of CIFAR-10 train, pre-training), cifar-private.tar.gz
#         (private half; its test/ is the whole official test split), cifar-private-fit.tar.gz /
#         cifar-private-val.tar.gz (split-cifar-val.py). VIT_TASK=transfer splits by class instead
#         (split-cifar.py --transfer: dog to truck private, TRANSFER_CLASSES to choose others; the rest public, each
#         with all its train images): the private task is classes the pre-trained model never saw.
#
#   apps/finetune/study/prepare-data.sh gpt2|vit|all DATA [SHARED_DATA]
#
# SHARED_DATA defaults to the team's ../shared/data (tinyshakespeare, e2e/, cifar10-jpeg.tar.gz).
# A step whose outputs exist is skipped.
set -euo pipefail
WHAT=${1:?usage: prepare-data.sh gpt2|vit|all DATA [SHARED_DATA]}
DATA=${2:?usage: prepare-data.sh gpt2|vit|all DATA [SHARED_DATA]}
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../../.." && pwd)
SHARED=${3:-$ROOT/../shared/data}
mkdir -p "$DATA"

if [ "$WHAT" = gpt2 ] || [ "$WHAT" = all ]; then
  if [ ! -f "$DATA/corpus-valid.txt" ]; then
    "$ROOT/apps/finetune/scripts/make-public-corpus.sh" "$SHARED/text/tinyshakespeare.txt" "$DATA/corpus.txt"
    head -c 5000000 "$DATA/corpus.txt" > "$DATA/corpus-train.txt"
    tail -c +5000001 "$DATA/corpus.txt" > "$DATA/corpus-valid.txt"
  fi
  if [ ! -f "$DATA/e2e-val.csv" ]; then
    (cd "$ROOT" && node node_modules/vite-node/vite-node.mjs --config apps/finetune/study/vitest.config.ts \
      apps/finetune/study/split-e2e.ts -- "$SHARED/e2e/devset.csv" "$DATA")
  fi
  [ -f "$DATA/e2e-test.csv" ] || cp "$SHARED/e2e/testset_w_refs.csv" "$DATA/e2e-test.csv"
fi
if [ "$WHAT" = vit ] || [ "$WHAT" = all ]; then
  case "${VIT_TASK:-halves}" in
    halves) BY_CLASS=() ;;
    transfer) BY_CLASS=(--transfer ${TRANSFER_CLASSES:+--private-classes "$TRANSFER_CLASSES"}) ;;
    *) echo "prepare-data.sh: VIT_TASK must be halves or transfer, got $VIT_TASK" >&2; exit 2 ;;
  esac
  [ -f "$DATA/cifar-private.tar.gz" ] || python3 "$ROOT/apps/finetune/scripts/split-cifar.py" "$SHARED/cifar10-jpeg.tar.gz" "$DATA" --test-limit 0 "${BY_CLASS[@]}"
  [ -f "$DATA/cifar-private-val.tar.gz" ] || python3 "$HERE/split-cifar-val.py" "$DATA/cifar-private.tar.gz" "$DATA"
fi
ls -la "$DATA"
