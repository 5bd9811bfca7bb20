#!/usr/bin/env bash
# Nsight Compute on the fused decode kernels (hardware counters; clocks left alone), then the default
# benchmark once more. Carry .device-decode/{gptoss.xz, ncu-decode.sh}.
set -uo pipefail
D="$(cd "$(dirname "$0")" && pwd)"; OUT="${OUT:-/tmp/gptoss-out}"; mkdir -p "$OUT"
BIN=/tmp/gptoss; xz -dc "$D/gptoss.xz" > $BIN; chmod +x $BIN
export GPTOSS_CACHE_DIR=/tmp/gptoss-cache
$BIN synth --preset 20b --output /tmp/m20b >/dev/null
$BIN bench --model /tmp/m20b --device cuda --batch 1 --prompt-tokens 128 --gen-tokens 128 --json | tee $OUT/b-default.json
NCU=$(command -v ncu || ls /usr/local/cuda*/bin/ncu 2>/dev/null | head -1)
echo "ncu: $NCU"
for k in dec_moe_gate_up dec_qkv_rope; do
  timeout 150 $NCU --clock-control none -k $k --launch-skip 40 --launch-count 1 \
    --section SpeedOfLight --section WarpStateStats --section ComputeWorkloadAnalysis --section Occupancy --section MemoryWorkloadAnalysis \
    $BIN bench --model /tmp/m20b --device cuda --batch 1 --prompt-tokens 16 --gen-tokens 4 --no-graphs --json > $OUT/ncu-$k.txt 2>&1
  grep -E "Duration|DRAM Throughput|Memory Throughput|Compute \(SM\)|Executed Ipc|Issue Slots Busy|SM Busy|Achieved Occupancy|Theoretical Occupancy|Warp Cycles Per Issued|Stall|SM Frequency|DRAM Frequency|Registers|Block Limit|L2 Hit|L1/TEX Hit|Mem Busy|Max Bandwidth" $OUT/ncu-$k.txt | head -40
done
