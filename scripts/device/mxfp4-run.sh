#!/usr/bin/env bash
# One device call for the tensor-core MXFP4 expert products (decode v7): kernel compile check,
# correctness (tiny fixtures vs HF with the tensor-core kernels, with GPTOSS_MF4TC=0 and with the old
# path; full-size 20b and 120b GPU vs CPU), then 20b batch-1 decode A/B in the same call (old path,
# v6 CUDA-core MXFP4 = GPTOSS_MF4TC=0, v7 tensor cores), a per-kernel profile and 120b v7 vs v6.
# Carry .device-mxfp4/{gptoss.xz, fixtures/, mxfp4-run.sh}. Env: SKIP_120B=1, GEN=128, PROMPT=128.
set -uo pipefail
D="$(cd "$(dirname "$0")" && pwd)"; OUT="${OUT:-/tmp/gptoss-out}"; mkdir -p "$OUT"
exec > >(tee -a "$OUT/log.txt") 2>&1
BIN=/tmp/gptoss; xz -dc "$D/gptoss.xz" > $BIN; chmod +x $BIN
export GPTOSS_CACHE_DIR=/tmp/gptoss-cache GPTOSS_PDL=${GPTOSS_PDL:-1}
GEN=${GEN:-128}; PROMPT=${PROMPT:-128}
declare -a TABLE; row() { TABLE+=("$1"); echo "$1"; }
pick() { python3 -c "import json,sys; d=json.load(open('$1')); print(' '.join(f'{k}={d[k]:.4g}' if isinstance(d[k],float) else f'{k}={d[k]}' for k in sys.argv[1:]))" "${@:2}" 2>/dev/null || echo "(no result)"; }
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
if $BIN kernels --check --arch sm_90 >/dev/null 2>$OUT/kcheck.txt; then row "kernels --check sm_90: ok"; else row "kernels --check sm_90: FAIL"; cat $OUT/kcheck.txt; fi
FIX="$D/fixtures"
for v in "tc:GPTOSS_MF4TC=1" "cc:GPTOSS_MF4TC=0" "old:GPTOSS_DECODE=0"; do
  n=${v%%:*}; e=${v#*:}
  if env $e $BIN cuda-check $FIX/tiny-a $FIX/tiny-b $FIX/tiny-c > $OUT/fix-$n.txt 2>&1; then row "fixtures ($e): ok"; else row "fixtures ($e): FAIL"; cat $OUT/fix-$n.txt; fi
done
M=/dev/shm/m20b; $BIN synth --preset 20b --output $M >/dev/null
for v in "tc:GPTOSS_MF4TC=1" "cc:GPTOSS_MF4TC=0"; do n=${v%%:*}; e=${v#*:}
  if env $e timeout 120 $BIN cuda-check --vs-cpu $M --vs-cpu-tokens 4 --vs-cpu-steps 6 > $OUT/vs-cpu-$n.txt 2>&1; then row "20b vs CPU ($e): $(tail -1 $OUT/vs-cpu-$n.txt)"; else row "20b vs CPU ($e) FAIL: $(tail -3 $OUT/vs-cpu-$n.txt)"; fi
done
b() { local model=$1 label=$2 gen=$3; shift 3; local f=$(echo $label | tr -c "a-zA-Z0-9\n-" _)
  env "$@" $BIN bench --model $model --device cuda --batch 1 --prompt-tokens $PROMPT --gen-tokens $gen --json > $OUT/b-$f.json 2>$OUT/b-$f.err || tail -3 $OUT/b-$f.err
  row "$label: $(pick $OUT/b-$f.json decode_tok_s decode_ms_per_step fraction_of_floor floor_tok_s copy_bandwidth_tb_s)"; }
b $M "20b old-path" $GEN GPTOSS_DECODE=0
b $M "20b v6-cudacore" $GEN GPTOSS_MF4TC=0
b $M "20b v7-tc" $GEN GPTOSS_MF4TC=1
b $M "20b v6-cudacore-again" $GEN GPTOSS_MF4TC=0
b $M "20b v7-tc-again" $GEN GPTOSS_MF4TC=1
GPTOSS_PROFILE=1 $BIN bench --model $M --device cuda --batch 1 --prompt-tokens $PROMPT --gen-tokens 16 --json 2>&1 | grep -v '^cuda:' > $OUT/profile.txt
echo "== profile (v7, events around every launch: +~6 us each)"; sed -n '/profile: decode/,$p' $OUT/profile.txt | head -14
GPTOSS_MF4TC=0 GPTOSS_PROFILE=1 $BIN bench --model $M --device cuda --batch 1 --prompt-tokens $PROMPT --gen-tokens 16 --json 2>&1 | grep -v '^cuda:' > $OUT/profile-v6.txt
echo "== profile v6 (GPTOSS_MF4TC=0), MXFP4 rows"; sed -n '/profile: decode/,$p' $OUT/profile-v6.txt | grep dec_moe
# Rows per block (qkvPairs,oRows,routerRows,gateUpRows,downRows,logitRows); default 4,8,8,32,16,32.
for rows in ${ROWS_VARIANTS:-4,8,8,16,8,32 4,8,8,16,16,32 4,8,8,64,32,32}; do b $M "20b v7-rows-$rows" $GEN GPTOSS_MF4TC=1 GPTOSS_DECODE_ROWS=$rows; done
if [ "${SKIP_120B:-0}" != 1 ]; then
  rm -rf $M; M=/dev/shm/m120b; avail=$(df -BG --output=avail /dev/shm | tail -1 | tr -dc 0-9)
  if [ "${avail:-0}" -lt 70 ]; then mkdir -p /tmp/ram && mount -t tmpfs -o size=80G tmpfs /tmp/ram && M=/tmp/ram/m120b; fi
  t0=$(date +%s); $BIN synth --preset 120b --output $M >/dev/null; row "synth 120b: $(( $(date +%s) - t0 )) s"
  if timeout 100 $BIN cuda-check --vs-cpu $M --vs-cpu-tokens 2 --vs-cpu-steps 2 > $OUT/vs-cpu-120b.txt 2>&1; then row "120b vs CPU (tc): $(tail -1 $OUT/vs-cpu-120b.txt)"; else row "120b vs CPU FAIL/timeout: $(tail -2 $OUT/vs-cpu-120b.txt)"; fi
  b $M "120b v7-tc" 64 GPTOSS_MF4TC=1
  b $M "120b v6-cudacore" 64 GPTOSS_MF4TC=0
fi
echo; echo "== summary"; for r in "${TABLE[@]}"; do echo "$r"; done
