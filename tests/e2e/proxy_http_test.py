"""End-to-end: the listener speaks HTTP/1.x as the ALB does. Malformed, ambiguous and oversized
requests get an answer (400 or 431 with a small awselb page and `Connection: close`) before
the connection closes, never a silent close; HTTP/1.0 and `Connection: close` are honoured.
Requests go over raw sockets to the demo's listener on loopback."""
import datetime
import time
import unittest

from harness import RawConnection, ReleasedEngineTest


class Conn(RawConnection):
    """A raw client connection whose responses must carry a Content-Length and a text body, and
    whose reset does not count as a close (a reset may have cost the client the answer)."""

    def response(self):
        """(status, headers with lowercase names, body) of the next response; body by Content-Length."""
        status, headers = self.head()
        length = int(headers.get("content-length", "-1"))
        assert length >= 0, "no Content-Length: %r" % headers
        return status, headers, self.take(length).decode("latin-1")

    def closed(self):
        """Whether the server closes the connection (EOF) with nothing more sent."""
        try:
            return not self.more() and self.pending == b""
        except ConnectionResetError:
            return False


GET = b"GET / HTTP/1.1\r\nHost: demo\r\n\r\n"

# Each malformed input, and what the ALB answers.
REFUSED = {
    "bad request line": (b"GARBAGE\r\n\r\n", 400),
    "bad target": (b"GET not a target HTTP/1.1\r\nHost: demo\r\n\r\n", 400),
    "HTTP/9.9": (b"GET / HTTP/9.9\r\nHost: demo\r\n\r\n", 400),
    "bad header": (b"GET / HTTP/1.1\r\nHost: demo\r\nBad Header: x\r\n\r\n", 400),
    "HTTP/1.1 without Host": (b"GET / HTTP/1.1\r\nAccept: */*\r\n\r\n", 400),
    "two Hosts": (b"GET / HTTP/1.1\r\nHost: demo\r\nHost: other\r\n\r\n", 400),
    "Content-Length with Transfer-Encoding": (
        b"POST / HTTP/1.1\r\nHost: demo\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400),
    "Transfer-Encoding with Content-Length": (
        b"POST / HTTP/1.1\r\nHost: demo\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n", 400),
    "differing duplicate Content-Length": (
        b"POST / HTTP/1.1\r\nHost: demo\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!", 400),
    "Transfer-Encoding not ending in chunked": (
        b"POST / HTTP/1.1\r\nHost: demo\r\nTransfer-Encoding: gzip\r\n\r\nhello", 400),
    # The parser would take this for a request without a body, and its body for the next request,
    # where a server in front may have read it as chunked: the two would disagree on where it ends.
    "chunked named twice": (
        b"POST / HTTP/1.1\r\nHost: demo\r\nTransfer-Encoding: chunked, chunked\r\n\r\n1\r\na\r\n0\r\n\r\n", 400),
    "absolute form without a host": (b"GET http:///x HTTP/1.1\r\nHost: demo\r\n\r\n", 400),
    "bad chunk size": (
        b"POST / HTTP/1.1\r\nHost: demo\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n", 400),
    "200 KB header": (b"GET / HTTP/1.1\r\nHost: demo\r\nX-Big: " + b"a" * 200 * 1024 + b"\r\n\r\n", 431),
    # Bodies have no size limit (they stream to the target; stream_test.py sends 1 GiB), so 413 is
    # gone. A request line that never ends gets 431 once past the 64 KB header limit.
    "endless request line": (b"GET /" + b"a" * 100 * 1024, 431),
}


class ProxyHttpTest(ReleasedEngineTest):
    def connect(self):
        conn = Conn(self.engine.listener_port)
        self.addCleanup(conn.close)
        return conn

    def assertServed(self, conn):
        status, _, body = conn.response()
        self.assertEqual((status, body), (200, "slipway demo v1\n"))

    def test_1_each_malformed_request_gets_an_alb_answer_then_the_connection_closes(self):
        for name, (data, want) in REFUSED.items():
            with self.subTest(name):
                conn = self.connect()
                conn.send(data)
                status, headers, body = conn.response()
                self.assertEqual(status, want, body)
                self.assertEqual(headers.get("connection"), "close")
                self.assertEqual(headers.get("server"), "awselb/2.0")
                self.assertEqual(headers.get("content-type"), "text/html")
                self.assertIn("<h1>%d " % want, body)
                self.assertTrue(conn.closed())
                # The listener still serves a normal request afterwards.
                conn = self.connect()
                conn.send(GET)
                self.assertServed(conn)

    def test_2_garbage_after_a_good_request_on_the_same_connection_is_refused_after_its_answer(self):
        conn = self.connect()
        conn.send(GET)
        self.assertServed(conn)
        conn.send(b"GET / HTTP/1.1\r\nHost: demo\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n")
        self.assertEqual(conn.response()[0], 400)
        self.assertTrue(conn.closed())

    def test_3_http_1_0_closes_after_the_answer(self):
        conn = self.connect()
        conn.send(b"GET / HTTP/1.0\r\n\r\n")
        status, headers, body = conn.response()
        self.assertEqual((status, body), (200, "slipway demo v1\n"))
        self.assertNotIn("transfer-encoding", headers)
        self.assertTrue(conn.closed())

    def test_4_http_1_0_with_keep_alive_stays_open(self):
        conn = self.connect()
        request = b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"
        conn.send(request)
        status, headers, body = conn.response()
        self.assertEqual((status, body), (200, "slipway demo v1\n"))
        self.assertEqual(headers.get("connection", "").lower(), "keep-alive")
        conn.send(request)
        self.assertServed(conn)

    def test_5_connection_close_closes_after_the_answer_and_keep_alive_is_the_default(self):
        conn = self.connect()
        conn.send(GET)
        self.assertServed(conn)
        conn.send(GET)
        self.assertServed(conn)
        conn.send(b"GET / HTTP/1.1\r\nHost: demo\r\nConnection: close\r\n\r\n")
        status, headers, _ = conn.response()
        self.assertEqual((status, headers.get("connection")), (200, "close"))
        self.assertTrue(conn.closed())

    def test_6_refused_requests_count_as_the_load_balancers_own_4xx(self):
        elb = self.engine.client("elbv2")
        lb_arn = elb.describe_load_balancers(Names=["demo-dev"])["LoadBalancers"][0]["LoadBalancerArn"]
        query = {"Id": "elb4xx", "MetricStat": {"Metric": {
            "Namespace": "AWS/ApplicationELB", "MetricName": "HTTPCode_ELB_4XX_Count",
            "Dimensions": [{"Name": "LoadBalancer", "Value": lb_arn.split(":")[-1][len("loadbalancer/"):]}]},
            "Period": 10, "Stat": "Sum"}}
        cw = self.engine.client("cloudwatch")
        refused = len(REFUSED) + 1  # test_1's and test_2's
        deadline = time.time() + 60  # the engine folds its counters every 10 s
        while True:
            now = datetime.datetime.now(datetime.timezone.utc)
            result = cw.get_metric_data(MetricDataQueries=[query], StartTime=now - datetime.timedelta(minutes=30),
                                        EndTime=now + datetime.timedelta(minutes=1))["MetricDataResults"][0]
            counted = sum(result["Values"])
            if counted >= refused or time.time() > deadline:
                break
            time.sleep(1)
        self.assertGreaterEqual(counted, refused)


if __name__ == "__main__":
    unittest.main()
