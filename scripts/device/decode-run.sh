#!/usr/bin/env bash
# One device call for the fused batch-1 decode path: kernel compile check, correctness (tiny fixtures vs
# HF with the decode path, with and without programmatic launch, and with the old path; full-size 20b
# GPU vs CPU over several decode steps), then decode benchmarks A/B in the same call (old path
# GPTOSS_DECODE=0, new path, new path without PDL), a per-kernel profile, and optionally 120b from a
# tmpfs. Prints a short table last. Carry .device-decode/{gptoss.xz, fixtures/, decode-run.sh}.
# Env: SKIP_120B=1, GEN=128, PROMPT=128.
set -uo pipefail
D="$(cd "$(dirname "$0")" && pwd)"; OUT="${OUT:-/tmp/gptoss-out}"; mkdir -p "$OUT"
exec > >(tee -a "$OUT/log.txt") 2>&1
BIN=/tmp/gptoss; xz -dc "$D/gptoss.xz" > $BIN; chmod +x $BIN
export GPTOSS_CACHE_DIR=/tmp/gptoss-cache
GEN=${GEN:-128}; PROMPT=${PROMPT:-128}
declare -a TABLE; row() { TABLE+=("$1"); }
pick() { python3 -c "import json,sys; d=json.load(open('$1')); print(' '.join(f'{k}={d[k]:.4g}' if isinstance(d[k],float) else f'{k}={d[k]}' for k in sys.argv[1:]))" "${@:2}" 2>/dev/null || echo "(no result)"; }
nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.sm,clocks.mem --format=csv,noheader
if $BIN kernels --check --arch sm_90 >/dev/null 2>$OUT/kcheck.txt; then row "kernels --check sm_90: ok"; else row "kernels --check sm_90: FAIL"; cat $OUT/kcheck.txt; fi
FIX="$D/fixtures"
for v in "pdl1:GPTOSS_PDL=1" "pdl0:GPTOSS_PDL=0" "old:GPTOSS_DECODE=0"; do
  n=${v%%:*}; e=${v#*:}
  if env $e $BIN cuda-check $FIX/tiny-a $FIX/tiny-b $FIX/tiny-c > $OUT/fix-$n.txt 2>&1; then row "fixtures ($e): ok"; else row "fixtures ($e): FAIL"; cat $OUT/fix-$n.txt; fi
done
t0=$(date +%s); $BIN synth --preset 20b --output /tmp/m20b >/dev/null; echo "synth 20b $(( $(date +%s) - t0 )) s"
if timeout 240 $BIN cuda-check --vs-cpu /tmp/m20b --vs-cpu-tokens 4 --vs-cpu-steps 6 > $OUT/vs-cpu.txt 2>&1; then row "20b vs CPU: $(tail -1 $OUT/vs-cpu.txt)"; else row "20b vs CPU FAIL: $(tail -3 $OUT/vs-cpu.txt)"; fi
b() { local label=$1; shift; local f=$(echo $label | tr -c "a-zA-Z0-9\n-" _); env "$@" $BIN bench --model /tmp/m20b --device cuda --batch 1 --prompt-tokens $PROMPT --gen-tokens $GEN --json > $OUT/b-$f.json 2>$OUT/b-$f.err || cat $OUT/b-$f.err
  row "20b b1 $label: $(pick $OUT/b-$f.json decode_tok_s decode_ms_per_step fraction_of_floor copy_bandwidth_tb_s)"; }
b old GPTOSS_DECODE=0
b new GPTOSS_PDL=1
b new-nopdl GPTOSS_PDL=0
b new-again GPTOSS_PDL=1
# Rows per block (qkvPairs,oRows,routerRows,gateUpRows,downRows,logitRows); default 4,8,8,64,32,32.
for rows in ${ROWS_VARIANTS:-8,8,8,32,16,32}; do b "rows-$rows" GPTOSS_DECODE_ROWS=$rows; done
GPTOSS_PROFILE=1 $BIN bench --model /tmp/m20b --device cuda --batch 1 --prompt-tokens $PROMPT --gen-tokens 16 --json 2>&1 | grep -v '^cuda:' > $OUT/profile.txt
echo "== profile (new path, events around every launch: +~6 us each)"; head -24 $OUT/profile.txt
if [ "${SKIP_120B:-0}" != 1 ]; then
  rm -rf /tmp/m20b
  M=/dev/shm/m120b; avail=$(df -BG --output=avail /dev/shm | tail -1 | tr -dc 0-9)
  if [ "${avail:-0}" -lt 70 ]; then mkdir -p /tmp/ram && mount -t tmpfs -o size=80G tmpfs /tmp/ram && M=/tmp/ram/m120b; fi
  t0=$(date +%s); $BIN synth --preset 120b --output $M >/dev/null; echo "synth 120b $(( $(date +%s) - t0 )) s"; row "synth 120b: $(( $(date +%s) - t0 )) s"
  if timeout 200 $BIN cuda-check --vs-cpu $M --vs-cpu-tokens 2 --vs-cpu-steps 2 > $OUT/vs-cpu-120b.txt 2>&1; then row "120b vs CPU: $(tail -1 $OUT/vs-cpu-120b.txt)"; else row "120b vs CPU FAIL/timeout: $(tail -2 $OUT/vs-cpu-120b.txt)"; fi
  $BIN bench --model $M --device cuda --batch 1 --prompt-tokens 128 --gen-tokens 64 --json > $OUT/b-120b.json 2>$OUT/b-120b.err || cat $OUT/b-120b.err
  row "120b b1 new: $(pick $OUT/b-120b.json decode_tok_s decode_ms_per_step fraction_of_floor floor_tok_s load_s upload_gb_per_s peak_device_alloc_gb)"
fi
echo; echo "== summary"; for r in "${TABLE[@]}"; do echo "$r"; done
