#!/usr/bin/env bash
# Public pre-training of one GPT-2 size of the study (sizes.json: s1m, s4m, s12m, s88m; pilot-a, pilot-b for CPU toys).
#   DATA=... MODELS=... apps/finetune/study/pretrain-gpt2.sh SIZE   (variables and details: pretrain.sh)
exec "$(dirname "$0")/pretrain.sh" gpt2 "$@"
