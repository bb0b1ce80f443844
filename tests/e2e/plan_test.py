"""End-to-end: `slipway plan` and `slipway render` against the engine, before and after a release."""
import json
import os
import shutil
import unittest

from harness import BIN, EngineTest, free_port

SHOP = os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../examples/shop")


class PlanRenderTest(EngineTest):
    @classmethod
    def setUpEngine(cls):
        cls.ecs = cls.engine.client("ecs")

    def plan(self, *args, config=None, env=None):
        return self.engine.slipway("plan", "dev", "--config", config or self.engine.config, *args, env=env)

    def render(self, *args):
        out = self.engine.slipway("render", "dev", "--config", self.engine.config, *args)
        self.assertEqual(out.returncode, 0, out.stdout + out.stderr)
        return json.loads(out.stdout)

    def revisions(self):
        return sorted(self.ecs.list_task_definitions()["taskDefinitionArns"])

    def assert_plan_changes_nothing(self, *args, **kw):
        """Runs plan and checks that no task definition was registered meanwhile."""
        before = self.revisions()
        out = self.plan(*args, **kw)
        self.assertEqual(self.revisions(), before, "plan registered a task definition")
        return out

    def test_0_help_teaches_the_sections_and_exit_codes(self):
        out = self.engine.slipway("plan", "--help")
        self.assertEqual(out.returncode, 0, out.stderr)
        for text in ("task-definition diff", "service settings", "infrastructure to create", "(built at release)",
                     "scale drift", "--detailed-exitcode", "10 something would", "2 usage or config error",
                     "Examples:"):
            self.assertIn(text, out.stdout)
        out = self.engine.slipway("render", "--help")
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertIn("register-task-definition --cli-input-json", out.stdout)

    def test_0_errors_in_json_mode_are_json(self):
        out = self.plan("--output", "json", "--detailed-exitcode", config=os.path.join(self.engine.dir, "missing.yaml"))
        self.assertEqual(out.returncode, 2, out.stdout + out.stderr)
        error = json.loads(out.stdout)
        self.assertEqual((error["environment"], error["exitCode"]), ("dev", 2))
        self.assertIn("missing.yaml", error["error"])
        out = self.engine.slipway("plan", "nowhere", "--config", self.engine.config, "--output", "json")
        self.assertEqual(out.returncode, 2, out.stdout + out.stderr)
        self.assertEqual(json.loads(out.stdout)["environment"], "nowhere")
        out = self.engine.slipway("render", "dev", "--config", self.engine.config, "--service", "nope",
                                  "--output", "json")
        self.assertEqual(out.returncode, 2, out.stdout + out.stderr)
        self.assertIn("no service 'nope'", json.loads(out.stdout)["error"])
        # An endpoint that does not answer: an API error, exit 1, still JSON.
        out = self.plan("--output", "json", env=dict(SLIPWAY_ENGINE_ENDPOINT="http://127.0.0.1:%d" % free_port(),
                                                     SLIPWAY_UNREACHABLE_SECONDS="1", AWS_MAX_ATTEMPTS="1"))
        self.assertEqual(out.returncode, 1, out.stdout + out.stderr)
        self.assertEqual(json.loads(out.stdout)["exitCode"], 1)
        # Text mode keeps stdout clean and says it on stderr.
        out = self.engine.slipway("plan", "nowhere", "--config", self.engine.config)
        self.assertEqual((out.returncode, out.stdout), (2, ""))
        self.assertIn("error:", out.stderr)

    def test_0_a_template_mistake_is_a_config_error_found_before_anything_is_contacted(self):
        broken = os.path.join(self.engine.dir, "broken.taskdef.json")
        with open(broken, "w") as f:
            f.write('{"family": "demo-web",\n  "containerDefinitions": [,]}\n')
        config = self.engine.variant_config("broken.yaml", {"taskDefinition: web.taskdef.json": "taskDefinition: " + broken})
        # Nothing answers there: an error that contacted it would be exit 1, not 2.
        dead = dict(SLIPWAY_ENGINE_ENDPOINT="http://127.0.0.1:%d" % free_port(), SLIPWAY_UNREACHABLE_SECONDS="1",
                    AWS_MAX_ATTEMPTS="1")
        for command in ("plan", "render"):
            out = self.engine.slipway(command, "dev", "--config", config, "--output", "json", env=dead)
            self.assertEqual(out.returncode, 2, command + ": " + out.stdout + out.stderr)
            self.assertIn("broken.taskdef.json:2:", json.loads(out.stdout)["error"])

    def test_1_before_the_first_release_everything_is_to_be_created(self):
        out = self.assert_plan_changes_nothing("--detailed-exitcode")
        self.assertEqual(out.returncode, 10, out.stdout + out.stderr)
        for line in ("+ cluster demo-dev", "+ load balancer demo-dev", "+ target group demo-dev-web for web",
                     "+ listener on port %d" % self.engine.listener_port,
                     "service demo-dev-web (web): would be created", "+ desiredCount: 2"):
            self.assertIn(line, out.stdout)
        # Without --detailed-exitcode a plan exits 0 whatever it finds.
        out = self.assert_plan_changes_nothing("--output", "json")
        self.assertEqual(out.returncode, 0, out.stderr)
        plan = json.loads(out.stdout)
        self.assertTrue(plan["changes"])
        self.assertIn("cluster demo-dev", plan["create"])
        self.assertTrue(plan["services"][0]["create"])
        # Nothing was created by planning.
        clusters = self.ecs.describe_clusters(clusters=["demo-dev"])["clusters"]
        self.assertEqual([c for c in clusters if c["status"] == "ACTIVE"], [])

    def test_2_render_is_plain_ecs_input_the_aws_cli_and_boto3_accept(self):
        doc = self.render()
        self.assertEqual(set(doc), {"taskDefinitions", "services"})
        td = doc["taskDefinitions"]["web"]
        self.assertEqual(td["family"], "demo-web")
        env = {e["name"]: e["value"] for e in td["containerDefinitions"][0]["environment"]}
        self.assertEqual(env["APP_VERSION"], "v1")
        svc = doc["services"]["web"]
        self.assertEqual((svc["serviceName"], svc["cluster"], svc["desiredCount"]), ("demo-dev-web", "demo-dev", 2))
        self.assertEqual(svc["deploymentConfiguration"]["maximumPercent"], 200)
        # --service prints one task definition alone, which register-task-definition takes as is.
        one = self.render("--service", "web")
        self.assertEqual(one, td)
        path = os.path.join(self.engine.dir, "rendered-web.json")
        with open(path, "w") as f:
            json.dump(dict(one, family="rendered-cli"), f)
        registered = self.engine.aws("ecs", "register-task-definition", "--cli-input-json", "file://" + path)
        self.assertEqual(registered["taskDefinition"]["revision"], 1)
        self.assertEqual(registered["taskDefinition"]["containerDefinitions"][0]["name"], "web")
        registered = self.ecs.register_task_definition(**dict(td, family="rendered-boto3"))["taskDefinition"]
        self.assertEqual(registered["family"], "rendered-boto3")

    def test_3_after_a_release_nothing_changes(self):
        out = self.engine.deploy("v1")
        self.assertEqual(out.returncode, 0, out.stdout + out.stderr)
        out = self.assert_plan_changes_nothing("--detailed-exitcode")
        self.assertEqual(out.returncode, 0, out.stdout + out.stderr)
        self.assertIn("nothing would change", out.stdout)
        self.assertIn("service demo-dev-web (web): no changes (runs demo-web:", out.stdout)
        plan = json.loads(self.plan("--output", "json").stdout)
        self.assertFalse(plan["changes"])
        self.assertEqual(plan["create"], [])
        self.assertEqual(plan["services"][0]["taskDefinition"], [])
        self.assertIsNone(plan["services"][0]["scaleDrift"])

    def test_4_render_of_a_released_environment_creates_a_service_boto3_accepts(self):
        svc = self.render()["services"]["web"]
        self.assertTrue(svc["loadBalancers"][0]["targetGroupArn"].startswith("arn:aws:elasticloadbalancing:"))
        # The same input under another name, with no tasks so the load balancer is not disturbed.
        created = self.ecs.create_service(**dict(svc, serviceName="rendered-web", desiredCount=0))["service"]
        self.assertEqual(created["serviceName"], "rendered-web")
        self.assertEqual(created["deploymentConfiguration"]["deploymentCircuitBreaker"], {"enable": True, "rollback": True})

    def test_5_an_edited_template_shows_the_changed_key(self):
        with open(os.path.join(self.engine.dir, "web.taskdef.json")) as f:
            text = f.read()
        old = '"${DEMO_MIGRATION_SECONDS:-0}"'
        self.assertIn(old, text)
        with open(os.path.join(self.engine.dir, "edited.taskdef.json"), "w") as f:
            f.write(text.replace(old, '"${DEMO_MIGRATION_SECONDS:-5}"'))
        config = self.engine.variant_config("edited.yaml", {"taskDefinition: web.taskdef.json":
                                                            "taskDefinition: edited.taskdef.json"})
        out = self.assert_plan_changes_nothing("--detailed-exitcode", config=config)
        self.assertEqual(out.returncode, 10, out.stdout + out.stderr)
        self.assertIn('~ containerDefinitions[web].environment[DEMO_MIGRATION_SECONDS].value: "0" -> "5"', out.stdout)
        plan = json.loads(self.plan("--output", "json", config=config).stdout)
        self.assertEqual([c["path"] for c in plan["services"][0]["taskDefinition"]],
                         ["containerDefinitions[web].environment[DEMO_MIGRATION_SECONDS].value"])
        # An environment variable of the process that the template reads is a change too.
        out = self.plan("--detailed-exitcode", env=dict(APP_VERSION="v2"))
        self.assertEqual(out.returncode, 10, out.stdout + out.stderr)
        self.assertIn("environment[APP_VERSION].value", out.stdout)

    def test_6_images_slipway_builds_are_listed(self):
        # The shop builds both of its images; planning it reads only, so nothing is built.
        shop = os.path.join(self.engine.dir, "shop")
        shutil.copytree(SHOP, shop)
        with open(os.path.join(shop, "slipway.yaml")) as f:
            text = f.read()
        bin_dir = os.path.abspath(BIN)
        text = text.replace("../../build/bin", bin_dir)
        text = text.replace("listenerPort: 8080", "listenerPort: %d" % free_port())
        text = text.replace("listenerPort: 8090", "listenerPort: %d" % free_port())
        config = os.path.join(shop, "slipway.yaml")
        with open(config, "w") as f:
            f.write(text)
        out = self.assert_plan_changes_nothing("--detailed-exitcode", config=config)
        self.assertEqual(out.returncode, 10, out.stdout + out.stderr)
        self.assertIn("image built at release: frontend (%s)" % bin_dir, out.stdout)
        self.assertIn("image built at release: backend (%s)" % bin_dir, out.stdout)
        self.assertIn("rule /api/* (priority 10) to backend", out.stdout)
        plan = json.loads(self.plan("--output", "json", config=config).stdout)
        self.assertEqual({s["service"]: s["builds"] for s in plan["services"]},
                         {"frontend": ["frontend (%s)" % bin_dir], "backend": ["backend (%s)" % bin_dir]})
        out = self.engine.slipway("render", "dev", "--config", config, "--service", "backend")
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertEqual(json.loads(out.stdout)["containerDefinitions"][0]["image"], "(built at release)")

    def test_7_scale_drift_is_shown(self):
        self.ecs.update_service(cluster="demo-dev", service="demo-dev-web", desiredCount=3)
        try:
            out = self.assert_plan_changes_nothing("--detailed-exitcode")
            self.assertEqual(out.returncode, 10, out.stdout + out.stderr)
            self.assertIn("scale drift: desired 3", out.stdout)
            self.assertIn("the config says 2", out.stdout)
            drift = json.loads(self.plan("--output", "json").stdout)["services"][0]["scaleDrift"]
            self.assertEqual((drift["configured"], drift["desired"]), (2, 3))
            self.assertEqual(self.ecs.describe_services(cluster="demo-dev", services=["demo-dev-web"])
                             ["services"][0]["desiredCount"], 3, "plan changed the service")
        finally:
            self.ecs.update_service(cluster="demo-dev", service="demo-dev-web", desiredCount=2)


if __name__ == "__main__":
    unittest.main()
