#!/usr/bin/env bash
# Prefix reuse on CUDA: three chat turns on the tiny model and on a synthetic 20b (greedy), the fixtures check.
set -uo pipefail
D="$(cd "$(dirname "$0")" && pwd)"; BIN=/tmp/gptoss; xz -dc "$D/gptoss.xz" > $BIN; chmod +x $BIN
export GPTOSS_CACHE_DIR=/tmp/gptoss-cache
$BIN cuda-check $D/fixtures/tiny-a $D/fixtures/tiny-b $D/fixtures/tiny-c > /tmp/f.txt 2>&1 && echo "fixtures ok" || { echo "fixtures FAIL"; tail -5 /tmp/f.txt; }
printf 'hello there\nand a second question\nthird\n' | $BIN chat --model tiny --device cuda --temperature 0 --max-tokens 8 2>&1 | tail -4
$BIN synth --preset 20b --output /dev/shm/m20b >/dev/null
printf 'Write a haiku about the sea.\nNow one about mountains, please.\nAnd a third about rivers.\n' | $BIN chat --model /dev/shm/m20b --device cuda --temperature 0 --max-tokens 16 2>&1 | grep -E "prompt tokens|error" 
