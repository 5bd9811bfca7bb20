#!/usr/bin/env bash
# GPU sampling check: kernels compile, fixtures, f32_sample vs Core.Sampler (prep kernels and one-block),
# sampled generate CPU vs CUDA on the fixtures, 20b decode bench greedy vs sampling.
# Layout: gptoss.xz (stripped static release binary) and fixtures/ (Tests/Fixtures/models) beside this
# script, in a git-ignored folder carried to the device (e.g. .device-sampling/run.sh).
set -uo pipefail
D="$(cd "$(dirname "$0")" && pwd)"; BIN=/tmp/gptoss; xz -dc "$D/gptoss.xz" > $BIN; chmod +x $BIN
export GPTOSS_CACHE_DIR=/tmp/gptoss-cache; FIX="$D/fixtures"
nvidia-smi --query-gpu=name --format=csv,noheader
$BIN kernels --check --arch sm_90 --arch sm_80 > /tmp/k.txt 2>&1 && echo "kernels check ok" || tail /tmp/k.txt
$BIN cuda-check $FIX/tiny-a $FIX/tiny-b $FIX/tiny-c 2>&1 | tail -12
timeout 100 $BIN cuda-check --sampling-selftest 2>&1
GPTOSS_SAMPLE_PREP=0 timeout 100 $BIN cuda-check --sampling-selftest 2>&1
for m in tiny-a tiny-b tiny-c; do
  for p in "--temperature 1 --top-p 0.9" "--temperature 0.8 --top-k 50" "--temperature 1.3"; do
    a=$($BIN generate --model $FIX/$m --device cpu --prompt-tokens 1,2,3 $p --seed 7 --max-tokens 32 --json 2>/dev/null | python3 -c "import json,sys; print(json.load(sys.stdin)['tokens'])")
    b=$($BIN generate --model $FIX/$m --device cuda --prompt-tokens 1,2,3 $p --seed 7 --max-tokens 32 --json 2>/dev/null | python3 -c "import json,sys; print(json.load(sys.stdin)['tokens'])")
    [ "$a" = "$b" ] && echo "generate $m $p: cpu == cuda" || echo "generate $m $p: DIFFER cpu $a cuda $b"
  done
done
$BIN synth --preset 20b --output /dev/shm/m20b >/dev/null 2>&1
B="$BIN bench --model /dev/shm/m20b --device cuda --prompt-tokens 128 --gen-tokens 256 --json"
for c in "1|" "1|--temperature 1" "1|--temperature 1 --top-p 0.9" "1|--temperature 1 --top-k 50 --top-p 0.9" "4|" "4|--temperature 1 --top-p 0.9"; do
  b=${c%%|*}; s=${c#*|}
  $B --batch $b $s | python3 -c "import json,sys; d=json.load(sys.stdin); print('bench 20b b=$b', d['sampling'], 'decode tok/s %.1f ms/step %.3f copy TB/s %.2f' % (d['decode_tok_s'], d['decode_ms_per_step'], d['copy_bandwidth_tb_s']))"
done
GPTOSS_SAMPLE_PREP=0 $B --batch 1 --temperature 1 --top-p 0.9 | python3 -c "import json,sys; d=json.load(sys.stdin); print('bench 20b b=1 one-block sampler', d['sampling'], 'decode tok/s %.1f ms/step %.3f' % (d['decode_tok_s'], d['decode_ms_per_step']))"
