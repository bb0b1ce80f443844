"""A fault-injecting HTTP proxy on loopback, between an AWS client and the engine's API.

Each call is, by a seeded draw: answered 500 with an AWS-shaped error body (it never reaches the
engine), answered 400 throttling, or forwarded and then the connection closed before the reply
(the engine applied it; the client cannot know), else forwarded as it is. `first` maps operations to
the fault their first call gets, whatever the draws: so that each kind of fault, and each path that
must not duplicate a creating call, is exercised in every run."""
import http.client
import http.server
import random
import threading
import urllib.parse

SERVER_ERROR = "server_error"
THROTTLE = "throttle"
DROP = "drop_after_forward"


class FaultProxy:
    def __init__(self, engine_port, seed, server_error=0.05, throttle=0.03, drop=0.02, first=None):
        self.engine_port = engine_port
        self.rng = random.Random(seed)
        self.rates = [(SERVER_ERROR, server_error), (THROTTLE, throttle), (DROP, drop)]
        self.first = dict(first or {})
        self.lock = threading.Lock()
        self.injected = {SERVER_ERROR: 0, THROTTLE: 0, DROP: 0}
        self.forwarded = {}  # operation -> calls that reached the engine
        self.dropped_ops = []
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                proxy._handle(self, body)

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.url = "http://127.0.0.1:%d" % self.port
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()

    @staticmethod
    def _operation(handler, body):
        target = handler.headers.get("X-Amz-Target")
        if target:
            return target.rsplit(".", 1)[-1], True
        form = urllib.parse.parse_qs(body.decode())
        return form.get("Action", ["?"])[0], False

    def _fault(self, op):
        with self.lock:
            if op in self.first:
                fault = self.first.pop(op)
            else:
                draw, fault, edge = self.rng.random(), None, 0.0
                for kind, rate in self.rates:
                    edge += rate
                    if draw < edge:
                        fault = kind
                        break
            if fault:
                self.injected[fault] += 1
            if fault == DROP:
                self.dropped_ops.append(op)
            return fault

    def _handle(self, handler, body):
        op, is_json = self._operation(handler, body)
        fault = self._fault(op)
        if fault == SERVER_ERROR:
            return self._error(handler, is_json, 500, "InternalFailure" if not is_json else "ServerException",
                               "Receiver", "injected server error")
        if fault == THROTTLE:
            # ECS and Logs say ThrottlingException; ELBv2 (Query) says Throttling.
            return self._error(handler, is_json, 400, "ThrottlingException" if is_json else "Throttling", "Sender",
                               "Rate exceeded")
        conn = http.client.HTTPConnection("127.0.0.1", self.engine_port, timeout=60)
        try:
            headers = {k: v for k, v in handler.headers.items() if k.lower() not in ("connection", "keep-alive")}
            conn.request("POST", handler.path, body=body, headers=headers)
            resp = conn.getresponse()
            reply = resp.read()
        finally:
            conn.close()
        with self.lock:
            self.forwarded[op] = self.forwarded.get(op, 0) + 1
        if fault == DROP:
            handler.close_connection = True  # the engine has applied it; the client hears nothing
            return
        handler.send_response(resp.status)
        for k, v in resp.getheaders():
            if k.lower() not in ("content-length", "connection", "transfer-encoding", "date", "server"):
                handler.send_header(k, v)
        handler.send_header("Content-Length", str(len(reply)))
        handler.end_headers()
        handler.wfile.write(reply)

    @staticmethod
    def _error(handler, is_json, status, code, kind, message):
        if is_json:
            ctype = "application/x-amz-json-1.1"
            payload = '{"__type":"%s","message":"%s"}' % (code, message)
        else:
            ctype = "text/xml"
            payload = ("<ErrorResponse><Error><Type>%s</Type><Code>%s</Code><Message>%s</Message></Error>"
                       "<RequestId>00000000-0000-0000-0000-000000000000</RequestId></ErrorResponse>"
                       % (kind, code, message))
        data = payload.encode()
        handler.send_response(status)
        handler.send_header("Content-Type", ctype)
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        handler.wfile.write(data)
