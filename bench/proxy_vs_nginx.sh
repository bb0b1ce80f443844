#!/usr/bin/env bash
# Side by side: wrk through slipway's proxy (the engine's listener), Debian's nginx and Debian's
# HAProxy 2.6, all three in front of the same two slipway-bench-backend tasks (a fixed "200 ok",
# so the backend is not the bottleneck: wrk straight at one backend is measured first).
# Two interleaved rounds (slipway, nginx, haproxy, slipway, nginx, haproxy), same wrk settings.
# For each run: req/s, p99, the proxy's own CPU per request (utime+stime of its processes, every
# nginx worker included, over the requests wrk completed) and the whole machine's CPU per request
# (/proc/stat: includes wrk, the backends and anything else running). Ends with one JSON line.
#   DURATION=10 CONNECTIONS=32 THREADS=2 bench/proxy_vs_nginx.sh
source "$(dirname "$0")/common.sh"
DURATION=${DURATION:-10}
CONNECTIONS=${CONNECTIONS:-32}
THREADS=${THREADS:-2}
need_tools nginx haproxy ss aws
use_fixed_backend
deploy v1
PORTS=$(healthy_ports bench-dev-backend)
[ "$(echo "$PORTS" | wc -w)" -eq 2 ] || { echo "bench: expected 2 healthy backend targets, got: $PORTS" >&2; exit 1; }
echo "backends: 127.0.0.1:$(echo $PORTS | sed 's/ /, 127.0.0.1:/') (slipway-bench-backend, one loop each)"

free_port NGINX_PORT
{
  echo "worker_processes auto; pid $WORK/nginx.pid; error_log $WORK/nginx-error.log; daemon off;"
  echo "events { worker_connections 4096; }"
  echo "http { access_log off; upstream backend { keepalive 64;"
  for p in $PORTS; do echo "  server 127.0.0.1:$p;"; done
  echo "} server { listen 127.0.0.1:$NGINX_PORT; location / { proxy_pass http://backend; proxy_http_version 1.1;"
  echo "  proxy_set_header Connection \"\"; proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for; } } }"
} > "$WORK/nginx.conf"
nginx -c "$WORK/nginx.conf" -e "$WORK/nginx-error.log" & NGINX_PID=$!

free_port HAPROXY_PORT
{
  echo "global"
  echo "  nbthread $(nproc)"
  echo "  maxconn 4096"
  echo "defaults"
  echo "  mode http"
  echo "  option forwardfor"
  echo "  http-reuse always"
  echo "  timeout connect 5s"
  echo "  timeout client 60s"
  echo "  timeout server 60s"
  echo "frontend bench"
  echo "  bind 127.0.0.1:$HAPROXY_PORT"
  echo "  default_backend backends"
  echo "backend backends"
  echo "  balance roundrobin"
  i=0; for p in $PORTS; do i=$((i + 1)); echo "  server b$i 127.0.0.1:$p"; done
} > "$WORK/haproxy.cfg"
haproxy -db -f "$WORK/haproxy.cfg" > "$WORK/haproxy.log" 2>&1 & HAPROXY_PID=$!
BENCH_PIDS="$HAPROXY_PID"

declare -A URL=([slipway]="http://127.0.0.1:$LISTENER_PORT/" [nginx]="http://127.0.0.1:$NGINX_PORT/"
                [haproxy]="http://127.0.0.1:$HAPROXY_PORT/")
proxy_pids() {
  case "$1" in
    slipway) engine_pid ;;
    nginx) echo "$NGINX_PID" $(pgrep -P "$NGINX_PID") ;;
    haproxy) echo "$HAPROXY_PID" ;;
  esac
}
for name in slipway nginx haproxy; do
  for _ in $(seq 50); do curl -sf -o /dev/null "${URL[$name]}" && break; sleep 0.1; done
  if ! curl -sf -o /dev/null "${URL[$name]}"; then
    echo "bench: $name does not answer on ${URL[$name]}" >&2
    tail -5 "$WORK/$name.log" "$WORK/$name-error.log" 2>/dev/null >&2 || true
    exit 1
  fi
done

wrk_run() { wrk -t"$THREADS" -c"$CONNECTIONS" -d"${DURATION}s" --latency "$1" > "$2"; }
echo "== backend direct (wrk -t$THREADS -c$CONNECTIONS -d${DURATION}s straight at 127.0.0.1:${PORTS%%[[:space:]]*})"
wrk_run "http://127.0.0.1:${PORTS%%[[:space:]]*}/" "$WORK/direct.txt"
DIRECT_RPS=$(wrk_stat "$WORK/direct.txt" rps)
printf 'backend direct: %.0f req/s, p99 %s ms\n' "$DIRECT_RPS" "$(wrk_stat "$WORK/direct.txt" p99_ms)"

