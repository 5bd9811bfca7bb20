#!/usr/bin/env bash
# Interleaved single-thread benchmark: ours (release gptoss) vs tiktoken, several rounds, each side's
# best pass reported per round (the dev box is shared, so take the best rounds, not one run).
# Usage: tools/bench_tokenizer_compare.sh CORPUS [ROUNDS] [PYTHON]
set -euo pipefail
cd "$(dirname "$0")/.."
corpus=${1:?corpus file}; rounds=${2:-3}; py=${3:-.venv/bin/python}
for r in $(seq "$rounds"); do
  echo "round $r"
  echo -n "  ours:     "; .build/release/gptoss tokenize --bench --seconds 4 --file "$corpus"
  echo -n "  tiktoken: "; "$py" tools/bench_tokenizer.py tiktoken "$corpus" 2>&1 | grep -v PyTorch
done
