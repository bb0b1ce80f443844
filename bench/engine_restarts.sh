#!/usr/bin/env bash
# The engine's restarts under load: wrk on the listener through three planned `engine restart`s
# (goal: 0 non-2xx, 0 socket errors), then three SIGKILL + `engine start` cycles, each timed from
# `engine start` to the first 200 through the listener, with the tasks adopted (same pids).
source "$(dirname "$0")/common.sh"
deploy v1
pids() { cat "$SLIPWAY_DATA_DIR"/tasks/*/web.sup 2>/dev/null | grep '^container_pid=' | sort | tr '\n' ' '; }
engine_pid() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["pid"])' "$SLIPWAY_DATA_DIR/engine.json"; }
ready_ms() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["readyMillis"])' "$SLIPWAY_DATA_DIR/engine.json"; }

echo "== planned restarts under load (wrk -t2 -c16 -d20s)"
wrk -t2 -c16 -d20s --latency "http://127.0.0.1:$LISTENER_PORT/" > "$WORK/wrk.txt" &
WRK=$!
sleep 3
for i in 1 2 3; do
  start=$(date +%s.%N)
  "$BIN/slipway" engine restart >/dev/null
  printf 'restart %d: the new engine served %.0f ms after the command began (listeners ready %s ms after its start)\n' \
    "$i" "$(echo "($(date +%s.%N) - $start) * 1000" | bc)" "$(ready_ms)"
  sleep 4
done
wait $WRK
cat "$WORK/wrk.txt"
grep -qE "Non-2xx|Socket errors" "$WORK/wrk.txt" && echo "RESULT: some requests failed" || echo "RESULT: 0 non-2xx, 0 socket errors"

echo "== crash recovery (SIGKILL, then engine start)"
for i in 1 2 3; do
  before=$(pids)
  kill -9 "$(engine_pid)"
  sleep 0.5
  if curl -s -m 2 -o /dev/null "http://127.0.0.1:$LISTENER_PORT/"; then echo "  listener answered while the engine was down"; fi
  start=$(date +%s.%N)
  "$BIN/slipway" engine start --listen "127.0.0.1:$API_PORT" >/dev/null
  until curl -sf -o /dev/null "http://127.0.0.1:$LISTENER_PORT/"; do sleep 0.005; done
  served=$(echo "($(date +%s.%N) - $start) * 1000" | bc)
  [ "$before" = "$(pids)" ] && same="same container pids" || same="DIFFERENT container pids"
  printf 'crash %d: first 200 through the listener %.0f ms after `engine start` began (engine: listeners ready %s ms after its start); %s\n' \
    "$i" "$served" "$(ready_ms)" "$same"
done
