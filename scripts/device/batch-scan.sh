#!/usr/bin/env bash
# One device call: how decode throughput scales with the batch (B sequences in lockstep, `gptoss bench
# --batch B`) on the synthetic 20b, for one or more variants of one binary (environment switches), after the
# checks: fixtures vs HF on the exact path and on the tensor-core path (--tensor-core-rows 2), the tensor-core
# kernel self-test at SELFTEST token counts, and 20b GPU vs CPU on the exact path and on the tensor-core path.
# Then a per-kernel profile (GPTOSS_PROFILE=1) of the decode steps at PROFILE_B (empty: 64) for the first variant.
# Carry a folder with {gptoss.xz, fixtures/, batch-scan.sh}. Prints a table last.
# Env: VARIANTS="label:ENV=V+ENV2=V ..." (default one: "default:GPTOSS_X=0"), BATCHES="1 8 16 32 64 128 256",
# PROFILE_B="64", SELFTEST="64,256", PROMPT=128, GEN=64, CHECKS=0 (skip the checks: timing-only variants).
set -uo pipefail
D="$(cd "$(dirname "$0")" && pwd)"; OUT="${OUT:-/tmp/gptoss-out}"; mkdir -p "$OUT"
exec > >(tee -a "$OUT/log.txt") 2>&1
BIN=/tmp/gptoss; xz -dc "$D/gptoss.xz" > $BIN; chmod +x $BIN
export GPTOSS_CACHE_DIR=/tmp/gptoss-cache
PROMPT=${PROMPT:-128}; GEN=${GEN:-64}
VARIANTS=${VARIANTS:-"default:GPTOSS_X=0"}
declare -a TABLE; row() { TABLE+=("$1"); }
pick() { python3 -c "import json,sys; d=json.load(open('$1')); print(' '.join(f'{k}={d[k]:.4g}' if isinstance(d[k],float) else f'{k}={d[k]}' for k in sys.argv[1:]))" "${@:2}" 2>/dev/null || echo "(no result)"; }
envs() { echo "${1#*:}" | tr '+' ' '; }
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
FIX="$D/fixtures"
if [ "${CHECKS:-1}" = 1 ]; then
if $BIN cuda-check $FIX/tiny-a $FIX/tiny-b $FIX/tiny-c > $OUT/fix.txt 2>&1; then row "fixtures (f32 path): ok"; else row "fixtures (f32 path): FAIL"; tail -5 $OUT/fix.txt; fi
if $BIN cuda-check --tensor-core-rows 2 $FIX/tiny-a $FIX/tiny-b $FIX/tiny-c > $OUT/fix-tc.txt 2>&1; then row "fixtures (tensor cores from 2 rows): ok"; else row "fixtures (tensor cores): FAIL"; tail -8 $OUT/fix-tc.txt; fi
$BIN cuda-check --tensor-core-selftest ${SELFTEST:-64,256} > $OUT/selftest.txt 2>&1; cat $OUT/selftest.txt
while read -r l; do row "selftest: $l"; done < <(grep -E "moe" $OUT/selftest.txt)
fi
$BIN synth --preset 20b --output /dev/shm/m20b >/dev/null
if [ "${CHECKS:-1}" = 1 ]; then
  # exact path (small batches below the tensor-core threshold: f32-class, 1e-4 of max|logit|), then tensor cores from 2 rows
  if timeout 200 $BIN cuda-check --vs-cpu /dev/shm/m20b --vs-cpu-tokens 8 --vs-cpu-steps 4 > $OUT/vs-cpu-f32.txt 2>&1; then row "20b vs CPU (exact path, 8-token steps): $(tail -1 $OUT/vs-cpu-f32.txt)"; else row "20b vs CPU (exact path) FAIL: $(tail -2 $OUT/vs-cpu-f32.txt)"; fi
  if timeout 200 $BIN cuda-check --tensor-core-rows 2 --vs-cpu /dev/shm/m20b --vs-cpu-tokens 8 --vs-cpu-steps 4 > $OUT/vs-cpu.txt 2>&1; then row "20b vs CPU (tensor cores): $(tail -1 $OUT/vs-cpu.txt)"; else row "20b vs CPU (tensor cores) FAIL: $(tail -2 $OUT/vs-cpu.txt)"; fi
fi
for B in ${BATCHES:-1 8 16 32 64 128 256}; do
  for v in $VARIANTS; do
    n=${v%%:*}
    env $(envs $v) $BIN bench --model /dev/shm/m20b --device cuda --batch $B --prompt-tokens $PROMPT --gen-tokens $GEN --json > $OUT/b$B-$n.json 2>$OUT/b$B-$n.err || tail -3 $OUT/b$B-$n.err
    row "b$B $n: $(pick $OUT/b$B-$n.json decode_tok_s decode_ms_per_step prefill_tok_s copy_bandwidth_tb_s)"
  done
done
v=${VARIANTS%% *}
for B in ${PROFILE_B:-64}; do
  env $(envs $v) GPTOSS_PROFILE=1 $BIN bench --model /dev/shm/m20b --device cuda --batch $B --prompt-tokens $PROMPT --gen-tokens 16 --json > /dev/null 2> $OUT/profile-b$B.txt
  echo "== profile b$B (${v%%:*})"; sed -n '/profile: decode/,$p' $OUT/profile-b$B.txt | head -20
done
echo; echo "== summary"; for r in "${TABLE[@]}"; do echo "$r"; done
# Everything under $OUT as one archive (the device tool returns a limited number of files).
sleep 1; (cd "$OUT" && tar czf /tmp/batch-scan.tgz --exclude batch-scan.tgz . && find . -type f ! -name batch-scan.tgz -delete && mv /tmp/batch-scan.tgz .)
