#!/usr/bin/env bash
# The main job: install, build, start the local engine, release the demo app v1 then v2, then
# watch a crashing v3 fail safe.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build.sh
export PATH="$PWD/build/bin:$PATH"
# The demo app runs as host processes (its task definition names a host path).
export SLIPWAY_RUNTIME=exec
slipway deploy dev --config examples/demo/slipway.yaml
echo "GET http://127.0.0.1:8080/ -> $(curl -s http://127.0.0.1:8080/)"
APP_VERSION=v2 slipway deploy dev --config examples/demo/slipway.yaml
echo "GET http://127.0.0.1:8080/ -> $(curl -s http://127.0.0.1:8080/)"
# A release that crashes at start: the circuit breaker trips, slipway explains and exits 1, and
# the service keeps serving v2 throughout.
rc=0
APP_VERSION=v3 DEMO_FAIL=crash slipway deploy dev --config examples/demo/slipway.yaml || rc=$?
echo "the crashing release exited $rc; GET http://127.0.0.1:8080/ -> $(curl -s http://127.0.0.1:8080/)"
[ "$rc" -eq 1 ]
slipway status dev --config examples/demo/slipway.yaml
slipway history dev --config examples/demo/slipway.yaml
echo "The engine keeps running; stop it with: build/bin/slipway engine stop"
