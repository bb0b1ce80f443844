# Shared set-up for benchmarks: a private engine with the demo released on a free listener port.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BIN="$ROOT/build/bin"
WORK="$(mktemp -d /tmp/slipway-bench.XXXXXX)"
export SLIPWAY_DATA_DIR="$WORK/data"
export SLIPWAY_RUNTIME="${SLIPWAY_RUNTIME:-exec}"  # the demo task definition runs host processes
# free_port NAME: sets NAME to a free loopback port that none of this run's ports already use
# (two bind(0) calls in a row can get the same one).
USED_PORTS=""
free_port() {
  local port
  while :; do
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    case " $USED_PORTS " in *" $port "*) continue ;; esac
    USED_PORTS="$USED_PORTS $port"
    printf -v "$1" '%s' "$port"
    return
  done
}
free_port API_PORT
free_port LISTENER_PORT
cp "$ROOT/examples/demo/web.taskdef.json" "$WORK/"
sed "s/listenerPort: 8080/listenerPort: $LISTENER_PORT/" "$ROOT/examples/demo/slipway.yaml" > "$WORK/slipway.yaml"
cleanup() { "$BIN/slipway" engine stop >/dev/null 2>&1 || true; [ -n "${NGINX_PID:-}" ] && kill "$NGINX_PID" 2>/dev/null; rm -rf "$WORK"; }
trap cleanup EXIT
"$BIN/slipway" engine start --listen "127.0.0.1:$API_PORT" >/dev/null
deploy() { APP_VERSION="$1" "$BIN/slipway" deploy dev --config "$WORK/slipway.yaml" --output json >/dev/null; }
