#!/usr/bin/env bash
# The project's test command (README, .ci/run): builds, runs every test, and compiles every CUDA
# kernel with NVRTC for the architectures we ship (CPU-only: NVRTC comes from PyPI).
set -euo pipefail
cd "$(dirname "$0")/.."
swift build --build-tests
swift test --skip-build --disable-swift-testing
