#!/usr/bin/env bash
# End-to-end test of `gptoss serve --model tiny` with the official openai Python client (tools/e2e_server.py).
# Installs the client into a virtualenv once (.venv-e2e, git-ignored; PyPI needed the first time).
# Usage: scripts/e2e_server.sh [path/to/gptoss]   (default: the debug build). GPTOSS_SKIP_E2E=1 skips it.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${GPTOSS_SKIP_E2E:-0}" = 1 ]; then echo "e2e_server: skipped (GPTOSS_SKIP_E2E=1)"; exit 0; fi
BIN="${1:-$(swift build --show-bin-path)/gptoss}"
VENV="${GPTOSS_E2E_VENV:-.venv-e2e}"
if ! "$VENV/bin/python" -c "import openai" 2>/dev/null; then
    echo "e2e_server: installing the openai client into $VENV"
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install --quiet --disable-pip-version-check openai
fi
"$VENV/bin/python" tools/e2e_server.py --binary "$BIN"