# One second through each proxy first, so every run starts with its upstream connections open.
for name in slipway nginx haproxy; do wrk -t1 -c"$CONNECTIONS" -d1s "${URL[$name]}" >/dev/null; done

printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' proxy round rps p99_ms requests non2xx socket_errors proxy_us machine_us > "$WORK/results.tsv"
echo "== through each proxy (wrk -t$THREADS -c$CONNECTIONS -d${DURATION}s, interleaved)"
for round in 1 2; do
  for name in slipway nginx haproxy; do
    pids=$(proxy_pids "$name")
    p0=$(cpu_ticks $pids); m0=$(machine_busy_ticks)
    wrk_run "${URL[$name]}" "$WORK/$name$round.txt"
    p1=$(cpu_ticks $pids); m1=$(machine_busy_ticks)
    f="$WORK/$name$round.txt"
    req=$(wrk_stat "$f" requests)
    non2xx=$(wrk_stat "$f" non2xx); socket_errors=$(wrk_stat "$f" socket_errors)
    read -r proxy_us machine_us < <(awk -v p=$((p1 - p0)) -v m=$((m1 - m0)) -v r="$req" -v hz="$CLK_TCK" \
      'BEGIN {r = r > 0 ? r : 1; printf "%.2f %.2f\n", p * 1e6 / hz / r, m * 1e6 / hz / r}')
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$name" "$round" "$(wrk_stat "$f" rps)" "$(wrk_stat "$f" p99_ms)" \
      "$req" "$non2xx" "$socket_errors" "$proxy_us" "$machine_us" >> "$WORK/results.tsv"
    printf 'round %d %-8s %9.0f req/s  p99 %8s ms  proxy CPU %6.1f us/req  machine CPU %6.1f us/req  non-2xx %d  socket errors %d\n' \
      "$round" "$name" "$(wrk_stat "$f" rps)" "$(wrk_stat "$f" p99_ms)" "$proxy_us" "$machine_us" "$non2xx" "$socket_errors"
  done
done

python3 - "$WORK/results.tsv" "$DIRECT_RPS" "$DURATION" "$CONNECTIONS" "$THREADS" <<'EOF'
import csv, json, sys
rows = list(csv.DictReader(open(sys.argv[1]), delimiter="\t"))
for r in rows:
    for k in ("rps", "proxy_us", "machine_us"): r[k] = float(r[k])
    for k in ("round", "requests", "non2xx", "socket_errors"): r[k] = int(r[k])
    r["p99_ms"] = None if r["p99_ms"] == "null" else float(r["p99_ms"])
direct = float(sys.argv[2])
by = {(r["proxy"], r["round"]): r for r in rows}
ratios = []
print("== ratios (req/s: higher is better for slipway; proxy CPU/request: lower is better)")
for rnd in (1, 2):
    s = by[("slipway", rnd)]
    entry = {"round": rnd}
    for other in ("nginx", "haproxy"):
        o = by[(other, rnd)]
        entry[f"slipway_{other}_rps"] = round(s["rps"] / o["rps"], 3) if o["rps"] else None
        entry[f"slipway_{other}_proxy_cpu"] = round(s["proxy_us"] / o["proxy_us"], 3) if o["proxy_us"] else None
    ratios.append(entry)
    print(f"round {rnd}: slipway/nginx req/s {entry['slipway_nginx_rps']}, proxy CPU/req {entry['slipway_nginx_proxy_cpu']};"
          f"  slipway/haproxy req/s {entry['slipway_haproxy_rps']}, proxy CPU/req {entry['slipway_haproxy_proxy_cpu']}")
best = max(r["rps"] for r in rows)
if direct < 1.5 * best:
    print(f"WARNING: the backend direct ({direct:.0f} req/s) is not clearly faster than the best proxy "
          f"({best:.0f} req/s): the backend may be the bottleneck")
print(json.dumps({"bench": "proxy_vs_nginx", "duration_s": int(sys.argv[3]), "connections": int(sys.argv[4]),
                  "threads": int(sys.argv[5]), "backend_direct_rps": direct, "runs": rows, "ratios": ratios}))
EOF
