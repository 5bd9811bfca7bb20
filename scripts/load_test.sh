#!/usr/bin/env bash
# Bounded load test of the HTTP server on loopback (BENCHMARKS.md): starts `gptoss serve --model tiny`
# on a free 127.0.0.1 port, runs tools/load_test.py against it (concurrent streaming clients for a fixed
# time, every response checked against a greedy reference), then stops the server with SIGTERM.
# Usage: scripts/load_test.sh [--clients 300] [--duration 30] [--max-tokens 16] [--max-batch 32]
# GPTOSS_BIN picks the binary (default: the release build, built if missing).
set -euo pipefail
cd "$(dirname "$0")/.."
CLIENTS=300 DURATION=30 MAX_TOKENS=16 MAX_BATCH=32
while [ $# -gt 0 ]; do
    case "$1" in
        --clients) CLIENTS="$2"; shift 2 ;;
        --duration) DURATION="$2"; shift 2 ;;
        --max-tokens) MAX_TOKENS="$2"; shift 2 ;;
        --max-batch) MAX_BATCH="$2"; shift 2 ;;
        *) echo "load_test.sh: unknown option $1" >&2; exit 2 ;;
    esac
done
BIN="${GPTOSS_BIN:-$(swift build -c release --show-bin-path)/gptoss}"
[ -x "$BIN" ] || swift build -c release --product gptoss
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
LOG=$(mktemp)
"$BIN" serve --model tiny --host 127.0.0.1 --port "$PORT" --context 512 --max-batch "$MAX_BATCH" >"$LOG" 2>&1 &
SERVER=$!
trap 'kill -TERM $SERVER 2>/dev/null || true' EXIT
for _ in $(seq 1 300); do
    curl -sf "http://127.0.0.1:$PORT/health" >/dev/null 2>&1 && break
    kill -0 $SERVER 2>/dev/null || { cat "$LOG"; exit 1; }
    sleep 0.2
done
echo "load_test.sh: $BIN serve --model tiny --port $PORT --context 512 --max-batch $MAX_BATCH"
status=0
python3 tools/load_test.py --port "$PORT" --clients "$CLIENTS" --duration "$DURATION" --max-tokens "$MAX_TOKENS" || status=$?
curl -s "http://127.0.0.1:$PORT/metrics" | grep -E '^gptoss_(queue_length|kv_slots_in_use|engine_requests_failed_total|client_disconnects_total) '
kill -TERM $SERVER; wait $SERVER || true
trap - EXIT
exit $status
