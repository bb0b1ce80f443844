"""End-to-end: listener rules on the engine. An allowlist (a source-ip rule that forwards, and a
fixed-response 403 after it) is matched against the TCP peer of each client connection, never
against X-Forwarded-For; the rule API round-trips through boto3 and the aws CLI, refuses garbage
with the ALB's error codes, and its rules survive an engine restart. Traffic stays on loopback:
127.0.0.2 is a second loopback address a client socket can bind to."""
import http.client
import http.server
import json
import threading
import time
import unittest

from botocore.config import Config
from botocore.exceptions import ClientError

from harness import EngineTest, free_port

ALLOWED, OTHER = "127.0.0.2", "127.0.0.1"


class Backend(http.server.ThreadingHTTPServer):
    """The app behind the target group: answers 200 with the X-Forwarded-For it was sent."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            body = ("app xff=%s\n" % self.headers.get("X-Forwarded-For", "")).encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    def __init__(self):
        super().__init__(("127.0.0.1", 0), Backend.Handler)
        self.port = self.server_address[1]
        threading.Thread(target=self.serve_forever, daemon=True).start()


def get(port, source=OTHER, headers=None, path="/"):
    """(status, content type, body) of GET `path` on the listener from a socket bound to `source`."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30, source_address=(source, 0))
    try:
        conn.request("GET", path, headers=headers or {})
        r = conn.getresponse()
        return r.status, r.getheader("Content-Type"), r.read().decode()
    finally:
        conn.close()


