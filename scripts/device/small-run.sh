#!/usr/bin/env bash
# One device call for decode v10 ("small kernels": bf16 product prologue, fused split-KV attention, router
# rows; DecodePath.swift DecodeSmallKernels): kernel compile check, correctness (tiny fixtures vs HF on the
# decode path with v10, with many attention splits, and with v6; 20b GPU vs CPU at a short and at a
# ~200-token context, where full layers take 7 attention splits and sliding layers hit the 128 window),
# then A/B benchmarks in the same call (v6 = GPTOSS_DECODE_V10=0 vs v10, 128/128 twice each, and a
# 2048-token prompt), a per-kernel profile of both, optionally 120b. Prints a short table last.
# Carry .device-small/{gptoss.xz, fixtures/, small-run.sh}. Env: SKIP_120B (default 1), GEN=128, PROMPT=128.
set -uo pipefail
D="$(cd "$(dirname "$0")" && pwd)"; OUT="${OUT:-/tmp/gptoss-out}"; mkdir -p "$OUT"
exec > >(tee -a "$OUT/log.txt") 2>&1
BIN=/tmp/gptoss; xz -dc "$D/gptoss.xz" > $BIN; chmod +x $BIN
export GPTOSS_CACHE_DIR=/tmp/gptoss-cache GPTOSS_PDL=1
GEN=${GEN:-128}; PROMPT=${PROMPT:-128}
declare -a TABLE; row() { TABLE+=("$1"); }
pick() { python3 -c "import json,sys; d=json.load(open('$1')); print(' '.join(f'{k}={d[k]:.4g}' if isinstance(d[k],float) else f'{k}={d[k]}' for k in sys.argv[1:]))" "${@:2}" 2>/dev/null || echo "(no result)"; }
nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.sm,clocks.mem --format=csv,noheader
row "card: $(nvidia-smi --query-gpu=name --format=csv,noheader)"
if $BIN kernels --check --arch sm_90 >/dev/null 2>/tmp/kcheck.txt; then row "kernels --check sm_90: ok"; else row "kernels --check sm_90: FAIL"; cat /tmp/kcheck.txt; fi
W=/tmp/small-work; mkdir -p $W   # only log.txt and the two profiles go to $OUT (8 files come back at most)
FIX="$D/fixtures"
for v in "v10:GPTOSS_DECODE_V10=1" "v10-split1:GPTOSS_ATT_MINKEYS=1" "v10-split3:GPTOSS_ATT_MINKEYS=3" "v6:GPTOSS_DECODE_V10=0"; do
  n=${v%%:*}; e=${v#*:}
  if env $e $BIN cuda-check $FIX/tiny-a $FIX/tiny-b $FIX/tiny-c > $W/fix-$n.txt 2>&1; then row "fixtures ($e): ok"; else row "fixtures ($e): FAIL"; cat $W/fix-$n.txt; fi
done
M=/dev/shm/m20b
t0=$(date +%s); $BIN synth --preset 20b --output $M >/dev/null; echo "synth 20b $(( $(date +%s) - t0 )) s"
vc() { local label=$1 toks=$2 steps=$3; shift 3
  if env "$@" timeout 60 $BIN cuda-check --vs-cpu $M --vs-cpu-tokens $toks --vs-cpu-steps $steps > $W/vs-$label.txt 2>&1; then row "20b vs CPU $label ($*): $(tail -1 $W/vs-$label.txt)"; else row "20b vs CPU $label FAIL ($*): $(tail -2 $W/vs-$label.txt)"; fi; }
vc v10-4x6 4 6 GPTOSS_DECODE_V10=1
vc v10-200x4 200 4 GPTOSS_DECODE_V10=1
vc v10-200x4-split1 200 4 GPTOSS_ATT_MINKEYS=1
b() { local label=$1 p=$2 g=$3; shift 3; local f=$(echo $label | tr -c "a-zA-Z0-9\n-" _)
  env "$@" $BIN bench --model $M --device cuda --batch 1 --prompt-tokens $p --gen-tokens $g --json > $W/b-$f.json 2>$W/b-$f.err || cat $W/b-$f.err
  row "20b b1 $p/$g $label: $(pick $W/b-$f.json decode_tok_s decode_ms_per_step fraction_of_floor copy_bandwidth_tb_s)"; }
b v6 $PROMPT $GEN GPTOSS_DECODE_V10=0
b v10 $PROMPT $GEN GPTOSS_DECODE_V10=1
b v10-bf16-only $PROMPT $GEN GPTOSS_V10_ATT=0
b v10-att-only $PROMPT $GEN GPTOSS_V10_BF16=0
b v6-again $PROMPT $GEN GPTOSS_DECODE_V10=0
b v10-again $PROMPT $GEN GPTOSS_DECODE_V10=1
b v10-minkeys16 $PROMPT $GEN GPTOSS_ATT_MINKEYS=16
# Rows per block (qkvPairs,oRows,routerRows,gateUpRows,downRows,logitRows); v10 default 4,8,4,32,16,32.
b v10-rows-8,8,4,32,16,32 $PROMPT $GEN GPTOSS_DECODE_ROWS=8,8,4,32,16,32
b v6-rows-8,8,8,32,16,32 $PROMPT $GEN GPTOSS_DECODE_V10=0 GPTOSS_DECODE_ROWS=8,8,8,32,16,32
b v6-nopdl $PROMPT $GEN GPTOSS_DECODE_V10=0 GPTOSS_PDL=0
b v10-nopdl $PROMPT $GEN GPTOSS_DECODE_V10=1 GPTOSS_PDL=0
b v6 2048 64 GPTOSS_DECODE_V10=0
b v10 2048 64 GPTOSS_DECODE_V10=1
for v in v6:0 v10:1; do
  GPTOSS_DECODE_V10=${v#*:} GPTOSS_PROFILE=1 $BIN bench --model $M --device cuda --batch 1 --prompt-tokens $PROMPT --gen-tokens 16 --json 2>&1 | grep -v '^cuda:' > $OUT/profile-${v%%:*}.txt
  echo "== profile ${v%%:*}, decode (events around every launch: +~6 us each)"; awk '/profile: decode/{on=1} on' $OUT/profile-${v%%:*}.txt | head -14
done
if [ "${SKIP_120B:-1}" != 1 ]; then
  rm -rf $M; M=/dev/shm/m120b
  t0=$(date +%s); $BIN synth --preset 120b --output $M >/dev/null; row "synth 120b: $(( $(date +%s) - t0 )) s"
  for v in v6:0 v10:1; do
    GPTOSS_DECODE_V10=${v#*:} $BIN bench --model $M --device cuda --batch 1 --prompt-tokens 128 --gen-tokens 64 --json > $W/b-120b-${v%%:*}.json 2>&1
    row "120b b1 128/64 ${v%%:*}: $(pick $W/b-120b-${v%%:*}.json decode_tok_s decode_ms_per_step fraction_of_floor floor_tok_s)"
  done
fi
echo; echo "== summary"; for r in "${TABLE[@]}"; do echo "$r"; done
