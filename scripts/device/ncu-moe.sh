#!/usr/bin/env bash
# Nsight Compute (hardware counters, clocks left alone) on the batch-1 decode's expert products and
# attention (v7 tensor-core kernels), one launch each mid-decode. Carry .device-v13/{gptoss.xz, ncu-moe.sh}.
set -uo pipefail
D="$(cd "$(dirname "$0")" && pwd)"; OUT="${OUT:-/tmp/gptoss-out}"; mkdir -p "$OUT"
BIN=/tmp/gptoss; xz -dc "$D/gptoss.xz" > $BIN; chmod +x $BIN
export GPTOSS_CACHE_DIR=/tmp/gptoss-cache
$BIN synth --preset 20b --output /tmp/m20b >/dev/null
NCU=$(command -v ncu || ls /usr/local/cuda*/bin/ncu 2>/dev/null | head -1)
for k in ${KERNELS:-dec_moe_gate_up_tc dec_moe_down_tc_early dec_attention}; do
  echo "=== $k"
  timeout 150 $NCU --clock-control none -k $k --launch-skip 60 --launch-count 1 \
    --section SpeedOfLight --section WarpStateStats --section ComputeWorkloadAnalysis --section Occupancy \
    --section MemoryWorkloadAnalysis --section InstructionStats --section LaunchStats --section SchedulerStats \
    $BIN bench --model /tmp/m20b --device cuda --batch 1 --prompt-tokens 128 --gen-tokens 8 --no-graphs --json > $OUT/ncu-$k.txt 2>&1
  grep -E "Duration|DRAM Throughput|Compute \(SM\)|Executed Ipc A|Issue Slots Busy|Achieved Occupancy|Theoretical Occupancy|Warp Cycles Per Issued|SM Frequency|Registers Per|Executed Instructions  |L2 Hit|No Eligible|Active Warps Per|Eligible Warps|Stall|Pipe" $OUT/ncu-$k.txt | grep -v "^\s*$" | head -40
  grep -iE "stall.*\(|cycles being stalled" $OUT/ncu-$k.txt | head -8
done