class RulesTest(EngineTest):
    @classmethod
    def setUpClass(cls):
        cls.backend = Backend()
        super().setUpClass()

    @classmethod
    def setUpEngine(cls):
        elb = cls.elb = cls.engine.client("elbv2")
        cls.raw = cls.engine.client("elbv2", config=Config(parameter_validation=False))
        lb = elb.create_load_balancer(Name="rules", Subnets=["subnet-local"])["LoadBalancers"][0]["LoadBalancerArn"]
        cls.tg = elb.create_target_group(Name="rules-app", Protocol="HTTP", Port=cls.backend.port, VpcId="vpc-local",
                                         TargetType="ip", HealthCheckIntervalSeconds=5, HealthCheckTimeoutSeconds=2,
                                         HealthyThresholdCount=2)["TargetGroups"][0]["TargetGroupArn"]
        elb.register_targets(TargetGroupArn=cls.tg, Targets=[{"Id": "127.0.0.1", "Port": cls.backend.port}])
        cls.port = free_port()
        cls.listener = elb.create_listener(
            LoadBalancerArn=lb, Protocol="HTTP", Port=cls.port,
            DefaultActions=[{"Type": "fixed-response", "FixedResponseConfig": {"StatusCode": "404"}}],
        )["Listeners"][0]["ListenerArn"]
        deadline = time.time() + 120
        while elb.describe_target_health(TargetGroupArn=cls.tg)["TargetHealthDescriptions"][0]["TargetHealth"]["State"] != "healthy":
            assert time.time() < deadline, "the backend never became healthy"
            time.sleep(0.5)
        # The allowlist: listed sources are forwarded; every other source gets a 403 from the rule after it.
        cls.allow = elb.create_rule(
            ListenerArn=cls.listener, Priority=10,
            Conditions=[{"Field": "source-ip", "SourceIpConfig": {"Values": [ALLOWED + "/32"]}}],
            Actions=[{"Type": "forward", "TargetGroupArn": cls.tg}])["Rules"][0]["RuleArn"]
        cls.deny = elb.create_rule(
            ListenerArn=cls.listener, Priority=20,
            Conditions=[{"Field": "path-pattern", "PathPatternConfig": {"Values": ["/*"]}}],
            Actions=[{"Type": "fixed-response", "FixedResponseConfig": {
                "StatusCode": "403", "ContentType": "text/plain", "MessageBody": "not on the allowlist"}}],
        )["Rules"][0]["RuleArn"]

    @classmethod
    def tearDownClass(cls):
        super().tearDownClass()
        cls.backend.shutdown()

    def rules(self):
        return self.elb.describe_rules(ListenerArn=self.listener)["Rules"]

    def assertRefused(self, code, call, **kwargs):
        before = self.rules()
        with self.assertRaises(ClientError) as caught:
            call(**kwargs)
        self.assertEqual(caught.exception.response["Error"]["Code"], code, caught.exception.response["Error"])
        self.assertEqual(self.rules(), before)  # nothing changed
        return caught.exception.response["Error"]["Message"]

    def test_1_the_allowlist_matches_the_peer_address_not_x_forwarded_for(self):
        status, ctype, body = get(self.port, source=OTHER)
        self.assertEqual((status, ctype, body), (403, "text/plain", "not on the allowlist"))
        status, _, body = get(self.port, source=ALLOWED)
        self.assertEqual(status, 200, body)
        self.assertEqual(body, "app xff=%s\n" % ALLOWED)
        status, _, body = get(self.port, source=OTHER, headers={"X-Forwarded-For": ALLOWED})
        self.assertEqual((status, body), (403, "not on the allowlist"))

    def test_2_describe_rules_shows_them_in_priority_order_with_the_default_last(self):
        rules = self.rules()
        self.assertEqual([r["Priority"] for r in rules], ["10", "20", "default"])
        self.assertEqual([r["IsDefault"] for r in rules], [False, False, True])
        self.assertEqual(rules[0]["Conditions"], [{"Field": "source-ip", "SourceIpConfig": {"Values": [ALLOWED + "/32"]}}])
        self.assertEqual(rules[0]["Actions"][0]["TargetGroupArn"], self.tg)
        self.assertEqual(rules[1]["Actions"][0]["FixedResponseConfig"],
                         {"StatusCode": "403", "ContentType": "text/plain", "MessageBody": "not on the allowlist"})
        by_arn = self.elb.describe_rules(RuleArns=[self.allow, rules[2]["RuleArn"]])["Rules"]
        self.assertEqual(sorted(r["Priority"] for r in by_arn), ["10", "default"])
        paged = self.elb.describe_rules(ListenerArn=self.listener, PageSize=2)
        self.assertEqual(len(paged["Rules"]), 2)
        rest = self.elb.describe_rules(ListenerArn=self.listener, Marker=paged["NextMarker"])
        self.assertEqual([r["Priority"] for r in rest["Rules"]], ["default"])
        self.assertNotIn("NextMarker", rest)

    def test_3_modify_set_priorities_and_delete_round_trip_through_boto3(self):
        # Widen the allowlist: 127.0.0.1 now gets through too.
        modified = self.elb.modify_rule(RuleArn=self.allow, Conditions=[
            {"Field": "source-ip", "SourceIpConfig": {"Values": [ALLOWED + "/32", OTHER + "/32", "::1/128"]}}])
        self.assertEqual(modified["Rules"][0]["Conditions"][0]["SourceIpConfig"]["Values"],
                         [ALLOWED + "/32", OTHER + "/32", "::1/128"])
        self.assertEqual(get(self.port, source=OTHER)[0], 200)
        # Swap the two rules: the 403 now comes first for everyone.
        swapped = self.elb.set_rule_priorities(RulePriorities=[{"RuleArn": self.allow, "Priority": 20},
                                                               {"RuleArn": self.deny, "Priority": 10}])["Rules"]
        self.assertEqual({r["RuleArn"]: r["Priority"] for r in swapped}, {self.allow: "20", self.deny: "10"})
        self.assertEqual(get(self.port, source=ALLOWED)[0], 403)
        # A rule that only forwards, then deleted: the default rule answers again.
        extra = self.elb.create_rule(ListenerArn=self.listener, Priority=5, Conditions=[
            {"Field": "path-pattern", "Values": ["/extra"]}], Actions=[{"Type": "forward", "TargetGroupArn": self.tg}])
        self.assertEqual(get(self.port, path="/extra")[0], 200)
        self.elb.delete_rule(RuleArn=extra["Rules"][0]["RuleArn"])
        self.assertEqual(get(self.port, path="/extra")[0], 403)
        # Back as the allowlist was.
        self.elb.set_rule_priorities(RulePriorities=[{"RuleArn": self.allow, "Priority": 10},
                                                     {"RuleArn": self.deny, "Priority": 20}])
        self.elb.modify_rule(RuleArn=self.allow, Conditions=[
            {"Field": "source-ip", "SourceIpConfig": {"Values": [ALLOWED + "/32"]}}])
        self.assertEqual([r["Priority"] for r in self.rules()], ["10", "20", "default"])
        self.assertEqual(get(self.port, source=OTHER)[0], 403)
        self.assertEqual(get(self.port, source=ALLOWED)[0], 200)

    def test_4_an_http_header_rule_round_trips_through_the_aws_cli(self):
        created = self.engine.aws(
            "elbv2", "create-rule", "--listener-arn", self.listener, "--priority", "15",
            "--conditions", json.dumps([{"Field": "http-header", "HttpHeaderConfig": {
                "HttpHeaderName": "X-Channel", "Values": ["beta-*"]}}]),
            "--actions", json.dumps([{"Type": "fixed-response", "FixedResponseConfig": {
                "StatusCode": "200", "ContentType": "application/json", "MessageBody": "{\"channel\":\"beta\"}"}}]))
        arn = created["Rules"][0]["RuleArn"]
        self.assertEqual(created["Rules"][0]["Conditions"][0]["HttpHeaderConfig"],
                         {"HttpHeaderName": "X-Channel", "Values": ["beta-*"]})
        # Header names and values compare without case; other sources are still refused without it.
        self.assertEqual(get(self.port, headers={"x-channel": "BETA-2"}),
                         (200, "application/json", "{\"channel\":\"beta\"}"))
        self.assertEqual(get(self.port, headers={"X-Channel": "stable"})[0], 403)
        shown = self.engine.aws("elbv2", "describe-rules", "--rule-arns", arn)["Rules"]
        self.assertEqual(shown[0]["Priority"], "15")
        self.engine.aws("elbv2", "set-rule-priorities", "--rule-priorities", "RuleArn=%s,Priority=16" % arn)
        self.assertEqual(self.engine.aws("elbv2", "describe-rules", "--rule-arns", arn)["Rules"][0]["Priority"], "16")
        self.engine.aws("elbv2", "delete-rule", "--rule-arn", arn)
        self.assertEqual(get(self.port, headers={"X-Channel": "beta-2"})[0], 403)

    def test_5_garbage_is_refused_with_the_albs_error_codes(self):
        source_ip = lambda *values: [{"Field": "source-ip", "SourceIpConfig": {"Values": list(values)}}]
        forward = [{"Type": "forward", "TargetGroupArn": self.tg}]
        create = lambda **kw: self.raw.create_rule(ListenerArn=self.listener, **kw)
        for values in (["127.0.0.2"], ["127.0.0.2/33"], ["::1/129"], ["not-an-ip/8"], ["127.0.0.2/32\x00"], [""],
                       ["1.2.3.4/32"] * 6):
            with self.subTest(values=values):
                self.assertRefused("ValidationError", create, Priority=30, Conditions=source_ip(*values), Actions=forward)
        message = self.assertRefused("ValidationError", create, Priority=30,
                                     Conditions=source_ip(*["10.0.0.%d/32" % i for i in range(6)]), Actions=forward)
        self.assertEqual(message, "A rule can only have '5' condition values")
        for priority in (0, 50001, -1):
            with self.subTest(priority=priority):
                self.assertRefused("ValidationError", create, Priority=priority, Conditions=source_ip("10.0.0.0/8"),
                                   Actions=forward)
        self.assertRefused("PriorityInUse", create, Priority=10, Conditions=source_ip("10.0.0.0/8"), Actions=forward)
        cases = [
            [{"Field": "no-such-field", "Values": ["x"]}],
            [{"Field": "source-ip", "Values": ["10.0.0.0/8"]}],
            [{"Field": "http-header", "HttpHeaderConfig": {"Values": ["x"]}}],
            [{"Field": "http-header", "HttpHeaderConfig": {"HttpHeaderName": "Bad Name", "Values": ["x"]}}],
            [{"Field": "http-header", "HttpHeaderConfig": {"HttpHeaderName": "X", "Values": ["v" * 129]}}],
            [{"Field": "path-pattern", "PathPatternConfig": {"Values": ["/" + "a" * 200]}}],
            [{"Field": "host-header", "HostHeaderConfig": {"Values": ["a b"]}}],
        ]
        for conditions in cases:
            with self.subTest(conditions=conditions):
                self.assertRefused("ValidationError", create, Priority=30, Conditions=conditions, Actions=forward)
        fixed = lambda **config: [{"Type": "fixed-response", "FixedResponseConfig": config}]
        self.assertRefused("ValidationError", create, Priority=30, Conditions=source_ip("10.0.0.0/8"),
                           Actions=fixed(StatusCode="302"))
        self.assertRefused("ValidationError", create, Priority=30, Conditions=source_ip("10.0.0.0/8"),
                           Actions=fixed(StatusCode="403", ContentType="image/png"))
        self.assertRefused("ValidationError", create, Priority=30, Conditions=source_ip("10.0.0.0/8"),
                           Actions=fixed(StatusCode="403", MessageBody="x" * 1025))
        self.assertRefused("TargetGroupNotFound", create, Priority=30, Conditions=source_ip("10.0.0.0/8"),
                           Actions=[{"Type": "forward", "TargetGroupArn": self.tg + "x"}])
        default_arn = self.rules()[-1]["RuleArn"]
        missing = self.allow[:-4] + "0000"
        self.assertRefused("OperationNotPermitted", self.raw.delete_rule, RuleArn=default_arn)
        self.assertRefused("OperationNotPermitted", self.raw.modify_rule, RuleArn=default_arn,
                           Conditions=source_ip("10.0.0.0/8"))
        self.assertRefused("OperationNotPermitted", self.raw.set_rule_priorities,
                           RulePriorities=[{"RuleArn": default_arn, "Priority": 99}])
        self.assertRefused("RuleNotFound", self.raw.delete_rule, RuleArn=missing)
        self.assertRefused("RuleNotFound", self.raw.modify_rule, RuleArn=missing, Conditions=source_ip("10.0.0.0/8"))
        self.assertRefused("PriorityInUse", self.raw.set_rule_priorities,
                           RulePriorities=[{"RuleArn": self.allow, "Priority": 20}])
        self.assertRefused("ValidationError", self.raw.set_rule_priorities,
                           RulePriorities=[{"RuleArn": self.allow, "Priority": 30}, {"RuleArn": self.deny, "Priority": 30}])
        self.assertRefused("ValidationError", self.raw.describe_rules)
        # The engine kept serving, and the allowlist is as it was.
        self.assertEqual(get(self.port, source=ALLOWED)[0], 200)
        self.assertEqual(get(self.port, source=OTHER)[0], 403)

    def test_5a_a_weighted_forward_is_refused_rather_than_sent_to_its_first_group(self):
        other = self.elb.create_target_group(Name="rules-other", Protocol="HTTP", Port=self.backend.port,
                                             VpcId="vpc-local", TargetType="ip")["TargetGroups"][0]["TargetGroupArn"]
        path = [{"Field": "path-pattern", "PathPatternConfig": {"Values": ["/weighted"]}}]
        weighted = [{"Type": "forward", "ForwardConfig": {"TargetGroups": [
            {"TargetGroupArn": self.tg, "Weight": 0}, {"TargetGroupArn": other, "Weight": 100}]}}]
        message = self.assertRefused("ValidationError", self.raw.create_rule, ListenerArn=self.listener, Priority=30,
                                     Conditions=path, Actions=weighted)
        self.assertIn("one target group per action", message)
        self.assertRefused("ValidationError", self.raw.modify_rule, RuleArn=self.rules()[-1]["RuleArn"],
                           Actions=weighted)
        self.assertRefused("ValidationError", self.raw.create_rule, ListenerArn=self.listener, Priority=30,
                           Conditions=path, Actions=[{"Type": "forward", "TargetGroupArn": self.tg, "ForwardConfig": {
                               "TargetGroups": [{"TargetGroupArn": other}]}}])
        # One group in ForwardConfig alone is that group.
        rule = self.elb.create_rule(ListenerArn=self.listener, Priority=30, Conditions=path, Actions=[
            {"Type": "forward", "ForwardConfig": {"TargetGroups": [{"TargetGroupArn": self.tg}]}}])["Rules"][0]
        self.assertEqual(rule["Actions"][0]["TargetGroupArn"], self.tg)
        self.elb.delete_rule(RuleArn=rule["RuleArn"])

    def test_5b_an_ipv4_mapped_source_block_admits_its_ipv4_peers(self):
        self.elb.modify_rule(RuleArn=self.allow, Conditions=[
            {"Field": "source-ip", "SourceIpConfig": {"Values": ["::ffff:%s/128" % ALLOWED]}}])
        try:
            self.assertEqual(get(self.port, source=ALLOWED)[0], 200)
            self.assertEqual(get(self.port, source=OTHER)[0], 403)
        finally:
            self.elb.modify_rule(RuleArn=self.allow, Conditions=[
                {"Field": "source-ip", "SourceIpConfig": {"Values": [ALLOWED + "/32"]}}])

    def test_6_rules_survive_an_engine_restart(self):
        before = self.rules()
        self.assertEqual(self.engine.slipway("engine", "stop").returncode, 0)
        out = self.engine.slipway("engine", "start", "--listen", "127.0.0.1:%d" % self.engine.api_port)
        self.assertEqual(out.returncode, 0, out.stdout + out.stderr)
        self.assertEqual(self.rules(), before)
        deadline = time.time() + 120
        while get(self.port, source=ALLOWED)[0] != 200:  # the target's health is checked afresh
            self.assertLess(time.time(), deadline, "the allowlisted source never got through after the restart")
            time.sleep(0.5)
        self.assertEqual(get(self.port, source=OTHER)[0], 403)
        self.assertEqual(get(self.port, source=OTHER, headers={"X-Forwarded-For": ALLOWED})[0], 403)


if __name__ == "__main__":
    unittest.main()
