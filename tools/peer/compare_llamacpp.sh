#!/usr/bin/env bash
# Decode and prefill of our CPU backend against llama.cpp on this machine, back to back on the same bytes
# (issue 7's comparison; docs/perf-notes.md CPU "Version 6" and "Version 8").
#
#   tools/peer/compare_llamacpp.sh LLAMA_BENCH GGUF CHECKPOINT_DIR [rounds=4] [threads=2]
#
# LLAMA_BENCH: a llama-bench binary built from llama.cpp's source (not part of this repo); GGUF: the same
# checkpoint written by tools/peer/gguf_from_checkpoint.py. Each round warms the page cache with one file
# (the two 20b files do not both fit in 24 GiB), runs `llama-bench -p 128 -n 32 -r 3`, then warms ours and
# runs `gptoss bench` with the same prompt / generation lengths and repeats. Prints one line per round and
# the means; llama.cpp's numbers are its avg_ts, ours the best repeat and the median.
set -euo pipefail
LB=$1; GGUF=$2; CKPT=$3; ROUNDS=${4:-4}; T=${5:-2}
GPTOSS=${GPTOSS:-.build/release/gptoss}
[ -x "$LB" ] || { echo "llama-bench not found: $LB" >&2; exit 2; }
[ -f "$GGUF" ] || { echo "GGUF not found: $GGUF" >&2; exit 2; }
[ -x "$GPTOSS" ] || { echo "gptoss not built: $GPTOSS (swift build -c release)" >&2; exit 2; }
out=$(mktemp -d)
printf '%-5s %-8s %-5s | %-8s %-8s %-8s | %-8s %-8s %-8s %-6s\n' round time load "ll pp" "our pp" "(med)" "ll tg" "our tg" "(med)" "GB/s"
for r in $(seq 1 "$ROUNDS"); do
    cat "$GGUF" > /dev/null
    "$LB" -m "$GGUF" -t "$T" -p 128 -n 32 -r 3 -o jsonl > "$out/ll.$r" 2> /dev/null
    cat "$CKPT"/*.safetensors > /dev/null
    "$GPTOSS" bench --model "$CKPT" --device cpu --threads "$T" --prompt-tokens 128 --gen-tokens 32 --repeats 3 > "$out/us.$r" 2>&1
    python3 - "$out/ll.$r" "$out/us.$r" "$r" <<'PY'
import json, sys, time, os
ll = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
pp = next(x["avg_ts"] for x in ll if x["n_prompt"] > 0)
tg = next(x["avg_ts"] for x in ll if x["n_gen"] > 0)
us = dict(l.split(None, 1) for l in open(sys.argv[2]) if len(l.split(None, 1)) == 2)
g = lambda k: float(us[k])
print(f'{sys.argv[3]:<5} {time.strftime("%H:%M:%S"):<8} {os.getloadavg()[0]:<5.2f} | {pp:<8.2f} {g("prefill_tok_s"):<8.2f} {g("prefill_tok_s_median"):<8.2f} | '
      f'{tg:<8.2f} {g("decode_tok_s"):<8.2f} {g("decode_tok_s_median"):<8.2f} {g("read_bandwidth_gb_s"):<6.1f}')
PY
done | tee "$out/table"
python3 - "$out/table" <<'PY'
import sys
rows = [l.split() for l in open(sys.argv[1]) if l.strip()]
col = lambda i: sum(float(r[i]) for r in rows) / len(rows)
print(f"means over {len(rows)} rounds: prefill llama.cpp {col(4):.2f}, ours {col(5):.2f} best / {col(6):.2f} median; "
      f"decode llama.cpp {col(8):.2f}, ours {col(9):.2f} best / {col(10):.2f} median")
PY
