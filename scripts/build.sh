#!/usr/bin/env bash
# Configures and builds slipway into ./build (Release with debug info, ccache when present).
set -euo pipefail
cd "$(dirname "$0")/.."
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSLIPWAY_WERROR=ON >/dev/null
ninja -C build
