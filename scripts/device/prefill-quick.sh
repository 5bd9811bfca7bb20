#!/usr/bin/env bash
# Short post-change check for the many-token path in one device call: kernel compile check, exact f32
# fixtures, tensor-core kernels vs their f32 twins at 2,048 tokens, 20b GPU vs CPU (4 and 160 tokens),
# prefill 2,048 and batch-1 decode benches. Layout as prefill-check.sh (gptoss.xz, fixtures/ beside it).
set -uo pipefail
D="$(cd "$(dirname "$0")" && pwd)"; BIN=/tmp/gptoss; xz -dc "$D/gptoss.xz" > $BIN; chmod +x $BIN
export GPTOSS_CACHE_DIR=/tmp/gptoss-cache; FIX="$D/fixtures"; OUT=${OUT:-/tmp}
$BIN kernels --check --arch sm_90 --arch sm_80 > $OUT/k.txt 2>&1 && echo "kernels check ok" || tail $OUT/k.txt
$BIN cuda-check $FIX/tiny-a $FIX/tiny-b $FIX/tiny-c 2>&1 | grep -c " ok$"
$BIN cuda-check --tensor-core-selftest 2048 --bf16-tolerance 1e-2 2>&1
$BIN synth --preset 20b --output /tmp/m20b >/dev/null 2>&1
timeout 60 $BIN cuda-check --vs-cpu /tmp/m20b --vs-cpu-tokens 4 --vs-cpu-steps 3 2>&1 | tail -1
timeout 60 $BIN cuda-check --vs-cpu /tmp/m20b --vs-cpu-tokens 160 --vs-cpu-steps 1 2>&1 | tail -1
B="$BIN bench --model /tmp/m20b --device cuda --batch 1 --json"
$B --prompt-tokens 2048 --gen-tokens 4 | python3 -c "import json,sys; d=json.load(sys.stdin); print('prefill2048', d['prefill_tok_s'], d['ttft_ms'])"
$B --prompt-tokens 128 --gen-tokens 128 | python3 -c "import json,sys; d=json.load(sys.stdin); print('b1', d['decode_tok_s'], d['prefill_tok_s'], d['copy_bandwidth_tb_s'])"
