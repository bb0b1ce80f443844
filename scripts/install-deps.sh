#!/usr/bin/env bash
# Installs what slipway needs to build, test and benchmark on Debian 12 (run as root).
set -euo pipefail
packages=(
  build-essential cmake ninja-build ccache pkg-config
  libboost-dev libcurl4-openssl-dev libssl-dev libsqlite3-dev nlohmann-json3-dev
  libyaml-cpp-dev libcli11-dev libexpected-dev libgtest-dev libgmock-dev libbenchmark-dev
  libre2-dev libexpat1-dev curl python3 awscli nginx-light wrk bc
  # The fuzz targets: clang and its runtimes (libFuzzer, ASan, UBSan and FuzzedDataProvider.h
  # ship in libclang-rt-14-dev).
  clang-14 libclang-rt-14-dev
  # The container runtime and the engine's registry: rootful podman with runc (crun fails on
  # hybrid cgroups), netavark with iptables (for the bridge inside the engine's own namespace),
  # catatonit (pods' pause process and --init), buildah for image builds, distribution's registry,
  # and htpasswd for its bcrypt password file.
  podman runc netavark iptables catatonit buildah docker-registry apache2-utils
  # The container tests compare the host's addresses and routes before and after (ip).
  iproute2
  # The console's browser test drives headless chromium over its DevTools pipe.
  chromium
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  # Installing docker-registry would start it as a system service on :5000; slipway runs its own
  # registry on loopback. Keep services from starting while installing (unless a policy exists).
  policy=/usr/sbin/policy-rc.d
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod 755 "$policy"
    trap 'rm -f "$policy"' EXIT
  fi
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# The end-to-end tests also drive the engine with boto3.
if ! python3 -c 'import boto3' 2>/dev/null; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends python3-boto3 >/dev/null
fi
