#!/usr/bin/env bash
# Streaming through the engine's proxy, with the demo's /sse, /upload and /download endpoints:
#  (a) SSE delay: GET /sse?count=50 (an event every 100 ms, "data: N <epoch-ms>"), the arrival
#      time of each event minus the time the app wrote it: p50, p99, max. A proxy that buffers
#      the response shows seconds here.
#  (b) a 1 GiB upload (POST /upload, which counts and discards it) and a 1 GiB download
#      (GET /download?bytes=N), checking the byte counts, while the engine's VmRSS is sampled
#      every 50 ms: baseline, peak and growth (goal: under 16 MiB, so bodies stream rather than
#      sit in memory) and throughput, then the same transfers straight to one task for reference.
# Exits 2 when this build's demo app has no such endpoints, 1 when a count is wrong, an event is
# missing or the RSS goal is missed.
#   BYTES=1073741824 SSE_EVENTS=50 TRANSFER_TIMEOUT=300 bench/proxy_streaming.sh
#   SLIPWAY_BENCH_BIN=/path/to/other/build/bin bench/proxy_streaming.sh   # another build
source "$(dirname "$0")/common.sh"
BYTES=${BYTES:-1073741824}
SSE_EVENTS=${SSE_EVENTS:-50}
TRANSFER_TIMEOUT=${TRANSFER_TIMEOUT:-300}

# Ask a demo app started by hand (not through the proxy, so a buffering proxy is not mistaken for
# a missing endpoint) whether it has the three endpoints.
free_port PROBE_PORT
PORT=$PROBE_PORT "$BIN/slipway-demo-app" > "$WORK/probe.log" 2>&1 & PROBE=$!
BENCH_PIDS="$PROBE"
probe="http://127.0.0.1:$PROBE_PORT"
for _ in $(seq 50); do curl -sf -o /dev/null "$probe/healthz" && break; sleep 0.1; done
if ! curl -sf -o /dev/null "$probe/healthz"; then
  echo "bench: $BIN/slipway-demo-app did not answer /healthz on port $PROBE_PORT:" >&2
  cat "$WORK/probe.log" >&2
  exit 1
fi
missing=""
[ "$(curl -s -m 5 "$probe/download?bytes=16" | wc -c)" = 16 ] || missing="$missing /download"
curl -s -m 5 --data-binary 0123456789 "$probe/upload" | grep -q '"bytes": *10' || missing="$missing /upload"
curl -s -m 5 -D - -o /dev/null "$probe/sse?count=1" | grep -qi '^content-type: *text/event-stream' || missing="$missing /sse"
kill "$PROBE" 2>/dev/null || true
BENCH_PIDS=""
if [ -n "$missing" ]; then
  echo "bench: the demo app in $BIN has no$missing: this benchmark needs the demo's streaming endpoints"
  echo "bench: (GET /sse?count=K, POST /upload, GET /download?bytes=N); build a tree that has them"
  echo '{"bench":"proxy_streaming","skipped":"the demo app has no /sse, /upload, /download"}'
  exit 2
fi

deploy v1
TASK_PORT=$(healthy_ports demo-dev-web | head -1)
echo "== through the listener 127.0.0.1:$LISTENER_PORT (engine pid $(engine_pid)); one task direct on $TASK_PORT for reference"
python3 - "$LISTENER_PORT" "$(engine_pid)" "$BYTES" "$SSE_EVENTS" "$TRANSFER_TIMEOUT" "$TASK_PORT" <<'EOF'
import http.client, json, re, statistics, sys, threading, time

port, engine, size, events, limit, task_port = (int(a) for a in sys.argv[1:7])
GOAL_MIB = 16
MIB = 1 << 20
failures = []

