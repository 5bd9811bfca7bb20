#!/usr/bin/env bash
# The project's test command (README, .ci/run): builds, runs every test, and compiles every CUDA
# kernel with NVRTC for the architectures we ship (CPU-only: NVRTC comes from PyPI).
set -euo pipefail
cd "$(dirname "$0")/.."
swift build --build-tests

# CUDA kernels: NVRTC from PyPI (no GPU, no CUDA toolkit needed), installed once into a cache folder.
NVRTC_VERSION=13.0.88
NVRTC_DIR="${GPTOSS_NVRTC_PIP_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/gpt-oss-swift/nvrtc-$NVRTC_VERSION}"
if [ -z "${GPTOSS_NVRTC_PATH:-}" ]; then
    if [ ! -e "$NVRTC_DIR/nvidia/cu13/lib/libnvrtc.so.13" ]; then
        echo "test.sh: installing nvidia-cuda-nvrtc==$NVRTC_VERSION from PyPI into $NVRTC_DIR (for the kernel check)"
        python3 -m pip install --quiet --disable-pip-version-check --no-deps --target "$NVRTC_DIR" \
            "nvidia-cuda-nvrtc==$NVRTC_VERSION" \
            || { echo "test.sh: pip could not install nvidia-cuda-nvrtc; set GPTOSS_NVRTC_PATH to a folder with libnvrtc.so.13" >&2; exit 1; }
    fi
    export GPTOSS_NVRTC_PATH="$NVRTC_DIR/nvidia/cu13/lib"
fi
export LD_LIBRARY_PATH="$GPTOSS_NVRTC_PATH${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
echo "test.sh: compiling every CUDA kernel with NVRTC ($GPTOSS_NVRTC_PATH) for sm_90 and sm_80"
"$(swift build --show-bin-path)/gptoss" kernels --check --arch sm_90 --arch sm_80

# The HTTP server end to end: `gptoss serve --model tiny` driven by the official openai client.
scripts/e2e_server.sh "$(swift build --show-bin-path)/gptoss"

# Every XCTest last, so the run closes on XCTest's summary line.
swift test --skip-build --disable-swift-testing
