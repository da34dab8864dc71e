#!/usr/bin/env bash
# Public pre-training of one ViT size of the study (sizes.json: s0.5m, s4.8m, s21m, s85m; pilot-a for CPU toys).
#   DATA=... MODELS=... apps/finetune/study/pretrain-vit.sh SIZE   (variables and details: pretrain.sh)
exec "$(dirname "$0")/pretrain.sh" vit "$@"
