#!/usr/bin/env bash
# The main job: install, build, start the local engine, and release the shop example (a frontend
# and a backend, each its own image and ECS service) as containers: v1, then v2, then a v3 whose
# frontend crashes, which fails safe with both services back on v2.
#
#   bash scripts/demo.sh           the container demo (rootful podman, buildah, the engine's ECR)
#   bash scripts/demo.sh --exec    the same release flow with the single-service demo run as host
#                                  processes, for hosts where podman cannot run
set -euo pipefail
cd "$(dirname "$0")/.."
mode=containers
case "${1:-}" in
  "") ;;
  --exec) mode=exec ;;
  -h|--help) sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
  *) echo "usage: bash scripts/demo.sh [--exec]" >&2; exit 2 ;;
esac
bash scripts/install-deps.sh
bash scripts/build.sh
export PATH="$PWD/build/bin:$PATH"

if [ "$mode" = exec ]; then
  # The demo app runs as host processes (its task definition names a host path).
  export SLIPWAY_RUNTIME=exec
  config=examples/demo/slipway.yaml
  slipway deploy dev --config "$config"
  echo "GET http://127.0.0.1:8080/ -> $(curl -s http://127.0.0.1:8080/)"
  APP_VERSION=v2 slipway deploy dev --config "$config"
  echo "GET http://127.0.0.1:8080/ -> $(curl -s http://127.0.0.1:8080/)"
  rc=0
  APP_VERSION=v3 DEMO_FAIL=crash slipway deploy dev --config "$config" || rc=$?
  echo "the crashing release exited $rc; GET http://127.0.0.1:8080/ -> $(curl -s http://127.0.0.1:8080/)"
  [ "$rc" -eq 1 ]
  slipway status dev --config "$config"
  slipway history dev --config "$config"
  echo "The engine keeps running; stop it with: build/bin/slipway engine stop"
  exit 0
fi

# Its own engine data dir, so that it never meets the exec demo's engine or load balancers.
export SLIPWAY_DATA_DIR="${SLIPWAY_DATA_DIR:-$HOME/.local/state/slipway-shop}"
export SLIPWAY_RUNTIME=podman
config=examples/shop/slipway.yaml
show() { echo "GET http://127.0.0.1:8080$1 -> $(curl -s "http://127.0.0.1:8080$1")"; }
# Builds both images, pushes them to the engine's ECR, pins them by digest, migrates the backend,
# rolls both services out together and verifies / and /api/stats.
slipway deploy dev --config "$config"
show /
show /api/stats
APP_VERSION=v2 slipway deploy dev --config "$config"
show /
# A frontend that crashes at start: its circuit breaker trips, slipway explains, and both services
# (the backend's rollout went well) return to v2: a release is all or nothing.
rc=0
APP_VERSION=v3 FRONTEND_FAIL=crash slipway deploy dev --config "$config" || rc=$?
echo "the crashing release exited $rc"
show /
[ "$rc" -eq 1 ]
slipway status dev --config "$config"
slipway history dev --config "$config"
echo "The engine keeps running; stop it with: SLIPWAY_DATA_DIR=$SLIPWAY_DATA_DIR build/bin/slipway engine stop"
