#!/usr/bin/env bash
# Tasks dying under load: wrk at full speed through the engine's listener for 45 s while five demo
# task processes are SIGKILLed one at a time, spread across the run (the service replaces each).
# A killed task drops the requests it was serving and refuses new connections until its target
# leaves the pool; goal: the proxy hides both, so wrk sees 0 non-2xx and 0 socket errors.
# The demo runs 3 tasks (TASKS=3) and a kill only takes a task while at least 2 targets are
# healthy, so every kill leaves a healthy target and an error cannot be blamed on an empty pool.
# Exits 1 on any error or when fewer than 5 kills happened.
#   DURATION=45 KILLS=5 TASKS=3 CONNECTIONS=32 bench/proxy_task_kills.sh
source "$(dirname "$0")/common.sh"
DURATION=${DURATION:-45}
KILLS=${KILLS:-5}
TASKS=${TASKS:-3}
CONNECTIONS=${CONNECTIONS:-32}
need_tools ss aws
sed -i "0,/desiredCount: 2/s//desiredCount: $TASKS/" "$WORK/slipway.yaml"  # the dev environment's
deploy v1
TG=$(aws_local elbv2 describe-target-groups --names demo-dev-web --query 'TargetGroups[0].TargetGroupArn' --output text)
healthy() {
  aws_local elbv2 describe-target-health --target-group-arn "$TG" --output text \
    --query "TargetHealthDescriptions[?TargetHealth.State=='healthy'].Target.Port" | tr '\t' '\n' | grep -v '^$' || true
}
echo "demo: $TASKS tasks, healthy targets on ports $(healthy | tr '\n' ' ')"

echo "== wrk -t2 -c$CONNECTIONS -d${DURATION}s through the listener, $KILLS task SIGKILLs spread across it"
wrk -t2 -c"$CONNECTIONS" -d"${DURATION}s" --latency "http://127.0.0.1:$LISTENER_PORT/" > "$WORK/wrk.txt" &
WRK=$!
BENCH_PIDS="$WRK"
start=$(date +%s.%N)
elapsed() { awk -v s="$start" -v n="$(date +%s.%N)" 'BEGIN {printf "%.1f", n - s}'; }
killed=0
for i in $(seq "$KILLS"); do
  due=$(awk -v i="$i" -v k="$KILLS" -v d="$DURATION" 'BEGIN {print d * i / (k + 1)}')
  while awk -v e="$(elapsed)" -v d="$due" 'BEGIN {exit !(e < d)}'; do sleep 0.2; done
  victim=""
  # Wait for two healthy targets (a replacement may still be starting), up to 5 s before the end.
  while awk -v e="$(elapsed)" -v d="$DURATION" 'BEGIN {exit !(e < d - 5)}'; do
    ports=$(healthy)
    if [ "$(echo "$ports" | grep -c .)" -ge 2 ]; then
      for port in $(echo "$ports" | shuf); do
        pid=$(port_pid "$port")
        [ -n "$pid" ] && { victim="$pid"; break; }
      done
      [ -n "$victim" ] && break
    fi
    sleep 0.5
  done
  if [ -z "$victim" ]; then echo "t=$(elapsed)s kill $i: no task to kill while 2 targets were healthy"; continue; fi
  if ! kill -9 "$victim" 2>/dev/null; then echo "t=$(elapsed)s kill $i: pid $victim had already exited"; continue; fi
  killed=$((killed + 1))
  echo "t=$(elapsed)s kill $i: SIGKILL pid $victim (target port $port; healthy were $(echo "$ports" | tr '\n' ' '))"
done
wait "$WRK"
BENCH_PIDS=""
cat "$WORK/wrk.txt"
requests=$(wrk_stat "$WORK/wrk.txt" requests)
non2xx=$(wrk_stat "$WORK/wrk.txt" non2xx)
socket_errors=$(wrk_stat "$WORK/wrk.txt" socket_errors)
sleep 2
echo "after the run: healthy targets on ports $(healthy | tr '\n' ' ')"
if [ "$non2xx" -ne 0 ]; then
  # Who answered them: the engine's ALB metrics (collected every 10 s) tell the load balancer's own
  # 4xx/5xx from the targets'.
  sleep 11
  lb=$(aws_local elbv2 describe-load-balancers --names demo-dev --query 'LoadBalancers[0].LoadBalancerArn' --output text)
  lb_dim="{\"Name\":\"LoadBalancer\",\"Value\":\"${lb#*:loadbalancer/}\"}"
  tg_dim="{\"Name\":\"TargetGroup\",\"Value\":\"targetgroup/${TG#*:targetgroup/}\"}"
  queries="" i=0
  for m in HTTPCode_ELB_5XX_Count HTTPCode_ELB_4XX_Count HTTPCode_Target_5XX_Count HTTPCode_Target_4XX_Count; do
    case $m in *ELB*) dims="[$lb_dim]" ;; *) dims="[$lb_dim,$tg_dim]" ;; esac
    i=$((i + 1))
    queries="$queries{\"Id\":\"m$i\",\"Label\":\"$m\",\"MetricStat\":{\"Metric\":{\"Namespace\":\"AWS/ApplicationELB\",\"MetricName\":\"$m\",\"Dimensions\":$dims},\"Period\":60,\"Stat\":\"Sum\"}},"
  done
  aws_local cloudwatch get-metric-data --metric-data-queries "[${queries%,}]" --output json \
    --start-time "$(date -u -d "@$((${start%.*} - 120))" +%Y-%m-%dT%H:%M:%SZ)" --end-time "$(date -u -d '+2 min' +%Y-%m-%dT%H:%M:%SZ)" |
    python3 -c 'import json, sys; d = json.load(sys.stdin); print("answered by: " + ", ".join("%s %d" % (r["Label"], sum(r["Values"])) for r in d["MetricDataResults"]))' ||
    echo "(the engine's metrics could not be read)"
fi
printf 'requests %s, non-2xx/3xx %s, socket errors %s, kills %d of %d\n' "$requests" "$non2xx" "$socket_errors" "$killed" "$KILLS"
rc=0
if [ "$non2xx" -ne 0 ] || [ "$socket_errors" -ne 0 ]; then echo "RESULT: requests failed while tasks were killed"; rc=1
elif [ "$killed" -lt "$KILLS" ]; then echo "RESULT: only $killed of $KILLS kills happened"; rc=1
else echo "RESULT: 0 failed requests through $killed task kills"; fi
printf '{"bench":"proxy_task_kills","duration_s":%s,"connections":%s,"tasks":%s,"kills":%d,"requests":%s,"rps":%s,"p99_ms":%s,"non2xx":%s,"socket_errors":%s}\n' \
  "$DURATION" "$CONNECTIONS" "$TASKS" "$killed" "$requests" "$(wrk_stat "$WORK/wrk.txt" rps)" \
  "$(wrk_stat "$WORK/wrk.txt" p99_ms)" "$non2xx" "$socket_errors"
exit $rc
