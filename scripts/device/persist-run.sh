#!/usr/bin/env bash
# One device call for decode v8 (pipelined tensor-core MXFP4 expert products, dec_moe_*_tp): kernel
# compile check, correctness (tiny fixtures vs HF with v8 early/late and v7; full-size 20b and 120b GPU vs
# CPU), then 20b batch-1 decode A/B in the same call: v7 (GPTOSS_MF4PIPE=0) against v8 with the first
# loads before (default) or after (GPTOSS_MF4EARLY=0) the input staging, and fatter blocks; the best v8
# variant then runs on 120b against v7. Carry .device-persist/{gptoss.xz, fixtures/, persist-run.sh}.
# PIPE=1 (default): v8 (dec_moe_*_tp); PIPE=2: v9 (dec_moe_*_tg). Labels say v8 for either.
# (Run 1 of 2026-11-27 ran with v8 as the binary's default; since then GPTOSS_MF4PIPE must name it.)
set -uo pipefail
D="$(cd "$(dirname "$0")" && pwd)"; OUT="${OUT:-/tmp/gptoss-out}"; mkdir -p "$OUT"
exec > >(tee -a "$OUT/log.txt") 2>&1
T0=$(date +%s); ts() { echo "[$(( $(date +%s) - T0 )) s]"; }
BIN=/tmp/gptoss; xz -dc "$D/gptoss.xz" > $BIN; chmod +x $BIN
export GPTOSS_CACHE_DIR=/tmp/gptoss-cache GPTOSS_PDL=${GPTOSS_PDL:-1}
GEN=${GEN:-128}; PROMPT=${PROMPT:-128}; PIPE=${PIPE:-1}; P="GPTOSS_MF4PIPE=$PIPE"
echo "PIPE=$PIPE"
declare -a TABLE; row() { TABLE+=("$1"); echo "$(ts) $1"; }
pick() { python3 -c "import json,sys; d=json.load(open('$1')); print(' '.join(f'{k}={d[k]:.4g}' if isinstance(d[k],float) else f'{k}={d[k]}' for k in sys.argv[1:]))" "${@:2}" 2>/dev/null || echo "(no result)"; }
tok() { python3 -c "import json; print(json.load(open('$1'))['decode_tok_s'])" 2>/dev/null || echo 0; }
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
if $BIN kernels --check --arch sm_90 >/dev/null 2>$OUT/kcheck.txt; then row "kernels --check sm_90: ok"; else row "kernels --check sm_90: FAIL"; cat $OUT/kcheck.txt; fi
FIX="$D/fixtures"
for v in "v8:$P GPTOSS_MF4EARLY=1" "v8late:$P GPTOSS_MF4EARLY=0" "v8r64:$P GPTOSS_DECODE_ROWS=4,8,8,64,32,32" "v7:GPTOSS_MF4PIPE=0"; do
  n=${v%%:*}; e=${v#*:}
  if env $e $BIN cuda-check $FIX/tiny-a $FIX/tiny-b $FIX/tiny-c > $OUT/fix-$n.txt 2>&1; then row "fixtures ($e): ok"; else row "fixtures ($e): FAIL"; cat $OUT/fix-$n.txt; fi
done
M=/dev/shm/m20b; $BIN synth --preset 20b --output $M >/dev/null; row "synth 20b done"
for v in "v8:$P GPTOSS_MF4EARLY=1" "v8late:$P GPTOSS_MF4EARLY=0" "v8r64:$P GPTOSS_DECODE_ROWS=4,8,8,64,32,32"; do n=${v%%:*}; e=${v#*:}
  if env $e timeout 60 $BIN cuda-check --vs-cpu $M --vs-cpu-tokens 4 --vs-cpu-steps 6 > $OUT/vs-cpu-$n.txt 2>&1; then row "20b vs CPU ($e): $(tail -1 $OUT/vs-cpu-$n.txt)"; else row "20b vs CPU ($e) FAIL: $(tail -3 $OUT/vs-cpu-$n.txt)"; fi
done
declare -A TOK
b() { local model=$1 label=$2 gen=$3; shift 3; local f=$(echo $label | tr -c "a-zA-Z0-9\n-" _)
  env "$@" $BIN bench --model $model --device cuda --batch 1 --prompt-tokens $PROMPT --gen-tokens $gen --json > $OUT/b-$f.json 2>$OUT/b-$f.err || tail -3 $OUT/b-$f.err
  TOK[$label]=$(tok $OUT/b-$f.json)
  row "$label: $(pick $OUT/b-$f.json decode_tok_s decode_ms_per_step fraction_of_floor floor_tok_s copy_bandwidth_tb_s)"; }
b $M "20b v7" $GEN GPTOSS_MF4PIPE=0
b $M "20b v8-early" $GEN $P GPTOSS_MF4EARLY=1
b $M "20b v8-late" $GEN $P GPTOSS_MF4EARLY=0
b $M "20b v8-early-r64-32" $GEN $P GPTOSS_MF4EARLY=1 GPTOSS_DECODE_ROWS=4,8,8,64,32,32
b $M "20b v8-late-r64-32" $GEN $P GPTOSS_MF4EARLY=0 GPTOSS_DECODE_ROWS=4,8,8,64,32,32
b $M "20b v7-again" $GEN GPTOSS_MF4PIPE=0
best="early"; bt=0
for k in early late early-r64-32 late-r64-32; do v=${TOK["20b v8-$k"]:-0}; if python3 -c "import sys; sys.exit(0 if $v > $bt else 1)"; then best=$k; bt=$v; fi; done
case $best in early) BE="$P GPTOSS_MF4EARLY=1";; late) BE="$P GPTOSS_MF4EARLY=0";; early-r64-32) BE="$P GPTOSS_MF4EARLY=1 GPTOSS_DECODE_ROWS=4,8,8,64,32,32";; *) BE="$P GPTOSS_MF4EARLY=0 GPTOSS_DECODE_ROWS=4,8,8,64,32,32";; esac
row "best v8 on 20b: $best ($bt tok/s): $BE"
b $M "20b v8-$best-again" $GEN $BE
env $BE GPTOSS_PROFILE=1 $BIN bench --model $M --device cuda --batch 1 --prompt-tokens $PROMPT --gen-tokens 16 --json 2>&1 | grep -v '^cuda:' > $OUT/profile.txt
echo "== profile (v8 $best, events around every launch: +~6 us each)"; sed -n '/profile: decode/,$p' $OUT/profile.txt | head -12
if [ "${SKIP_120B:-0}" != 1 ]; then
  rm -rf $M; M=/dev/shm/m120b; avail=$(df -BG --output=avail /dev/shm | tail -1 | tr -dc 0-9)
  if [ "${avail:-0}" -lt 70 ]; then mkdir -p /tmp/ram && mount -t tmpfs -o size=80G tmpfs /tmp/ram && M=/tmp/ram/m120b; fi
  $BIN synth --preset 120b --output $M >/dev/null; row "synth 120b done"
  if env $BE timeout 60 $BIN cuda-check --vs-cpu $M --vs-cpu-tokens 2 --vs-cpu-steps 2 > $OUT/vs-cpu-120b.txt 2>&1; then row "120b vs CPU (v8 $BE): $(tail -1 $OUT/vs-cpu-120b.txt)"; else row "120b vs CPU FAIL/timeout: $(tail -2 $OUT/vs-cpu-120b.txt)"; fi
  b $M "120b v8-$best" 64 $BE
  b $M "120b v7" 64 GPTOSS_MF4PIPE=0
fi
echo; echo "== summary"; for r in "${TABLE[@]}"; do echo "$r"; done
