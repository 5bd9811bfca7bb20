#!/usr/bin/env bash
# One device call for decode v10 (dec_moe_gate_up_v10 / dec_moe_down_v10, opt-in GPTOSS_MF4V=10: one block
# per SM, each warp streaming (expert slot, 16-row group) units through its own cp.async ring): kernel check,
# correctness (tiny fixtures vs HF with v10 and v7; full-size 20b and 120b GPU vs CPU), then batch-1 decode
# A/B in the same call: v7 (the default; GPTOSS_MF4V=7) against v10 (GPTOSS_MF4V=10), twice each, a sweep of
# v10 launch shapes (GPTOSS_MF4V_CFG = gateWarps,gateStages,downWarps,downStages,downSplit,prefetch[,blocksPerSM]), the
# best shape again, a per-kernel profile, and 120b v7 vs v10. Prints a short table last.
# Carry .device-moe10/{gptoss.xz, fixtures/, moe10-run.sh}. Env: SKIP_120B=1, CFGS="..." (sweep list).
set -uo pipefail
D="$(cd "$(dirname "$0")" && pwd)"; OUT="${OUT:-/tmp/gptoss-out}"; mkdir -p "$OUT"
exec > >(tee -a "$OUT/log.txt") 2>&1
W=/tmp/moe10w; mkdir -p $W   # per-command files stay here: only log.txt comes back
T0=$(date +%s); ts() { echo "[$(( $(date +%s) - T0 )) s]"; }
BIN=/tmp/gptoss; xz -dc "$D/gptoss.xz" > $BIN; chmod +x $BIN
export GPTOSS_CACHE_DIR=/tmp/gptoss-cache GPTOSS_PDL=${GPTOSS_PDL:-1}
GEN=${GEN:-128}; PROMPT=${PROMPT:-128}
CFGS=${CFGS:-"16,4,16,4,2,1 16,3,16,3,2,0 16,4,16,4,1,0 12,4,12,4,2,0 8,4,8,4,2,0,2"}
declare -a TABLE; row() { TABLE+=("$1"); echo "$(ts) $1"; }
pick() { python3 -c "import json,sys; d=json.load(open('$1')); print(' '.join(f'{k}={d[k]:.4g}' if isinstance(d[k],float) else f'{k}={d[k]}' for k in sys.argv[1:]))" "${@:2}" 2>/dev/null || echo "(no result)"; }
tok() { python3 -c "import json; print(json.load(open('$1'))['decode_tok_s'])" 2>/dev/null || echo 0; }
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
if $BIN kernels --check --arch sm_90 >/dev/null 2>$W/kcheck.txt; then row "kernels --check sm_90: ok"; else row "kernels --check sm_90: FAIL"; cat $W/kcheck.txt; fi
FIX="$D/fixtures"
for v in "v10:GPTOSS_MF4V=10" "v10ks1:GPTOSS_MF4V_CFG=16,4,16,4,1,0" "v10b2:GPTOSS_MF4V_CFG=8,6,8,4,2,0,2" "v7:GPTOSS_MF4V=7"; do
  n=${v%%:*}; e=${v#*:}
  if env $e $BIN cuda-check $FIX/tiny-a $FIX/tiny-b $FIX/tiny-c > $W/fix-$n.txt 2>&1; then row "fixtures ($e): ok"; else row "fixtures ($e): FAIL"; tail -20 $W/fix-$n.txt; fi
done
M=/dev/shm/m20b; $BIN synth --preset 20b --output $M >/dev/null; row "synth 20b done"
for v in "v10:GPTOSS_MF4V=10" "v10ks1:GPTOSS_MF4V_CFG=16,4,16,4,1,0" "v7:GPTOSS_MF4V=7"; do n=${v%%:*}; e=${v#*:}
  if env $e timeout 60 $BIN cuda-check --vs-cpu $M --vs-cpu-tokens 4 --vs-cpu-steps 6 > $W/vs-cpu-$n.txt 2>&1; then row "20b vs CPU ($e): $(tail -1 $W/vs-cpu-$n.txt)"; else row "20b vs CPU ($e) FAIL: $(tail -3 $W/vs-cpu-$n.txt)"; fi
done
declare -A TOK
b() { local model=$1 label=$2 gen=$3; shift 3; local f=$(echo $label | tr -c "a-zA-Z0-9\n-" _)
  env "$@" $BIN bench --model $model --device cuda --batch 1 --prompt-tokens $PROMPT --gen-tokens $gen --json > $W/b-$f.json 2>$W/b-$f.err || tail -3 $W/b-$f.err
  TOK[$label]=$(tok $W/b-$f.json)
  row "$label: $(pick $W/b-$f.json decode_tok_s decode_ms_per_step fraction_of_floor floor_tok_s copy_bandwidth_tb_s)"; }
b $M "20b v7" $GEN GPTOSS_MF4V=7
b $M "20b v10" $GEN GPTOSS_MF4V=10
b $M "20b v7-again" $GEN GPTOSS_MF4V=7
b $M "20b v10-again" $GEN GPTOSS_MF4V=10
best="default"; bt=${TOK["20b v10"]:-0}
for c in $CFGS; do b $M "20b v10-$c" $GEN GPTOSS_MF4V_CFG=$c; v=${TOK["20b v10-$c"]:-0}
  if python3 -c "import sys; sys.exit(0 if $v > $bt else 1)"; then best=$c; bt=$v; fi; done
BE="GPTOSS_MF4V=10"; [ "$best" != default ] && BE="GPTOSS_MF4V_CFG=$best"
row "best v10 shape on 20b: $best ($bt tok/s)"
[ "$best" != default ] && b $M "20b v10-$best-again" $GEN $BE
for v in "v10:$BE" "v7:GPTOSS_MF4V=7"; do n=${v%%:*}; e=${v#*:}
  env $e GPTOSS_PROFILE=1 $BIN bench --model $M --device cuda --batch 1 --prompt-tokens $PROMPT --gen-tokens 16 --json 2>&1 | grep -v '^cuda:' > $W/profile-$n.txt
  echo "== profile ($n $e, events around every launch: +~6 us each)"; sed -n '/profile: decode/,$p' $W/profile-$n.txt | head -12
done
if [ "${SKIP_120B:-0}" != 1 ]; then
  rm -rf $M; M=/dev/shm/m120b; avail=$(df -BG --output=avail /dev/shm | tail -1 | tr -dc 0-9)
  if [ "${avail:-0}" -lt 70 ]; then mkdir -p /tmp/ram && mount -t tmpfs -o size=80G tmpfs /tmp/ram && M=/tmp/ram/m120b; fi
  $BIN synth --preset 120b --output $M >/dev/null; row "synth 120b done"
  if env $BE timeout 60 $BIN cuda-check --vs-cpu $M --vs-cpu-tokens 2 --vs-cpu-steps 2 > $W/vs-cpu-120b.txt 2>&1; then row "120b vs CPU ($BE): $(tail -1 $W/vs-cpu-120b.txt)"; else row "120b vs CPU FAIL/timeout: $(tail -2 $W/vs-cpu-120b.txt)"; fi
  b $M "120b v7" 64 GPTOSS_MF4V=7
  b $M "120b v10 ($BE)" 64 $BE
  [ "$best" != default ] && b $M "120b v10-default" 64 GPTOSS_MF4V=10
  b $M "120b v7-again" 64 GPTOSS_MF4V=7
fi
echo; echo "== summary"; for r in "${TABLE[@]}"; do echo "$r"; done
