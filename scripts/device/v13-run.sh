#!/usr/bin/env bash
# One device call that A/B's decode variants of one binary (written for decode v13; used for v13–v19): compile
# check, fixtures vs HF and 20b GPU vs CPU for the CHECKED variants, then batch-1 decode of every variant in the
# same call (alternating, two runs each), an events profile, and optionally a 2,048-token prompt (LONG=1) and 120b
# (WITH_120B=1). A variant is environment for the binary: a switch (GPTOSS_DECODE_SKIP, GPTOSS_DECODE_PAD,
# GPTOSS_DECODE_ROWS, ...) or GPTOSS_NVRTC_DEFINES=NAME=V to compile a kernel variant (part of the cubin cache key).
# Carry a folder with {gptoss.xz, fixtures/, v13-run.sh}. Prints a table last.
# Env: VARIANTS="label:ENV=V+ENV2=V ...", CHECKED / PROFILED (subsets; default all), GEN=128, PROMPT=128, LONG=1
# (2,048-token prompt per variant, --no-graphs), WITH_120B=1 (V120: its variants).
set -uo pipefail
D="$(cd "$(dirname "$0")" && pwd)"; OUT="${OUT:-/tmp/gptoss-out}"; mkdir -p "$OUT"
exec > >(tee -a "$OUT/log.txt") 2>&1
BIN=/tmp/gptoss; xz -dc "$D/gptoss.xz" > $BIN; chmod +x $BIN
export GPTOSS_CACHE_DIR=/tmp/gptoss-cache
GEN=${GEN:-128}; PROMPT=${PROMPT:-128}
VARIANTS=${VARIANTS:-"v7:GPTOSS_MF4S=0 gu:GPTOSS_MF4S=gate_up dn:GPTOSS_MF4S=down both:GPTOSS_MF4S=both"}
declare -a TABLE; row() { TABLE+=("$1"); }
pick() { python3 -c "import json,sys; d=json.load(open('$1')); print(' '.join(f'{k}={d[k]:.4g}' if isinstance(d[k],float) else f'{k}={d[k]}' for k in sys.argv[1:]))" "${@:2}" 2>/dev/null || echo "(no result)"; }
envs() { echo "${1#*:}" | tr '+' ' '; }
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
if $BIN kernels --check --arch sm_90 >/dev/null 2>$OUT/kcheck.txt; then row "kernels --check sm_90: ok"; else row "kernels --check sm_90: FAIL"; cat $OUT/kcheck.txt; fi
FIX="$D/fixtures"
CHECKED=${CHECKED:-$VARIANTS}   # the variants whose numerics are checked (measurement-only knobs are not)
for v in $CHECKED; do
  n=${v%%:*}
  if env $(envs $v) $BIN cuda-check $FIX/tiny-a $FIX/tiny-b $FIX/tiny-c > $OUT/fix-$n.txt 2>&1; then row "fixtures $n: ok"; else row "fixtures $n: FAIL"; tail -5 $OUT/fix-$n.txt; fi
done
t0=$(date +%s); $BIN synth --preset 20b --output /tmp/m20b >/dev/null; echo "synth 20b $(( $(date +%s) - t0 )) s"
for v in $CHECKED; do
  n=${v%%:*}
  if timeout 200 env $(envs $v) $BIN cuda-check --vs-cpu /tmp/m20b --vs-cpu-tokens 4 --vs-cpu-steps 6 > $OUT/vs-cpu-$n.txt 2>&1; then row "20b vs CPU $n: $(tail -1 $OUT/vs-cpu-$n.txt)"; else row "20b vs CPU $n FAIL: $(tail -2 $OUT/vs-cpu-$n.txt)"; fi
done
b() { local m=$1 label=$2 v=$3; env $(envs $v) $BIN bench --model $m --device cuda --batch 1 --prompt-tokens $PROMPT --gen-tokens $GEN --json > $OUT/b-$label.json 2>$OUT/b-$label.err || tail -3 $OUT/b-$label.err
  row "b1 $label: $(pick $OUT/b-$label.json decode_tok_s decode_ms_per_step fraction_of_floor copy_bandwidth_tb_s)"; }
for rep in 1 2; do for v in $VARIANTS; do b /tmp/m20b "20b-${v%%:*}-$rep" "$v"; done; done
for v in ${PROFILED-$VARIANTS}; do
  n=${v%%:*}
  env $(envs $v) GPTOSS_PROFILE=1 $BIN bench --model /tmp/m20b --device cuda --batch 1 --prompt-tokens $PROMPT --gen-tokens 16 --json 2>&1 | grep "dec_moe" > $OUT/profile-$n.txt
  while read -r l; do row "profile $n: $(echo $l | awk '{print $1, $(NF-1), $NF}')"; done < $OUT/profile-$n.txt
done
if [ "${LONG:-0}" = 1 ]; then   # 2,048-token prompt (prefill rate, decode at long context) and eager decode
  for v in $VARIANTS; do
    n=${v%%:*}
    env $(envs $v) $BIN bench --model /tmp/m20b --device cuda --batch 1 --prompt-tokens 2048 --gen-tokens 64 --json > $OUT/long-$n.json 2>$OUT/long-$n.err || tail -3 $OUT/long-$n.err
    row "2048-token prompt $n: $(pick $OUT/long-$n.json prefill_tok_s ttft_ms decode_tok_s)"
  done
  $BIN bench --model /tmp/m20b --device cuda --batch 1 --prompt-tokens $PROMPT --gen-tokens 64 --no-graphs --json > $OUT/nographs.json 2>/dev/null
  row "b1 --no-graphs (default): $(pick $OUT/nographs.json decode_tok_s fraction_of_floor)"
fi
if [ "${WITH_120B:-0}" = 1 ]; then
  rm -rf /tmp/m20b
  M=/dev/shm/m120b; avail=$(df -BG --output=avail /dev/shm | tail -1 | tr -dc 0-9)
  if [ "${avail:-0}" -lt 70 ]; then mkdir -p /tmp/ram && mount -t tmpfs -o size=80G tmpfs /tmp/ram && M=/tmp/ram/m120b; fi
  $BIN synth --preset 120b --output $M >/dev/null
  v120=${V120:-"v7:GPTOSS_MF4S=0 both:GPTOSS_MF4S=both"}
  for v in $v120; do
    n=${v%%:*}
    if timeout 200 env $(envs $v) $BIN cuda-check --vs-cpu $M --vs-cpu-tokens 2 --vs-cpu-steps 2 > $OUT/vs-cpu-120b-$n.txt 2>&1; then row "120b vs CPU $n: $(tail -1 $OUT/vs-cpu-120b-$n.txt)"; else row "120b vs CPU $n FAIL: $(tail -2 $OUT/vs-cpu-120b-$n.txt)"; fi
    GEN=64 b $M "120b-$n" "$v"
  done
fi
echo; echo "== summary"; for r in "${TABLE[@]}"; do echo "$r"; done
