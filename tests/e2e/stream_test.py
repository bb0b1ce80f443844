"""End-to-end: the listener streams as an ALB does. WebSockets are tunnelled, server-sent events
arrive one by one, 1 GiB goes up and down with bounded engine memory, chunked bodies pass through,
HEAD never waits for a body, and an idempotent request whose target closed without answering is
retried on another target. With short limits: slow headers get 408 without starving other
clients, an idle connection closes, and a listener past its connection cap answers 503.

The demo app (its /ws, /sse, /upload and /download) is the target, registered by the API, next to a
faulty one that passes health checks but closes every other connection unanswered.
SLIPWAY_STREAM_BYTES sets the upload and download size (default 1 GiB)."""
import base64
import hashlib
import os
import socketserver
import struct
import subprocess
import threading
import time
import unittest

from harness import BIN, Engine, RawConnection, free_port

STREAM_BYTES = int(os.environ.get("SLIPWAY_STREAM_BYTES", str(1 << 30)))
GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC11B85"


def ws_frame(opcode, payload, fin=True):
    """A masked client frame."""
    mask = os.urandom(4)
    head = bytes([(0x80 if fin else 0) | opcode])
    n = len(payload)
    if n < 126:
        head += bytes([0x80 | n])
    elif n < 65536:
        head += bytes([0x80 | 126]) + struct.pack("!H", n)
    else:
        head += bytes([0x80 | 127]) + struct.pack("!Q", n)
    return head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


def ws_read(conn):
    """(opcode, payload) of the next server frame, which must not be masked."""
    b0, b1 = conn.take(2)
    assert not b1 & 0x80, "a server frame is masked"
    n = b1 & 0x7F
    if n == 126:
        n = struct.unpack("!H", conn.take(2))[0]
    elif n == 127:
        n = struct.unpack("!Q", conn.take(8))[0]
    return b0 & 0x0F, conn.take(n)


def ws_open(port):
    conn = RawConnection(port)
    key = base64.b64encode(os.urandom(16))
    conn.send(b"GET /ws HTTP/1.1\r\nHost: demo\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
              b"Sec-WebSocket-Key: " + key + b"\r\nSec-WebSocket-Version: 13\r\n\r\n")
    status, headers = conn.head()
    return conn, status, headers, base64.b64encode(hashlib.sha1(key + GUID).digest()).decode()


