# Shared set-up for benchmarks: a private engine with the demo released on a free listener port.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BIN="${SLIPWAY_BENCH_BIN:-$ROOT/build/bin}"  # another build: SLIPWAY_BENCH_BIN=/path/to/build/bin
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
# BENCH_PIDS: processes a script started (proxies, backends) that cleanup stops.
BENCH_PIDS=""
cleanup() {
  "$BIN/slipway" engine stop >/dev/null 2>&1 || true
  [ -n "${NGINX_PID:-}" ] && kill "$NGINX_PID" 2>/dev/null
  for pid in $BENCH_PIDS; do kill "$pid" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT
# need_tools CMD...: installs the Debian 12 packages of the commands that are missing (as root).
need_tools() {
  local cmd pkgs=()
  for cmd in "$@"; do
    command -v "$cmd" >/dev/null 2>&1 && continue
    case "$cmd" in ss) pkgs+=(iproute2) ;; aws) pkgs+=(awscli) ;; *) pkgs+=("$cmd") ;; esac
  done
  [ ${#pkgs[@]} -eq 0 ] && return 0
  if [ "$(id -u)" != 0 ]; then echo "bench: missing ${pkgs[*]}: apt-get install -y ${pkgs[*]}" >&2; exit 2; fi
  echo "bench: installing ${pkgs[*]}" >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${pkgs[@]}" >/dev/null
}
need_tools wrk curl
"$BIN/slipway" engine start --listen "127.0.0.1:$API_PORT" >/dev/null
deploy() { APP_VERSION="$1" "$BIN/slipway" deploy dev --config "$WORK/slipway.yaml" --output json >/dev/null; }

# aws_local ARGS...: the AWS CLI against this run's engine.
aws_local() {
  AWS_SHARED_CREDENTIALS_FILE="$SLIPWAY_DATA_DIR/credentials" AWS_PROFILE=slipway-local \
    AWS_DEFAULT_REGION=us-east-1 AWS_CONFIG_FILE=/dev/null \
    /usr/bin/aws --endpoint-url "http://127.0.0.1:$API_PORT" "$@"
}
# healthy_ports TG_NAME: the ports of the target group's healthy targets, one a line.
healthy_ports() {
  local tg
  tg=$(aws_local elbv2 describe-target-groups --names "$1" --query 'TargetGroups[0].TargetGroupArn' --output text)
  aws_local elbv2 describe-target-health --target-group-arn "$tg" --output text \
    --query "TargetHealthDescriptions[?TargetHealth.State=='healthy'].Target.Port" | tr '\t' '\n' | grep -v '^$' || true
}
# port_pid PORT: the pid of the process listening on 127.0.0.1:PORT (empty when none).
port_pid() { ss -Hltnp "sport = :$1" | grep -o 'pid=[0-9]*' | head -1 | cut -d= -f2; }
engine_pid() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["pid"])' "$SLIPWAY_DATA_DIR/engine.json"; }
# cpu_ticks PID...: utime+stime of the processes (all their threads), in clock ticks.
cpu_ticks() {
  local pid total=0 fields
  for pid in "$@"; do
    # The command name may hold spaces: the fields after its closing parenthesis start at state.
    fields=$(sed 's/.*) //' "/proc/$pid/stat" 2>/dev/null) || continue
    total=$((total + $(echo "$fields" | awk '{print $12 + $13}')))
  done
  echo "$total"
}
# machine_busy_ticks: non-idle CPU time of the whole machine since boot, in clock ticks.
machine_busy_ticks() { awk '$1=="cpu" {print $2+$3+$4+$7+$8+$9}' /proc/stat; }
CLK_TCK=$(getconf CLK_TCK)
# wrk_stat FILE requests|rps|p99_ms|non2xx|socket_errors: one figure from wrk --latency output.
# wrk prints the "Non-2xx or 3xx responses" and "Socket errors" lines only when they are not zero.
wrk_stat() {
  case "$2" in
    requests) awk '/ requests in / {print $1; f=1} END {if (!f) print 0}' "$1" ;;
    rps) awk '/^Requests\/sec:/ {print $2; f=1} END {if (!f) print 0}' "$1" ;;
    p99_ms) awk '$1=="99%" {v=$2; u=v; sub(/[0-9.]+/, "", u); sub(/[a-z]+$/, "", v);
              m = u=="us" ? 0.001 : u=="ms" ? 1 : u=="s" ? 1000 : u=="m" ? 60000 : 1;
              printf "%.3f\n", v*m; f=1} END {if (!f) print "null"}' "$1" ;;
    non2xx) awk '/Non-2xx or 3xx responses:/ {print $NF; f=1} END {if (!f) print 0}' "$1" ;;
    socket_errors) awk '/Socket errors:/ {gsub(/,/, ""); print $4+$6+$8+$10; f=1} END {if (!f) print 0}' "$1" ;;
  esac
}
# use_fixed_backend: this run's slipway.yaml deploys slipway-bench-backend (service "backend",
# target group bench-dev-backend, two tasks) instead of the demo, with `deploy v1` as before.
use_fixed_backend() {
  # From this tree's build when SLIPWAY_BENCH_BIN names a build without it.
  local backend="$BIN/slipway-bench-backend"
  [ -x "$backend" ] || backend="$ROOT/build/bin/slipway-bench-backend"
  [ -x "$backend" ] || { echo "bench: build slipway-bench-backend first (ninja -C build slipway-bench-backend)" >&2; exit 2; }
  cat > "$WORK/backend.taskdef.json" <<JSON
{
  "family": "bench-backend",
  "requiresCompatibilities": ["FARGATE"],
  "networkMode": "awsvpc",
  "cpu": "1024",
  "memory": "512",
  "containerDefinitions": [
    {
      "name": "backend",
      "image": "slipway/bench-backend:v1",
      "essential": true,
      "memory": 128,
      "entryPoint": ["$backend"],
      "portMappings": [{"containerPort": 8080, "protocol": "tcp"}],
      "environment": [{"name": "BENCH_BACKEND_THREADS", "value": "${BENCH_BACKEND_THREADS:-1}"}],
      "stopTimeout": 2
    }
  ]
}
JSON
  cat > "$WORK/slipway.yaml" <<YAML
app: bench
services:
  backend:
    taskDefinition: backend.taskdef.json
    container: backend
    containerPort: 8080
    healthCheck: {path: /healthz, intervalSeconds: 5, timeoutSeconds: 2, healthyThreshold: 2, unhealthyThreshold: 2}
    deregistrationDelaySeconds: 0
environments:
  dev:
    provider: local
    cluster: bench-dev
    pinImages: false
    loadBalancer: {name: bench-dev, listenerPort: $LISTENER_PORT}
    services:
      backend: {desiredCount: 2}
    verify:
      - {path: /, status: 200, contains: "ok"}
    timeoutSeconds: 300
YAML
}
