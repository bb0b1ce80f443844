#!/usr/bin/env bash
# Installs, builds and runs every test (unit and end-to-end) through CTest, then the unit and
# API-level end-to-end tests again on an AddressSanitizer/UndefinedBehaviorSanitizer build (the
# load and crash-recovery test, label `load`, the container tests, label `containers`, and the
# browser test, label `browser`, run once; skip the pass with SLIPWAY_SANITIZE=0), then
# runs each fuzz target for 30 s on its corpus (skip with SLIPWAY_FUZZ=0).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build.sh
ctest --test-dir build --output-on-failure --timeout 900

if [ "${SLIPWAY_SANITIZE:-1}" != "0" ]; then
  echo "== the same tests under ASan/UBSan (build-asan) =="
  cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DSLIPWAY_SANITIZE=ON -DSLIPWAY_WERROR=ON >/dev/null
  ninja -C build-asan
  reports="$(mktemp -d /tmp/slipway-sanitizer.XXXXXX)"
  # Reports from every process (CLI, engine daemon, demo apps) land in $reports; any is a failure.
  ASAN_OPTIONS="log_path=$reports/asan:detect_leaks=1" \
  UBSAN_OPTIONS="log_path=$reports/ubsan:print_stacktrace=1" \
    ctest --test-dir build-asan --output-on-failure --timeout 1200 --label-exclude "load|containers|browser"
  if [ -n "$(ls -A "$reports")" ]; then
    echo "sanitizer reports:"; cat "$reports"/*
    exit 1
  fi
  echo "no sanitizer reports"
fi

if [ "${SLIPWAY_FUZZ:-1}" != "0" ]; then
  echo "== each fuzz target for 30 s (build-fuzz) =="
  # Fails on any crash or sanitizer report, printing the input that reproduces it.
  bash bench/fuzz.sh 0.5
fi
