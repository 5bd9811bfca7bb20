#!/usr/bin/env bash
# Final H200 check after removing v12 and the per-launch environment read: fixtures, 20b vs CPU,
# b1 with and without graphs, 120b b1.
set -uo pipefail
D="$(cd "$(dirname "$0")" && pwd)"
BIN=/tmp/gptoss; xz -dc "$D/gptoss.xz" > $BIN; chmod +x $BIN
export GPTOSS_CACHE_DIR=/tmp/gptoss-cache
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader
$BIN kernels --check --arch sm_90 > /tmp/k.txt 2>&1 && echo "kernels sm_90 ok" || { echo "kernels FAIL"; cat /tmp/k.txt; }
$BIN cuda-check $D/fixtures/tiny-a $D/fixtures/tiny-b $D/fixtures/tiny-c > /tmp/f.txt 2>&1 && echo "fixtures ok" || { echo "fixtures FAIL"; cat /tmp/f.txt; }
$BIN synth --preset 20b --output /dev/shm/m20b >/dev/null
timeout 120 $BIN cuda-check --vs-cpu /dev/shm/m20b --vs-cpu-tokens 4 --vs-cpu-steps 6 2>&1 | tail -1
j() { python3 -c "import json,sys; d=json.loads([l for l in sys.stdin if l.startswith('{')][-1]); print(*(f'{k}={d[k]:.4g}' if isinstance(d[k],float) else f'{k}={d[k]}' for k in sys.argv[1:]))" "$@"; }
for i in 1 2; do echo "20b b1 graphs: $($BIN bench --model /dev/shm/m20b --device cuda --batch 1 --prompt-tokens 128 --gen-tokens 128 --json 2>&1 | j decode_tok_s fraction_of_floor floor_tok_s copy_bandwidth_tb_s)"; done
echo "20b b1 no-graphs: $($BIN bench --model /dev/shm/m20b --device cuda --batch 1 --prompt-tokens 128 --gen-tokens 64 --json --no-graphs 2>&1 | j decode_tok_s fraction_of_floor)"
echo "20b b1 2048 ctx: $($BIN bench --model /dev/shm/m20b --device cuda --batch 1 --prompt-tokens 2048 --gen-tokens 64 --json 2>&1 | j prefill_tok_s decode_tok_s fraction_of_floor)"
rm -rf /dev/shm/m20b
M=/dev/shm/m120b; avail=$(df -BG --output=avail /dev/shm | tail -1 | tr -dc 0-9)
if [ "${avail:-0}" -lt 70 ]; then mkdir -p /tmp/ram && mount -t tmpfs -o size=80G tmpfs /tmp/ram && M=/tmp/ram/m120b; fi
$BIN synth --preset 120b --output $M >/dev/null
timeout 120 $BIN cuda-check --vs-cpu $M --vs-cpu-tokens 2 --vs-cpu-steps 2 2>&1 | tail -1
echo "120b b1: $($BIN bench --model $M --device cuda --batch 1 --prompt-tokens 128 --gen-tokens 64 --json 2>&1 | j decode_tok_s fraction_of_floor floor_tok_s copy_bandwidth_tb_s peak_device_alloc_gb)"