def rss_kib():
    with open(f"/proc/{engine}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0

class Sampler(threading.Thread):
    """Samples the engine's VmRSS every 50 ms until stopped; keeps the peak."""
    def __init__(self):
        super().__init__(daemon=True)
        self.peak, self.stop = 0, threading.Event()
    def run(self):
        while not self.stop.is_set():
            self.peak = max(self.peak, rss_kib())
            time.sleep(0.05)

def baseline():
    samples = []
    for _ in range(10):
        samples.append(rss_kib())
        time.sleep(0.05)
    return statistics.median(samples)

def pct(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]

# (a) SSE delay
conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
conn.request("GET", f"/sse?count={events}", headers={"Accept": "text/event-stream"})
resp = conn.getresponse()
delays = []
deadline = time.time() + events * 0.1 + 30
while len(delays) < events and time.time() < deadline:
    line = resp.readline()
    if not line:
        break
    m = re.match(rb"data: *\d+ +(\d+)", line)
    if m:
        delays.append(time.time() * 1000 - int(m.group(1)))
conn.close()
sse = {"status": resp.status, "events": len(delays)}
if delays:
    sse.update(p50_ms=round(pct(delays, 50), 2), p99_ms=round(pct(delays, 99), 2), max_ms=round(max(delays), 2))
    print(f"SSE: {len(delays)} of {events} events, delay p50 {sse['p50_ms']} ms, p99 {sse['p99_ms']} ms, "
          f"max {sse['max_ms']} ms (status {resp.status})")
if resp.status != 200 or len(delays) != events:
    failures.append(f"SSE: {len(delays)} of {events} events arrived (status {resp.status})")
    print(f"SSE: FAILED: {failures[-1]}")

def transfer(name, run):
    base = baseline()
    sampler = Sampler()
    sampler.start()
    start = time.time()
    try:
        status, got = run(start)
    except Exception as e:  # a refused or broken transfer is a result, not a crash of the bench
        status, got = f"error: {e!r}", -1
    seconds = time.time() - start
    sampler.stop.set()
    sampler.join()
    peak = max(sampler.peak, base)
    growth = (peak - base) / 1024
    out = {"status": status, "bytes": got, "seconds": round(seconds, 2),
           "mib_per_s": round(max(got, 0) / MIB / seconds, 1) if seconds > 0 else None,
           "rss_baseline_mib": round(base / 1024, 1), "rss_peak_mib": round(peak / 1024, 1),
           "rss_growth_mib": round(growth, 1)}
    print(f"{name}: status {status}, {got} of {size} bytes in {out['seconds']} s ({out['mib_per_s']} MiB/s); "
          f"engine RSS {out['rss_baseline_mib']} MiB -> peak {out['rss_peak_mib']} MiB, "
          f"growth {out['rss_growth_mib']} MiB (goal < {GOAL_MIB})")
    if status != 200 or got != size:
        failures.append(f"{name}: status {status}, {got} of {size} bytes")
    if growth >= GOAL_MIB:
        failures.append(f"{name}: the engine's RSS grew {growth:.1f} MiB")
    return out

def upload(start, port=port):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    conn.putrequest("POST", "/upload")
    conn.putheader("Content-Type", "application/octet-stream")
    conn.putheader("Content-Length", str(size))
    conn.endheaders()
    chunk = bytes(MIB)
    sent = 0
    try:
        while sent < size:
            if time.time() - start > limit:
                raise TimeoutError(f"upload past {limit} s")
            piece = chunk[: min(MIB, size - sent)]
            conn.send(piece)
            sent += len(piece)
    except (BrokenPipeError, ConnectionResetError):
        pass  # the proxy or app stopped reading: its answer says why
    resp = conn.getresponse()
    body = resp.read(65536)
    conn.close()
    try:
        counted = json.loads(body)["bytes"]
    except (ValueError, KeyError, TypeError):
        counted = -1
    if resp.status == 200 and sent < size:
        counted = -1
    return resp.status, counted

def download(start, port=port):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    conn.request("GET", f"/download?bytes={size}")
    resp = conn.getresponse()
    got = 0
    while True:
        if time.time() - start > limit:
            raise TimeoutError(f"download past {limit} s")
        piece = resp.read(MIB)
        if not piece:
            break
        got += len(piece)
    conn.close()
    return resp.status, got

results = {"bench": "proxy_streaming", "bytes": size, "sse": sse,
           "upload": transfer("upload", upload), "download": transfer("download", download),
           "rss_goal_mib": GOAL_MIB}

# The same transfers straight to one task: what the app and this client manage without the proxy.
def direct(name, run):
    start = time.time()
    try:
        status, got = run(start, task_port)
    except Exception as e:
        status, got = f"error: {e!r}", -1
    seconds = time.time() - start
    rate = round(max(got, 0) / MIB / seconds, 1) if seconds > 0 else None
    print(f"{name} direct to a task: status {status}, {got} bytes in {seconds:.2f} s ({rate} MiB/s)")
    return {"status": status, "bytes": got, "seconds": round(seconds, 2), "mib_per_s": rate}
results["direct"] = {"upload": direct("upload", upload), "download": direct("download", download)}
print("RESULT: " + ("; ".join(failures) if failures else "all bytes and events arrived, RSS growth under the goal"))
results["failures"] = failures
print(json.dumps(results))
sys.exit(1 if failures else 0)
EOF
