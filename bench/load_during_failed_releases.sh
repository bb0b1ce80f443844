#!/usr/bin/env bash
# Sustained wrk load on the listener while releases fail in every way the demo can fail (each one
# rolled back to v2), then a good v3 and a `slipway rollback` to v2. Prints each release's exit code
# and duration and wrk's totals. Goal: 0 non-2xx, 0 socket errors, and v2 serving at the end.
source "$(dirname "$0")/common.sh"
DURATION=${DURATION:-75}
deploy v1
deploy v2
wrk -t2 -c${CONNECTIONS:-16} -d${DURATION}s --latency "http://127.0.0.1:$LISTENER_PORT/" > "$WORK/wrk.txt" &
WRK=$!
sleep 2
timed() {
  local label=$1; shift
  local start rc
  start=$(date +%s.%N)
  if "$@"; then rc=0; else rc=$?; fi
  printf '%-28s exit %d in %5.1f s\n' "$label" "$rc" "$(echo "$(date +%s.%N) - $start" | bc)"
}
for fail in crash unhealthy oom missing-env wrong-body migration; do
  timed "v3 DEMO_FAIL=$fail" env DEMO_FAIL=$fail bash -c "$(declare -f deploy); BIN=$BIN WORK=$WORK deploy v3"
done
timed "v3 (good)" deploy v3
timed "rollback" bash -c "\"$BIN/slipway\" rollback dev --config \"$WORK/slipway.yaml\" --output json >/dev/null"
kill -0 $WRK 2>/dev/null && echo "(waiting for wrk to finish its ${DURATION} s)"
wait $WRK
cat "$WORK/wrk.txt"
echo "final answer: $(curl -s "http://127.0.0.1:$LISTENER_PORT/")"
# wrk prints these lines only when their counts are not zero.
grep -q "Non-2xx" "$WORK/wrk.txt" && echo "RESULT: some responses were not 2xx" || echo "RESULT: every response was 2xx"
grep -q "Socket errors" "$WORK/wrk.txt" && echo "RESULT: socket errors (see above)" || echo "RESULT: no socket errors"
