#!/usr/bin/env bash
# One GPU-machine call: kernel compile check, correctness on the tiny fixtures, then benchmarks on a
# synthetic gpt-oss-20b generated on the machine, and PyTorch + transformers on the same checkpoint.
# The GPU host has no Swift: build here and carry the binary, e.g.
#   swift build -c release --static-swift-stdlib --product gptoss && strip .build/release/gptoss
#   mkdir -p .device && xz -T0 -c .build/release/gptoss > .device/gptoss.xz
#   cp -r Tests/Fixtures/models .device/fixtures && cp scripts/device/check-and-bench.sh tools/bench_torch.py .device/
#   then run `bash .device/check-and-bench.sh` there (with .device carried). Env knobs: SKIP_TORCH=1,
#   SKIP_20B=1, GEN=128, PROMPT=128, PREFILL=2048, B1_VARIANTS="label:ENV=V ..." (batch-1 A/B), WITH_120B=1 (synthetic 120b: GPU vs CPU and batch-1 decode).
set -uo pipefail
D="$(cd "$(dirname "$0")" && pwd)"
OUT="${OUT:-/tmp/gptoss-out}"; mkdir -p "$OUT"
LOG="$OUT/log.txt"
exec > >(tee -a "$LOG") 2>&1
BIN=/tmp/gptoss
if [ -f "$D/gptoss.xz" ]; then xz -dc "$D/gptoss.xz" > "$BIN"; else cp "$D/gptoss" "$BIN"; fi
chmod +x "$BIN"
export GPTOSS_CACHE_DIR=/tmp/gptoss-cache
FIX="$D/fixtures"; [ -d "$FIX" ] || FIX="$(pwd)/Tests/Fixtures/models"
GEN=${GEN:-128}; PROMPT=${PROMPT:-128}; PREFILL=${PREFILL:-2048}
declare -a TABLE
row() { TABLE+=("$1"); }
pick() { python3 -c "import json,sys; d=json.load(open('$1')); print(' '.join(f'{k}={d[k]:.4g}' if isinstance(d[k],float) else f'{k}={d[k]}' for k in sys.argv[1:]))" "${@:2}" 2>/dev/null || echo "(no result)"; }

echo "== device"; nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.sm,clocks.mem --format=csv
echo "== kernels (NVRTC on this machine)"
if "$BIN" kernels --check --arch sm_90; then row "kernels --check sm_90: ok"; else row "kernels --check sm_90: FAIL"; fi
"$BIN" kernels --arch sm_90 >/dev/null 2>&1   # fill the cubin cache
echo "== correctness: tiny fixtures vs HF fp32 references"
if "$BIN" cuda-check "$FIX"/tiny-a "$FIX"/tiny-b "$FIX"/tiny-c | tee "$OUT/cuda-check.txt"; then row "cuda-check tiny-a/b/c: ok"; else row "cuda-check tiny-a/b/c: FAIL"; fi

