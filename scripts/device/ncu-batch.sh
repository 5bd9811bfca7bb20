#!/usr/bin/env bash
# Nsight Compute (hardware counters, clocks left alone) on the batched-decode kernels: one launch each in the
# decode steps of `gptoss bench --batch $B` (default 64) on the synthetic 20b, with the stall reasons per issued
# instruction. Carry a folder with {gptoss.xz, ncu-batch.sh}. Env: KERNELS, B, SKIP (launches skipped, default 60).
set -uo pipefail
D="$(cd "$(dirname "$0")" && pwd)"; OUT="${OUT:-/tmp/gptoss-out}"; mkdir -p "$OUT"
BIN=/tmp/gptoss; xz -dc "$D/gptoss.xz" > $BIN; chmod +x $BIN
export GPTOSS_CACHE_DIR=/tmp/gptoss-cache
$BIN synth --preset 20b --output /dev/shm/m20b >/dev/null
NCU=$(command -v ncu || ls /usr/local/cuda*/bin/ncu 2>/dev/null | head -1)
ST=""; for r in long_scoreboard short_scoreboard barrier mio_throttle lg_throttle wait math_pipe_throttle not_selected selected dispatch_stall no_instruction tex_throttle membar sleeping; do
  ST="$ST,smsp__average_warps_issue_stalled_${r}_per_issue_active.ratio"; done
for k in ${KERNELS:-f16_mf4w_moe_gate_up_swiglu_tcs f16_mf4w_moe_down_tcs bf16_gemm_tcs}; do
  echo "=== $k (batch ${B:-64})"
  timeout 150 $NCU --clock-control none -k $k --launch-skip ${SKIP:-60} --launch-count 1 \
    --section SpeedOfLight --section Occupancy --section LaunchStats --section SchedulerStats --section WarpStateStats \
    --section MemoryWorkloadAnalysis --section MemoryWorkloadAnalysis_Tables --section InstructionStats --section ComputeWorkloadAnalysis \
    --metrics "${ST#,}" \
    $BIN bench --model /dev/shm/m20b --device cuda --batch ${B:-64} --prompt-tokens 16 --gen-tokens 8 --no-graphs --json > $OUT/ncu-$k.txt 2>&1
  grep -E "Duration|DRAM Throughput|Memory Throughput|Compute \(SM\)|Executed Ipc A|Issue Slots Busy|Achieved Occupancy|Theoretical Occupancy|Warp Cycles Per Issued|Registers Per|Block Limit|Eligible Warps|No Eligible|issue_stalled" $OUT/ncu-$k.txt | sed 's/smsp__average_warps_issue_stalled_//; s/_per_issue_active.ratio//' | head -45
done
