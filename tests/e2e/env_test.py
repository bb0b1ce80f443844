"""End-to-end: who owns desiredCount (`scale`, `scale --reset`), `env down|up|status` with its cost
estimate, and an on-demand service started and stopped, on the engine with the demo app."""
import json
import os
import unittest
import urllib.request

from harness import EngineTest

# The demo task: 256 CPU units and 512 MiB, at us-east-1's $0.04048 per vCPU-hour and $0.004445
# per GB-hour.
TASK_HOUR = 0.25 * 0.04048 + 0.5 * 0.004445


class EnvTest(EngineTest):
    @classmethod
    def setUpEngine(cls):
        cls.config = cls.write_config()
        out = cls.deploy()
        assert out.returncode == 0, out.stdout + out.stderr
        cls.first_release = out.stdout + out.stderr
        cls.ecs = cls.engine.client("ecs")
        cls.elb = cls.engine.client("elbv2")

    @classmethod
    def write_config(cls):
        """The demo plus `admin`, an on-demand service behind /env/* (it answers /env/ADMIN_ROLE)."""
        with open(os.path.join(cls.engine.dir, "web.taskdef.json")) as f:
            td = json.load(f)
        td["family"] = "demo-admin"
        td["containerDefinitions"][0]["environment"].append({"name": "ADMIN_ROLE", "value": "pgadmin"})
        with open(os.path.join(cls.engine.dir, "admin.taskdef.json"), "w") as f:
            json.dump(td, f)
        return cls.engine.variant_config("env.yaml", {
            "environments:\n": "  admin:\n"
                               "    taskDefinition: admin.taskdef.json\n"
                               "    container: web\n"
                               "    containerPort: 8080\n"
                               "    healthCheck: {path: /healthz, intervalSeconds: 5, timeoutSeconds: 2,\n"
                               "                  healthyThreshold: 2, unhealthyThreshold: 2}\n"
                               "    deregistrationDelaySeconds: 2\n"
                               "environments:\n",
            "          minimumHealthyPercent: 100\n": "          minimumHealthyPercent: 100\n"
                                                     "      admin:\n"
                                                     "        onDemand: true\n"
                                                     "        pathPattern: \"/env/*\"\n"
                                                     "        priority: 10\n",
            "        contains: \"slipway demo\"\n    timeoutSeconds: 300\n  prod:":
                "        contains: \"slipway demo\"\n"
                "      - path: /env/ADMIN_ROLE\n"
                "        status: 200\n"
                "        contains: pgadmin\n"
                "    timeoutSeconds: 300\n  prod:",
        })

    @classmethod
    def deploy(cls):
        return cls.engine.deploy("v1", config=cls.config)

    def slipway(self, *args):
        return self.engine.slipway(*args, "--config", self.config)

    def service(self, name):
        return self.ecs.describe_services(cluster="demo-dev", services=[name], include=["TAGS"])["services"][0]

    def override(self, name):
        tags = {t["key"]: t["value"] for t in self.service(name).get("tags", [])}
        return tags.get("slipway:desiredCount")

    def get(self, path):
        try:
            with urllib.request.urlopen("http://127.0.0.1:%d%s" % (self.engine.listener_port, path), timeout=5) as r:
                return r.status, r.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode()

    def test_1_a_release_leaves_an_on_demand_service_stopped_and_skips_its_checks(self):
        admin = self.service("demo-dev-admin")
        self.assertEqual((admin["desiredCount"], admin["runningCount"]), (0, 0))
        self.assertIn("verify GET /env/ADMIN_ROLE: skipped, admin is on demand and stopped", self.first_release)
        self.assertEqual(self.service("demo-dev-web")["runningCount"], 2)
        out = self.slipway("plan", "dev", "--detailed-exitcode")
        self.assertEqual(out.returncode, 0, out.stdout + out.stderr)
        self.assertIn("on demand: stopped unless started", out.stdout)

    def test_2_env_down_then_up(self):
        out = self.slipway("env", "down", "dev", "--output", "json")
        self.assertEqual(out.returncode, 0, out.stdout + out.stderr)
        down = json.loads(out.stdout)
        self.assertEqual({s["serviceName"]: s["runningCount"] for s in down["services"]},
                         {"demo-dev-web": 0, "demo-dev-admin": 0})
        web = self.service("demo-dev-web")
        self.assertEqual((web["desiredCount"], web["runningCount"], web["pendingCount"]), (0, 0, 0))
        self.assertEqual(self.override("demo-dev-web"), "0 by=env-down was=2")
        self.assertEqual(self.ecs.list_tasks(cluster="demo-dev", serviceName="demo-dev-web")["taskArns"], [])

        out = self.slipway("env", "status", "dev", "--output", "json")
        self.assertEqual(out.returncode, 0, out.stdout + out.stderr)
        status = json.loads(out.stdout)
        self.assertEqual((status["runningTasks"], status["hourlyCost"], status["estimate"]), (0, 0, True))
        web_row = [s for s in status["services"] if s["service"] == "web"][0]
        self.assertEqual((web_row["desiredCount"], web_row["runningCount"], web_row["releaseCount"]), (0, 0, 0))
        self.assertEqual(web_row["override"]["description"], "0 (set by env down; was 2)")
        out = self.slipway("env", "status", "dev")
        self.assertIn("0 task(s) running, about $0.0000 per hour", out.stdout)
        self.assertIn("0 (set by env down; was 2)", out.stdout)

        # A release while down keeps it down.
        out = self.deploy()
        self.assertEqual(out.returncode, 0, out.stdout + out.stderr)
        self.assertIn("keeps desiredCount 0 (set by env down; was 2)", out.stdout + out.stderr)
        self.assertEqual(self.service("demo-dev-web")["desiredCount"], 0)

        out = self.slipway("env", "up", "dev", "--output", "json")
        self.assertEqual(out.returncode, 0, out.stdout + out.stderr)
        up = json.loads(out.stdout)
        self.assertEqual(up["verify"], {"passed": True, "failure": None})
        web = self.service("demo-dev-web")
        self.assertEqual((web["desiredCount"], web["runningCount"]), (2, 2))
        self.assertIsNone(self.override("demo-dev-web"))
        self.assertEqual(self.service("demo-dev-admin")["desiredCount"], 0)
        self.assertEqual(self.get("/")[0], 200)

        out = self.slipway("env", "status", "dev", "--output", "json")
        status = json.loads(out.stdout)
        self.assertEqual(status["runningTasks"], 2)
        self.assertAlmostEqual(status["hourlyCost"], 2 * TASK_HOUR, places=9)
        out = self.slipway("env", "status", "dev")
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertIn("2 task(s) running, about $0.0247 per hour", out.stdout)
        self.assertIn("0.25 vCPU, 0.5 GB", out.stdout)
        self.assertIn("estimate: Fargate Linux/x86 on-demand prices of $0.04048 per vCPU-hour and $0.004445 per "
                      "GB-hour", out.stdout)
        # The environment's own prices.
        priced = os.path.join(self.engine.dir, "priced.yaml")
        with open(self.config) as f:
            text = f.read().replace("    timeoutSeconds: 300\n  prod:",
                                    "    timeoutSeconds: 300\n    pricing: {vcpuHour: 0.1, gbHour: 0.01}\n  prod:", 1)
        with open(priced, "w") as f:
            f.write(text)
        out = self.engine.slipway("env", "status", "dev", "--config", priced, "--output", "json")
        self.assertEqual(out.returncode, 0, out.stdout + out.stderr)
        self.assertAlmostEqual(json.loads(out.stdout)["hourlyCost"], 2 * (0.25 * 0.1 + 0.5 * 0.01), places=9)

    def test_3_env_up_fails_when_verify_fails(self):
        # A config whose check cannot pass: the counts are restored, but exit 1 names verify.
        bad = os.path.join(self.engine.dir, "badverify.yaml")
        with open(self.config) as f:
            text = f.read().replace('contains: "slipway demo"', 'contains: "no such text"', 1)
        with open(bad, "w") as f:
            f.write(text)
        out = self.engine.slipway("env", "up", "dev", "--config", bad)
        self.assertEqual(out.returncode, 1, out.stdout + out.stderr)
        self.assertIn("verify failed", out.stderr)

    def test_4_scale_is_an_override_that_releases_keep_until_reset(self):
        out = self.slipway("scale", "dev", "web", "1")
        self.assertEqual(out.returncode, 0, out.stdout + out.stderr)
        self.assertEqual(self.override("demo-dev-web"), "1 by=scale was=2")
        out = self.slipway("plan", "dev", "--detailed-exitcode")
        self.assertEqual(out.returncode, 0, out.stdout + out.stderr)
        self.assertIn("desiredCount override: 1 (set by scale; was 2); the config says 2", out.stdout)
        self.assertNotIn("scale drift", out.stdout)
        plan = json.loads(self.slipway("plan", "dev", "--output", "json").stdout)
        web = [s for s in plan["services"] if s["service"] == "web"][0]
        self.assertEqual(web["desiredCountOverride"]["count"], 1)
        self.assertIsNone(web["scaleDrift"])
        status = self.slipway("status", "dev")
        self.assertIn("desiredCount override: 1 (set by scale; was 2)", status.stdout)

        out = self.deploy()
        self.assertEqual(out.returncode, 0, out.stdout + out.stderr)
        web = self.service("demo-dev-web")
        self.assertEqual((web["desiredCount"], web["runningCount"]), (1, 1))

        out = self.slipway("scale", "dev", "web", "--reset")
        self.assertEqual(out.returncode, 0, out.stdout + out.stderr)
        self.assertIsNone(self.override("demo-dev-web"))
        self.assertEqual(self.service("demo-dev-web")["desiredCount"], 2)
        out = self.slipway("plan", "dev")
        self.assertNotIn("desiredCount override", out.stdout)
        # Neither a count nor --reset, or both: a usage error.
        self.assertEqual(self.slipway("scale", "dev", "web").returncode, 2)
        self.assertEqual(self.slipway("scale", "dev", "web", "3", "--reset").returncode, 2)

    def test_5_an_on_demand_service_is_started_healthy_then_stopped(self):
        out = self.slipway("service", "start", "dev", "admin", "--output", "json")
        self.assertEqual(out.returncode, 0, out.stdout + out.stderr)
        started = json.loads(out.stdout)
        self.assertEqual((started["desiredCount"], started["runningCount"], started["healthy"]), (1, 1, True))
        admin = self.service("demo-dev-admin")
        self.assertEqual((admin["desiredCount"], admin["runningCount"]), (1, 1))
        tg = admin["loadBalancers"][0]["targetGroupArn"]
        health = self.elb.describe_target_health(TargetGroupArn=tg)["TargetHealthDescriptions"]
        self.assertEqual([h["TargetHealth"]["State"] for h in health if h["TargetHealth"]["State"] != "draining"],
                         ["healthy"])
        self.assertEqual(self.get("/env/ADMIN_ROLE"), (200, "pgadmin"))

        # A release keeps it started, and its check now runs and passes.
        out = self.deploy()
        self.assertEqual(out.returncode, 0, out.stdout + out.stderr)
        self.assertIn("verify GET /env/ADMIN_ROLE: 200 ok", out.stdout + out.stderr)
        self.assertEqual(self.service("demo-dev-admin")["desiredCount"], 1)
        out = self.slipway("plan", "dev")
        self.assertIn("on demand and started: desiredCount 1 (set by service start; was 0)", out.stdout)

        out = self.slipway("service", "stop", "dev", "admin")
        self.assertEqual(out.returncode, 0, out.stdout + out.stderr)
        admin = self.service("demo-dev-admin")
        self.assertEqual((admin["desiredCount"], admin["runningCount"]), (0, 0))
        self.assertIsNone(self.override("demo-dev-admin"))
        self.assertEqual(self.slipway("service", "start", "dev", "nope").returncode, 2)


if __name__ == "__main__":
    unittest.main()
