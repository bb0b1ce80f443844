#!/usr/bin/env bash
# Sustained wrk load on the listener while three consecutive releases run; prints wrk's totals
# (requests, non-2xx, socket errors, req/s) and each release's exit code. Goal: 0 failed.
source "$(dirname "$0")/common.sh"
DURATION=${DURATION:-40}
deploy v1
wrk -t2 -c${CONNECTIONS:-16} -d${DURATION}s --latency "http://127.0.0.1:$LISTENER_PORT/" > "$WORK/wrk.txt" &
WRK=$!
sleep 3
for v in v2 v3 v4; do
  start=$(date +%s.%N)
  if deploy "$v"; then rc=0; else rc=$?; fi
  printf 'release %s: exit %d in %.1f s\n' "$v" "$rc" "$(echo "$(date +%s.%N) - $start" | bc)"
done
wait $WRK
cat "$WORK/wrk.txt"
echo "final answer: $(curl -s "http://127.0.0.1:$LISTENER_PORT/")"
grep -q "Non-2xx" "$WORK/wrk.txt" && echo "RESULT: some responses were not 2xx" || echo "RESULT: every response was 2xx"