if [ "${SKIP_20B:-0}" != 1 ]; then
  echo "== synthetic 20b"
  t0=$(date +%s); "$BIN" synth --preset 20b --output /tmp/m20b; echo "synth took $(( $(date +%s) - t0 )) s"
  echo "== GPU vs CPU backend on the full-size synthetic 20b"
  if timeout 180 "$BIN" cuda-check --vs-cpu /tmp/m20b --vs-cpu-tokens 4 --vs-cpu-steps 2 | tee "$OUT/vs-cpu.txt"; then row "20b GPU vs CPU: $(tail -1 $OUT/vs-cpu.txt)"; else row "20b GPU vs CPU: FAIL/timeout $(tail -1 $OUT/vs-cpu.txt)"; fi
  echo "== bench 20b batch 1 (prompt $PROMPT, gen $GEN)"
  "$BIN" bench --model /tmp/m20b --device cuda --batch 1 --prompt-tokens $PROMPT --gen-tokens $GEN --json | tee "$OUT/bench-b1.json"
  "$BIN" bench --model /tmp/m20b --device cuda --batch 1 --prompt-tokens $PROMPT --gen-tokens $GEN --json --no-graphs | tee "$OUT/bench-b1-nographs.json"
  # B1_VARIANTS="label:ENV=V label2:ENV=V": batch-1 A/B in the same call (fixtures checked with each too).
  for v in ${B1_VARIANTS:-}; do
    n=${v%%:*}; e=${v#*:}
    if env $e "$BIN" cuda-check "$FIX"/tiny-a "$FIX"/tiny-b "$FIX"/tiny-c > "$OUT/cuda-check-$n.txt" 2>&1; then row "cuda-check $e: ok"; else row "cuda-check $e: FAIL"; cat "$OUT/cuda-check-$n.txt"; fi
    if timeout 180 env $e "$BIN" cuda-check --vs-cpu /tmp/m20b --vs-cpu-tokens 4 --vs-cpu-steps 2 > "$OUT/vs-cpu-$n.txt" 2>&1; then row "20b GPU vs CPU $e: $(tail -1 $OUT/vs-cpu-$n.txt)"; else row "20b GPU vs CPU $e: FAIL $(tail -1 $OUT/vs-cpu-$n.txt)"; fi
    for rep in 1 2; do
      env $e "$BIN" bench --model /tmp/m20b --device cuda --batch 1 --prompt-tokens $PROMPT --gen-tokens $GEN --json > "$OUT/bench-b1-$n-$rep.json"
      row "20b b1 $e ($rep): $(pick $OUT/bench-b1-$n-$rep.json decode_tok_s fraction_of_floor copy_bandwidth_tb_s)"
    done
    "$BIN" bench --model /tmp/m20b --device cuda --batch 1 --prompt-tokens $PROMPT --gen-tokens $GEN --json > "$OUT/bench-b1-default-$n.json"
    row "20b b1 default (again): $(pick $OUT/bench-b1-default-$n.json decode_tok_s fraction_of_floor copy_bandwidth_tb_s)"
  done
  echo "== bench 20b prefill $PREFILL"
  "$BIN" bench --model /tmp/m20b --device cuda --batch 1 --prompt-tokens $PREFILL --gen-tokens 8 --json | tee "$OUT/bench-prefill.json"
  echo "== bench 20b batch 8"
  "$BIN" bench --model /tmp/m20b --device cuda --batch 8 --prompt-tokens $PROMPT --gen-tokens 64 --json | tee "$OUT/bench-b8.json"
  row "20b b1 graphs:   $(pick $OUT/bench-b1.json decode_tok_s floor_tok_s fraction_of_floor copy_bandwidth_tb_s load_s upload_gb_per_s peak_device_alloc_gb)"
  row "20b b1 nographs: $(pick $OUT/bench-b1-nographs.json decode_tok_s fraction_of_floor)"
  row "20b prefill:     $(pick $OUT/bench-prefill.json prompt_tokens prefill_tok_s ttft_ms)"
  row "20b b8:          $(pick $OUT/bench-b8.json decode_tok_s prefill_tok_s)"
  if [ "${SKIP_TORCH:-0}" != 1 ] && [ -f "$D/bench_torch.py" ]; then
    echo "== PyTorch + transformers on the same checkpoint"
    timeout 200 python3 "$D/bench_torch.py" /tmp/m20b $GEN | tee "$OUT/torch.txt"
    row "torch:           $(tail -1 $OUT/torch.txt)"
  fi
fi
if [ "${WITH_120B:-0}" = 1 ]; then
  echo "== synthetic 120b (tmpfs), GPU vs CPU and batch-1 decode"
  rm -rf /tmp/m20b
  M=/dev/shm/m120b; avail=$(df -BG --output=avail /dev/shm | tail -1 | tr -dc 0-9)
  if [ "${avail:-0}" -lt 70 ]; then mkdir -p /tmp/ram && mount -t tmpfs -o size=80G tmpfs /tmp/ram && M=/tmp/ram/m120b; fi
  "$BIN" synth --preset 120b --output $M >/dev/null
  if timeout 200 "$BIN" cuda-check --vs-cpu $M --vs-cpu-tokens 2 --vs-cpu-steps 2 > $OUT/vs-cpu-120b.txt 2>&1; then row "120b GPU vs CPU: $(tail -1 $OUT/vs-cpu-120b.txt)"; else row "120b GPU vs CPU: FAIL/timeout $(tail -2 $OUT/vs-cpu-120b.txt)"; fi
  "$BIN" bench --model $M --device cuda --batch 1 --prompt-tokens 128 --gen-tokens 64 --json > $OUT/b-120b.json 2>$OUT/b-120b.err || cat $OUT/b-120b.err
  row "120b b1: $(pick $OUT/b-120b.json decode_tok_s floor_tok_s fraction_of_floor copy_bandwidth_tb_s load_s peak_device_alloc_gb)"
  for v in ${B1_VARIANTS:-}; do
    n=${v%%:*}; e=${v#*:}
    env $e "$BIN" bench --model $M --device cuda --batch 1 --prompt-tokens 128 --gen-tokens 64 --json > $OUT/b-120b-$n.json 2>$OUT/b-120b-$n.err || cat $OUT/b-120b-$n.err
    row "120b b1 $e: $(pick $OUT/b-120b-$n.json decode_tok_s floor_tok_s fraction_of_floor copy_bandwidth_tb_s)"
  done
fi
echo; echo "== summary"; for r in "${TABLE[@]}"; do echo "$r"; done
