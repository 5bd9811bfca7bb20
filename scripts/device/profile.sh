#!/usr/bin/env bash
# Device run 2: correctness after the route rewrite, then a per-kernel profile of decode and prefill.
set -uo pipefail
D="$(cd "$(dirname "$0")" && pwd)"; OUT="${OUT:-/tmp/gptoss-out}"; mkdir -p "$OUT"
exec > >(tee -a "$OUT/log.txt") 2>&1
BIN=/tmp/gptoss; xz -dc "$D/gptoss.xz" > $BIN; chmod +x $BIN
export GPTOSS_CACHE_DIR=/tmp/gptoss-cache
nvidia-smi --query-gpu=name --format=csv,noheader
$BIN cuda-check "$D"/fixtures/tiny-a "$D"/fixtures/tiny-b "$D"/fixtures/tiny-c | tail -4
$BIN synth --preset 20b --output /tmp/m20b 2>/dev/null | tail -1
$BIN cuda-check --vs-cpu /tmp/m20b --vs-cpu-tokens 4 --vs-cpu-steps 2 | tail -1
$BIN bench --model /tmp/m20b --device cuda --batch 1 --prompt-tokens 128 --gen-tokens 128 --json | tee $OUT/b1.json
GPTOSS_PROFILE=1 $BIN bench --model /tmp/m20b --device cuda --batch 1 --prompt-tokens 512 --gen-tokens 32 --json 2>&1 | grep -v '^cuda:' | tee $OUT/profile.txt
