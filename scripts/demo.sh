#!/usr/bin/env bash
# The main job: install, build, start the local engine and release the demo app v1 then v2.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build.sh
export PATH="$PWD/build/bin:$PATH"
slipway deploy dev --config examples/demo/slipway.yaml
echo "GET http://127.0.0.1:8080/ -> $(curl -s http://127.0.0.1:8080/)"
APP_VERSION=v2 slipway deploy dev --config examples/demo/slipway.yaml
echo "GET http://127.0.0.1:8080/ -> $(curl -s http://127.0.0.1:8080/)"
slipway status dev --config examples/demo/slipway.yaml
echo "The engine keeps running; stop it with: build/bin/slipway engine stop"