class FaultyTarget(socketserver.ThreadingTCPServer):
    """Passes health checks; every other request's connection is closed unanswered, as when a task dies."""
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self):
        class Handler(socketserver.StreamRequestHandler):
            def handle(self):
                while True:
                    line = self.rfile.readline()
                    if not line:
                        return
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    if not line.startswith(b"GET /healthz "):
                        return  # closed before any response byte
                    self.wfile.write(b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nok\n")

        super().__init__(("127.0.0.1", 0), Handler)
        self.port = self.server_address[1]
        threading.Thread(target=self.serve_forever, daemon=True).start()


class RecordingTarget(socketserver.ThreadingTCPServer):
    """Answers each request on a kept-alive connection; after `GET /more` it writes a second,
    unasked-for response a moment later, as a buggy app may. `asked` counts requests by path, and
    `chunks` the chunks of each chunked body."""
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self):
        self.asked = {}
        self.chunks = []
        self.lengths = []
        asked, chunks, lengths = self.asked, self.chunks, self.lengths

        class Handler(socketserver.StreamRequestHandler):
            def handle(self):
                try:
                    self.serve()
                except OSError:
                    pass  # the proxy closed a connection with the stray bytes unread: a reset

            def serve(self):
                while True:
                    line = self.rfile.readline()
                    if not line:
                        return
                    chunked, length = False, 0
                    while True:
                        field = self.rfile.readline().lower()
                        if field in (b"\r\n", b"\n", b""):
                            break
                        chunked = chunked or field.startswith(b"transfer-encoding:") and b"chunked" in field
                        if field.startswith(b"content-length:"):
                            lengths.append(field.split(b":", 1)[1].strip())
                            length = int(lengths[-1].split(b",")[0])
                    self.rfile.read(length)
                    if chunked:
                        chunks.append(0)
                        while True:
                            size = int(self.rfile.readline().split(b";")[0], 16)
                            self.rfile.read(size + 2)
                            if size == 0:
                                break
                            chunks[-1] += 1
                    path = line.split(b" ")[1]
                    asked[path] = asked.get(path, 0) + 1
                    self.wfile.write(b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nok\n")
                    self.wfile.flush()
                    if path == b"/more":
                        time.sleep(0.3)
                        self.wfile.write(b"HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nstray\n")
                        self.wfile.flush()

        super().__init__(("127.0.0.1", 0), Handler)
        self.port = self.server_address[1]
        threading.Thread(target=self.serve_forever, daemon=True).start()


class EngineWithDemo:
    """An engine, the demo app as a target on a listener of a load balancer made by the API, and
    optionally a faulty target next to it."""

    def __init__(self, *engine_flags, faulty=False):
        self.engine = Engine()
        self.demo = None
        self.faulty = FaultyTarget() if faulty else None
        out = self.engine.slipway("engine", "start", "--listen", "127.0.0.1:%d" % self.engine.api_port, *engine_flags)
        assert out.returncode == 0, out.stderr + out.stdout
        try:
            self._set_up()
        except BaseException:
            self.stop()
            raise

    def _set_up(self):
        demo_port = free_port()
        self.demo = subprocess.Popen([os.path.join(BIN, "slipway-demo-app")], env=dict(os.environ, PORT=str(demo_port)),
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        elb = self.engine.client("elbv2")
        lb = elb.create_load_balancer(Name="stream", Subnets=["subnet-local"])["LoadBalancers"][0]
        self.lb_arn = lb["LoadBalancerArn"]
        tg = elb.create_target_group(Name="stream-app", Protocol="HTTP", Port=demo_port, VpcId="vpc-local",
                                     TargetType="ip", HealthCheckPath="/healthz", HealthCheckIntervalSeconds=5,
                                     HealthCheckTimeoutSeconds=2, HealthyThresholdCount=2)["TargetGroups"][0]
        targets = [{"Id": "127.0.0.1", "Port": demo_port}]
        if self.faulty:
            targets.append({"Id": "127.0.0.1", "Port": self.faulty.port})
        elb.register_targets(TargetGroupArn=tg["TargetGroupArn"], Targets=targets)
        self.port = free_port()
        self.listener_arn = elb.create_listener(
            LoadBalancerArn=self.lb_arn, Protocol="HTTP", Port=self.port,
            DefaultActions=[{"Type": "forward", "TargetGroupArn": tg["TargetGroupArn"]}])["Listeners"][0]["ListenerArn"]
        self.wait_healthy(tg["TargetGroupArn"], len(targets))

    def wait_healthy(self, tg_arn, count):
        elb = self.engine.client("elbv2")
        deadline = time.time() + 120
        while True:
            states = [d["TargetHealth"]["State"] for d in
                      elb.describe_target_health(TargetGroupArn=tg_arn)["TargetHealthDescriptions"]]
            if states == ["healthy"] * count:
                break
            assert time.time() < deadline, "the targets never became healthy: %r" % states
            time.sleep(0.5)

    def stop(self):
        self.engine.stop()
        if self.demo:
            self.demo.terminate()
            self.demo.wait(timeout=10)
        if self.faulty:
            self.faulty.shutdown()
            self.faulty.server_close()


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


class StreamTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.env = EngineWithDemo()
        cls.port = cls.env.port

    @classmethod
    def tearDownClass(cls):
        cls.env.stop()

    def connect(self, timeout=30):
        conn = RawConnection(self.port, timeout)
        self.addCleanup(conn.close)
        return conn

    def test_websocket_echoes_text_binary_and_ping_then_closes(self):
        conn, status, headers, accept = ws_open(self.port)
        self.addCleanup(conn.close)
        self.assertEqual(status, 101)
        self.assertEqual(headers.get("upgrade", "").lower(), "websocket")
        self.assertEqual(headers.get("sec-websocket-accept"), accept)
        conn.send(ws_frame(0x1, b"hello through the load balancer"))
        self.assertEqual(ws_read(conn), (0x1, b"hello through the load balancer"))
        blob = os.urandom(100 * 1024)  # a 64-bit length
        conn.send(ws_frame(0x2, blob))
        self.assertEqual(ws_read(conn), (0x2, blob))
        conn.send(ws_frame(0x9, b"are you there"))
        self.assertEqual(ws_read(conn), (0xA, b"are you there"))
        conn.send(ws_frame(0x8, struct.pack("!H", 1000)))
        self.assertEqual(ws_read(conn), (0x8, struct.pack("!H", 1000)))
        self.assertTrue(conn.closed())

    def test_server_sent_events_arrive_one_by_one_while_the_stream_is_open(self):
        conn = self.connect()
        conn.send(b"GET /sse?count=5 HTTP/1.1\r\nHost: demo\r\n\r\n")
        status, headers = conn.head()
        self.assertEqual(status, 200)
        self.assertEqual(headers.get("content-type"), "text/event-stream")
        self.assertEqual(headers.get("transfer-encoding"), "chunked")
        first = conn.chunk()
        self.assertTrue(first.startswith(b"id: 1\ndata: 1 "), first)
        # Read while the stream is still open: nothing after the first event has arrived yet
        # (the app sends the next one 100 ms later), least of all the end of the response.
        self.assertNotIn(b"id: 2", conn.pending)
        self.assertNotIn(b"0\r\n\r\n", conn.pending)
        events = [first]
        while True:
            c = conn.chunk()
            if not c:
                break
            events.append(c)
        self.assertEqual([e.split(b"\n")[0] for e in events], [b"id: %d" % n for n in range(1, 6)])
        conn.send(b"GET / HTTP/1.1\r\nHost: demo\r\n\r\n")  # the connection is kept
        self.assertEqual(conn.response()[0], 200)

    def test_a_large_upload_and_download_stream_through_with_bounded_memory(self):
        pid = self.env.engine.pid
        before = rss_kib(pid)
        conn = self.connect(timeout=120)
        conn.send(b"POST /upload HTTP/1.1\r\nHost: demo\r\nContent-Type: application/octet-stream\r\n"
                  b"Content-Length: %d\r\n\r\n" % STREAM_BYTES)
        piece = b"u" * (1 << 20)
        sent, peak = 0, before
        while sent < STREAM_BYTES:
            n = min(len(piece), STREAM_BYTES - sent)
            conn.send(piece[:n])
            sent += n
            if sent % (64 << 20) == 0:
                peak = max(peak, rss_kib(pid))
        status, _, body = conn.response()
        self.assertEqual((status, body), (200, b'{"bytes":%d}\n' % STREAM_BYTES))
        print("\nupload of %d bytes: engine RSS %d KiB before, %d KiB at most during" % (STREAM_BYTES, before, peak))
        conn.send(b"GET /download?bytes=%d HTTP/1.1\r\nHost: demo\r\n\r\n" % STREAM_BYTES)
        status, headers = conn.head()
        self.assertEqual((status, int(headers["content-length"])), (200, STREAM_BYTES))
        got = len(conn.pending)
        conn.pending = b""
        while got < STREAM_BYTES:
            chunk = conn.sock.recv(1 << 20)
            self.assertTrue(chunk, "the download ended after %d bytes" % got)
            got += len(chunk)
            if got % (64 << 20) < len(chunk):
                peak = max(peak, rss_kib(pid))
        self.assertEqual(got, STREAM_BYTES)
        # Bodies pass through in pieces: the engine never holds a large part of one.
        self.assertLess(peak - before, 128 * 1024, "engine RSS grew from %d to %d KiB" % (before, peak))
        conn.send(b"GET / HTTP/1.1\r\nHost: demo\r\n\r\n")
        self.assertEqual(conn.response()[0], 200)

    def test_a_chunked_request_reaches_the_app_whole(self):
        conn = self.connect()
        chunks = [b"a" * 10, b"b" * 70000, b"c" * 3]
        conn.send(b"POST /upload HTTP/1.1\r\nHost: demo\r\nTransfer-Encoding: chunked\r\n\r\n")
        for c in chunks:
            conn.send(b"%x\r\n%s\r\n" % (len(c), c))
        conn.send(b"0\r\n\r\n")
        status, _, body = conn.response()
        self.assertEqual((status, body), (200, b'{"bytes":%d}\n' % sum(map(len, chunks))))
        conn.send(b"GET / HTTP/1.1\r\nHost: demo\r\n\r\n")
        self.assertEqual(conn.response()[0], 200)

    def test_expect_100_continue_is_answered_before_the_body_is_sent(self):
        conn = self.connect()
        conn.send(b"POST /upload HTTP/1.1\r\nHost: demo\r\nExpect: 100-continue\r\nContent-Length: 100000\r\n\r\n")
        self.assertEqual(conn.head()[0], 100)
        conn.send(b"e" * 100000)
        status, _, body = conn.response()
        self.assertEqual((status, body), (200, b'{"bytes":100000}\n'))

    def test_head_on_a_chunked_response_gets_its_header_and_nothing_else(self):
        conn = self.connect(timeout=10)
        conn.send(b"HEAD /sse HTTP/1.1\r\nHost: demo\r\n\r\n")
        status, headers = conn.head()
        self.assertEqual((status, headers.get("transfer-encoding")), (200, "chunked"))
        # Nothing follows the header: the next answer on the connection is the next request's.
        conn.send(b"GET / HTTP/1.1\r\nHost: demo\r\n\r\n")
        status, _, body = conn.response()
        self.assertEqual((status, body), (200, b"slipway demo v1\n"))

    def test_http_1_0_gets_a_chunked_body_unframed_until_the_close(self):
        conn = self.connect()
        conn.send(b"GET /sse?count=2 HTTP/1.0\r\n\r\n")
        status, headers = conn.head()
        self.assertEqual(status, 200)
        self.assertNotIn("transfer-encoding", headers)
        while conn.more():
            pass
        self.assertEqual(conn.pending.count(b"data: "), 2)
        self.assertNotIn(b"0\r\n\r\n", conn.pending)

    def test_a_chunk_line_or_trailers_past_the_read_buffer_get_400_and_memory_stays_bounded(self):
        pid = self.env.engine.pid
        before = rss_kib(pid)
        for name, start, filler in [("chunk extension", b"1;", b"x"), ("trailer", b"1\r\na\r\n0\r\nX-T: ", b"t")]:
            conn = self.connect(timeout=10)
            conn.send(b"POST /upload HTTP/1.1\r\nHost: demo\r\nTransfer-Encoding: chunked\r\n\r\n" + start)
            try:
                for _ in range(16):  # 16 MiB that never end the line
                    conn.send(filler * (1 << 20))
            except OSError:
                pass  # refused and closed while sending
            self.assertEqual(conn.head()[0], 400, name)
            self.assertLess(rss_kib(pid) - before, 8 * 1024, "%s: engine RSS grew from %d KiB" % (name, before))

    def test_an_absolute_form_target_meets_the_listener_rules_as_its_path(self):
        elb = self.env.engine.client("elbv2")
        rule = elb.create_rule(ListenerArn=self.env.listener_arn, Priority=1,
                               Conditions=[{"Field": "path-pattern", "Values": ["/private/*"]}],
                               Actions=[{"Type": "fixed-response", "FixedResponseConfig": {
                                   "StatusCode": "403", "ContentType": "text/plain", "MessageBody": "no"}}])
        self.addCleanup(elb.delete_rule, RuleArn=rule["Rules"][0]["RuleArn"])
        conn = self.connect()
        conn.send(b"GET /private/x HTTP/1.1\r\nHost: demo\r\n\r\n")
        self.assertEqual(conn.response()[:3:2], (403, b"no"))
        conn.send(b"GET http://demo/private/x HTTP/1.1\r\nHost: demo\r\n\r\n")
        self.assertEqual(conn.response()[:3:2], (403, b"no"))
        conn.send(b"GET http://demo/ HTTP/1.1\r\nHost: demo\r\n\r\n")  # the demo app sees "/"
        self.assertEqual(conn.response()[:3:2], (200, b"slipway demo v1\n"))

    def recording_target(self, name):
        """A RecordingTarget behind a listener of its own: (the target, the listener's port)."""
        target = RecordingTarget()
        self.addCleanup(target.server_close)
        self.addCleanup(target.shutdown)
        elb = self.env.engine.client("elbv2")
        tg = elb.create_target_group(Name=name, Protocol="HTTP", Port=target.port, VpcId="vpc-local",
                                     TargetType="ip", HealthCheckPath="/healthz", HealthCheckIntervalSeconds=5,
                                     HealthCheckTimeoutSeconds=2, HealthyThresholdCount=2)["TargetGroups"][0]
        elb.register_targets(TargetGroupArn=tg["TargetGroupArn"], Targets=[{"Id": "127.0.0.1", "Port": target.port}])
        port = free_port()
        elb.create_listener(LoadBalancerArn=self.env.lb_arn, Protocol="HTTP", Port=port,
                            DefaultActions=[{"Type": "forward", "TargetGroupArn": tg["TargetGroupArn"]}])
        self.env.wait_healthy(tg["TargetGroupArn"], 1)
        return target, port

    def test_a_body_of_one_byte_chunks_reaches_the_target_in_few_pieces(self):
        target, port = self.recording_target("chunk-count")
        conn = RawConnection(port, 30)
        self.addCleanup(conn.close)
        conn.send(b"POST /upload HTTP/1.1\r\nHost: demo\r\nTransfer-Encoding: chunked\r\n\r\n" +
                  b"1\r\nx\r\n" * 20000 + b"0\r\n\r\n")
        self.assertEqual(conn.response()[::2], (200, b"ok\n"))
        # Each read from the client goes on in one piece, however many chunks it held.
        self.assertLess(target.chunks[0], 1000, target.chunks)

    def test_a_content_length_list_reaches_the_target_as_one_length(self):
        target, port = self.recording_target("one-length")
        for length in (b"Content-Length: 3, 3\r\n", b"Content-Length: 3\r\nContent-Length: 3\r\n"):
            conn = RawConnection(port, 10)
            self.addCleanup(conn.close)
            conn.send(b"POST /form HTTP/1.1\r\nHost: demo\r\nConnection: close\r\n" + length + b"\r\nabc")
            self.assertEqual(conn.response()[::2], (200, b"ok\n"))
        self.assertEqual(target.lengths, [b"3", b"3"])

    def test_bytes_a_target_wrote_past_its_response_never_reach_the_next_request(self):
        target, port = self.recording_target("late-bytes")
        conn = RawConnection(port, 10)
        self.addCleanup(conn.close)
        conn.send(b"GET /more HTTP/1.1\r\nHost: demo\r\n\r\n")
        self.assertEqual(conn.response()[::2], (200, b"ok\n"))
        time.sleep(1)  # the stray response has arrived on the pooled upstream connection
        for n in range(3):  # on the same loop (the same client connection) and on others
            other = conn if n == 0 else RawConnection(port, 10)
            other.send(b"GET /next HTTP/1.1\r\nHost: demo\r\n\r\n")
            self.assertEqual(other.response()[::2], (200, b"ok\n"))
            if other is not conn:
                other.close()
        self.assertEqual(target.asked.get(b"/next"), 3)


class RetryTest(unittest.TestCase):
    """A target that closes connections unanswered (a task that died) next to a good one."""

    @classmethod
    def setUpClass(cls):
        cls.env = EngineWithDemo(faulty=True)

    @classmethod
    def tearDownClass(cls):
        cls.env.stop()

    def request(self, method, body=None):
        conn = RawConnection(self.env.port)
        try:
            extra = b"Content-Length: %d\r\n" % len(body) if body is not None else b""
            conn.send(b"%s / HTTP/1.1\r\nHost: demo\r\nConnection: close\r\n%s\r\n%s" % (method, extra, body or b""))
            return conn.response()[0]
        finally:
            conn.close()

    def test_idempotent_requests_go_to_another_target_and_a_post_does_not(self):
        gets = [self.request(b"GET") for _ in range(10)]
        self.assertEqual(gets, [200] * 10)
        puts = [self.request(b"PUT", b"x" * 1000) for _ in range(4)]  # a held body can be sent again
        self.assertEqual(puts, [200] * 4)
        posts = [self.request(b"POST", b"x" * 1000) for _ in range(10)]
        self.assertEqual(set(posts), {200, 502}, posts)  # round robin: some reach the faulty target


class LimitsTest(unittest.TestCase):
    """An engine with a 2 s header timeout, a 3 s idle timeout and 250 connections per listener."""

    CAP = 250

    @classmethod
    def setUpClass(cls):
        cls.env = EngineWithDemo("--proxy-header-timeout", "2", "--proxy-idle-timeout", "3",
                                 "--proxy-max-connections", str(cls.CAP))
        cls.port = cls.env.port

    @classmethod
    def tearDownClass(cls):
        cls.env.stop()

    def get(self, conn):
        conn.send(b"GET / HTTP/1.1\r\nHost: demo\r\n\r\n")
        status, _, body = conn.response()
        self.assertEqual((status, body), (200, b"slipway demo v1\n"))

    def test_1_past_the_connection_cap_a_new_connection_gets_503_and_the_others_stay_served(self):
        conns = []
        self.addCleanup(lambda: [c.close() for c in conns])
        for _ in range(self.CAP):
            conns.append(RawConnection(self.port))
            self.get(conns[-1])
        extra = RawConnection(self.port)
        self.addCleanup(extra.close)
        extra.send(b"GET / HTTP/1.1\r\nHost: demo\r\n\r\n")
        status, headers, body = extra.response()
        self.assertEqual((status, headers.get("connection"), headers.get("server")), (503, "close", "awselb/2.0"))
        self.assertTrue(extra.closed())
        for c in conns:
            self.get(c)

    def test_2_an_idle_connection_and_an_idle_websocket_close(self):
        conn = RawConnection(self.port)
        self.addCleanup(conn.close)
        self.get(conn)
        self.assertTrue(conn.closed())  # recv blocks until the proxy closes it (30 s socket timeout)
        ws, status, _, _ = ws_open(self.port)
        self.addCleanup(ws.close)
        self.assertEqual(status, 101)
        self.assertTrue(ws.closed())

    def test_3_slow_headers_get_408_and_do_not_starve_other_clients(self):
        header = b"GET / HTTP/1.1\r\nHost: demo\r\nX-Slow: " + b"s" * 40 + b"\r\n\r\n"
        slow = [RawConnection(self.port) for _ in range(200)]
        self.addCleanup(lambda: [c.close() for c in slow])
        for second in range(4):  # a header byte per second from each
            for c in slow:
                try:
                    c.send(header[second:second + 1])
                except OSError:
                    pass
            if second == 1:
                conn = RawConnection(self.port)
                self.addCleanup(conn.close)
                self.get(conn)
            time.sleep(1)
        answers = []
        for c in slow:
            try:
                answers.append(c.head()[0])
            except (EOFError, OSError) as e:
                answers.append(repr(e))
        self.assertEqual(answers, [408] * len(slow))

    def test_4_a_restarted_engine_keeps_the_limits(self):
        out = self.env.engine.slipway("engine", "restart")
        self.assertEqual(out.returncode, 0, out.stdout + out.stderr)
        conn = RawConnection(self.port)
        self.addCleanup(conn.close)
        self.get(conn)
        self.assertTrue(conn.closed())  # the 3 s idle timeout, not the default 60 s (the socket's 30 s)


if __name__ == "__main__":
    unittest.main()
