#!/usr/bin/env bash
# Installs what slipway needs to build, test and benchmark on Debian 12 (run as root).
set -euo pipefail
packages=(
  build-essential cmake ninja-build ccache pkg-config
  libboost-dev libcurl4-openssl-dev libssl-dev libsqlite3-dev nlohmann-json3-dev
  libyaml-cpp-dev libcli11-dev libexpected-dev libgtest-dev libgmock-dev libbenchmark-dev
  libre2-dev curl python3 awscli nginx-light wrk bc
  # The fuzz targets: clang and its runtimes (libFuzzer, ASan, UBSan and FuzzedDataProvider.h
  # ship in libclang-rt-14-dev).
  clang-14 libclang-rt-14-dev
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# The end-to-end tests also drive the engine with boto3.
if ! python3 -c 'import boto3' 2>/dev/null; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends python3-boto3 >/dev/null
fi
