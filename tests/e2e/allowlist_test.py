"""End-to-end: `allow:` on the engine with the demo. A release syncs the listener's rules and its
own verify goes through the allowlist from a listed loopback address; other sources get 403, and a
forged X-Forwarded-For changes nothing. A config change shows as drift in `plan` and
`allowlist show`, `allowlist sync` applies it (splitting 7 blocks into rules of at most 5), rules
slipway does not own are left alone, and removing `allow:` restores open routing. Traffic stays on
loopback: 127.0.0.2 is a second loopback address a client socket can bind to."""
import http.client
import json
import unittest

from harness import EngineTest

ALLOWED, OTHER = "127.0.0.2", "127.0.0.1"
SEVEN = ["127.0.0.2/32"] + ["10.0.0.%d/32" % i for i in range(1, 7)]


def get(port, source=OTHER, headers=None):
    """(status, body) of GET / on the listener from a socket bound to `source`."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30, source_address=(source, 0))
    try:
        conn.request("GET", "/", headers=headers or {})
        r = conn.getresponse()
        return r.status, r.read().decode()
    finally:
        conn.close()


class AllowlistTest(EngineTest):
    @classmethod
    def setUpEngine(cls):
        cls.elb = cls.engine.client("elbv2")
        cls.port = cls.engine.listener_port

    def config(self, name, allow):
        """The demo config with dev's `allow:` set to `allow` (None: no allow: at all)."""
        line = "" if allow is None else "    allow: [%s]\n" % ", ".join(allow)
        return self.engine.variant_config(name, {"    cluster: demo-dev\n": "    cluster: demo-dev\n" + line})

    def slipway(self, *args):
        return self.engine.slipway(*args)

    def listener(self):
        lb = self.elb.describe_load_balancers(Names=["demo-dev"])["LoadBalancers"][0]["LoadBalancerArn"]
        return self.elb.describe_listeners(LoadBalancerArn=lb)["Listeners"][0]["ListenerArn"]

    def rules(self):
        """The listener's rules other than the default, by priority."""
        rules = self.elb.describe_rules(ListenerArn=self.listener())["Rules"]
        return {int(r["Priority"]): r for r in rules if not r["IsDefault"]}

    def test_0_help_teaches_show_and_sync(self):
        out = self.slipway("allowlist", "--help")
        self.assertEqual(out.returncode, 0, out.stderr)
        for text in ("slipway allowlist show dev", "slipway allowlist sync dev", "403"):
            self.assertIn(text, out.stdout)
        out = self.slipway("allowlist", "show", "--help")
        self.assertIn("--detailed-exitcode", out.stdout)
        self.assertIn("10 drift", out.stdout)

    def test_0_a_bad_block_is_a_config_error_naming_line_and_key(self):
        out = self.slipway("allowlist", "show", "dev", "--config", self.config("bad.yaml", ["10.1.2.3/16"]))
        self.assertEqual(out.returncode, 2, out.stdout + out.stderr)
        self.assertIn("bad.yaml:", out.stderr)
        self.assertIn("environments.dev.allow[0]: '10.1.2.3/16' has bits set past its /16 prefix", out.stderr)

    def test_1_a_release_admits_only_listed_sources_and_verifies_through_them(self):
        config = self.config("one.yaml", ["127.0.0.2/32"])
        out = self.engine.deploy("v1", config=config)
        self.assertEqual(out.returncode, 0, out.stdout + out.stderr)
        self.assertIn("verify sends from 127.0.0.2", out.stdout)
        self.assertEqual(get(self.port, OTHER)[0], 403)
        status, body = get(self.port, ALLOWED)
        self.assertEqual(status, 200, body)
        self.assertIn("slipway demo", body)
        # The proxy matches the TCP peer, never what a client claims.
        self.assertEqual(get(self.port, OTHER, {"X-Forwarded-For": ALLOWED})[0], 403)
        out = self.slipway("allowlist", "show", "dev", "--config", config, "--detailed-exitcode")
        self.assertEqual(out.returncode, 0, out.stdout + out.stderr)
        self.assertIn("no drift", out.stdout)
        self.assertIn("web: 127.0.0.2/32", out.stdout)

    def test_2_a_config_change_is_drift_until_sync_applies_it(self):
        listener = self.listener()
        # Rules that are not slipway's: one below its band, one inside it doing something else.
        theirs = {5: {"Field": "host-header", "HostHeaderConfig": {"Values": ["admin.example"]}},
                  48000: {"Field": "path-pattern", "PathPatternConfig": {"Values": ["/theirs"]}}}
        for priority, condition in theirs.items():
            self.elb.create_rule(ListenerArn=listener, Priority=priority, Conditions=[condition],
                                 Actions=[{"Type": "fixed-response", "FixedResponseConfig": {"StatusCode": "418"}}])
        config = self.config("seven.yaml", SEVEN)
        out = self.slipway("plan", "dev", "--config", config, "--detailed-exitcode")
        self.assertEqual(out.returncode, 10, out.stdout + out.stderr)
        self.assertIn("listener rules (allowlist drift", out.stdout)
        self.assertIn("~ 49901 web (allow)", out.stdout)
        self.assertIn("+ 49902 web (allow)", out.stdout)
        out = self.slipway("allowlist", "show", "dev", "--config", config, "--detailed-exitcode", "--output", "json")
        self.assertEqual(out.returncode, 10, out.stdout + out.stderr)
        shown = json.loads(out.stdout)
        self.assertTrue(shown["drift"])
        self.assertEqual([r["priority"] for r in shown["rules"]["missing"]], [49902])
        self.assertEqual(len(shown["rules"]["notOwned"]), 2)

        out = self.slipway("allowlist", "sync", "dev", "--config", config)
        self.assertEqual(out.returncode, 0, out.stdout + out.stderr)
        self.assertIn("in sync", out.stdout)
        out = self.slipway("allowlist", "show", "dev", "--config", config, "--detailed-exitcode", "--output", "json")
        self.assertEqual(out.returncode, 0, out.stdout + out.stderr)
        self.assertFalse(json.loads(out.stdout)["drift"])
        out = self.slipway("plan", "dev", "--config", config, "--detailed-exitcode")
        self.assertEqual(out.returncode, 0, out.stdout + out.stderr)

        # Seven blocks: rules of at most five values, every block once, then the 403 for the rest.
        rules = self.rules()
        allow = [rules[p] for p in (49901, 49902)]
        values = [c["SourceIpConfig"]["Values"] for r in allow for c in r["Conditions"] if c["Field"] == "source-ip"]
        self.assertEqual([len(v) for v in values], [5, 2])
        self.assertEqual(sorted(sum(values, [])), sorted(SEVEN))
        self.assertEqual(rules[50000]["Actions"][0]["FixedResponseConfig"]["StatusCode"], "403")
        for priority in theirs:
            self.assertEqual(rules[priority]["Actions"][0]["FixedResponseConfig"]["StatusCode"], "418")
        self.assertEqual(get(self.port, ALLOWED)[0], 200)
        self.assertEqual(get(self.port, OTHER)[0], 403)

    def test_3_an_allowlist_that_would_block_verify_is_said_up_front(self):
        config = self.config("blocked.yaml", ["203.0.113.7/32"])
        out = self.slipway("plan", "dev", "--config", config)
        self.assertEqual(out.returncode, 0, out.stdout + out.stderr)
        self.assertTrue(out.stdout.startswith("warning: the allowlist blocks verify"), out.stdout)
        out = self.slipway("allowlist", "show", "dev", "--config", config)
        self.assertIn("warning: the allowlist blocks verify", out.stdout)

    def test_4_removing_allow_restores_open_routing_and_leaves_their_rules(self):
        config = self.config("open.yaml", None)
        out = self.slipway("allowlist", "show", "dev", "--config", config, "--detailed-exitcode")
        self.assertEqual(out.returncode, 10, out.stdout + out.stderr)
        self.assertIn("- 49901", out.stdout)
        out = self.slipway("allowlist", "sync", "dev", "--config", config, "--output", "json")
        self.assertEqual(out.returncode, 0, out.stdout + out.stderr)
        self.assertEqual(len(json.loads(out.stdout)["changes"]), 3)  # two allow rules and the 403
        self.assertEqual(sorted(self.rules()), [5, 48000])
        status, body = get(self.port, OTHER)
        self.assertEqual(status, 200, body)
        out = self.slipway("allowlist", "show", "dev", "--config", config, "--detailed-exitcode")
        self.assertEqual(out.returncode, 0, out.stdout + out.stderr)

    def test_5_a_release_warns_before_any_change_when_verify_would_be_blocked(self):
        out = self.engine.deploy("v2", config=self.config("blocked-release.yaml", ["203.0.113.7/32"]))
        self.assertNotEqual(out.returncode, 0, out.stdout + out.stderr)
        warning = out.stdout.find("warning: the allowlist blocks verify")
        self.assertGreaterEqual(warning, 0, out.stdout)
        self.assertLess(warning, out.stdout.find("listener: "), out.stdout)
        self.assertLess(warning, out.stdout.find("infrastructure ready"), out.stdout)


if __name__ == "__main__":
    unittest.main(verbosity=2)
