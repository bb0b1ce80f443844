"""End-to-end: the rough edges a new user meets. Mistakes are refused up front with exit 2, naming
the file and what is wrong, before anything is contacted (no engine is even started)."""
import json
import os
import re
import unittest

from harness import Engine, free_port


class CommandLineTest(unittest.TestCase):
    def setUp(self):
        self.engine = Engine()  # never started

    def tearDown(self):
        self.engine.stop()

    def test_version_and_dash_dash_version_print_the_same_version(self):
        out = self.engine.slipway("version")
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertRegex(out.stdout, r"^slipway \d+\.\d+\.\d+( \(.+\))?\n$")
        flag = self.engine.slipway("--version")
        self.assertEqual(flag.returncode, 0, flag.stderr)
        self.assertEqual(flag.stdout.strip(), out.stdout.strip())

    def test_an_unknown_command_is_named_and_the_commands_are_listed(self):
        out = self.engine.slipway("deplyo", "dev")
        self.assertEqual(out.returncode, 2, out.stderr)
        self.assertIn("unknown command deplyo", out.stderr)
        listed = re.findall(r"^  (\S+)$", out.stderr, re.M)
        for command in ("deploy", "rollback", "status", "history", "version", "engine"):
            self.assertIn(command, listed)
        self.assertFalse(os.path.exists(os.path.join(self.engine.data_dir, "engine.json")))


class TemplateMistakesTest(unittest.TestCase):
    def setUp(self):
        self.engine = Engine()  # never started: nothing here may need it

    def tearDown(self):
        self.engine.stop()

    def template(self, old, new):
        path = os.path.join(self.engine.dir, "web.taskdef.json")
        with open(path) as f:
            text = f.read()
        assert old in text, old
        with open(path, "w") as f:
            f.write(text.replace(old, new))

    def refused(self, *needles, config=None):
        out = self.engine.deploy("v1", config=config)
        self.assertEqual(out.returncode, 2, out.stderr + out.stdout)
        for needle in needles:
            self.assertIn(needle, out.stderr)
        self.assertFalse(os.path.exists(os.path.join(self.engine.data_dir, "engine.json")),
                         "an engine was started for a release that could not begin")

    def test_a_json_syntax_error_names_file_line_and_column(self):
        self.template('"essential": true,', '"essential": true,,')
        self.refused("web.taskdef.json:12:25: invalid JSON: syntax error while parsing object key")

    def test_an_unset_variable_exits_2(self):
        self.template("${DEMO_FAIL:-}", "${DEMO_UNSET_VARIABLE}")
        self.refused("${DEMO_UNSET_VARIABLE} is not set")

    def test_a_container_that_names_no_container_exits_2(self):
        config = self.engine.variant_config("wrong-container.yaml", {"container: web": "container: app"})
        self.refused("container 'app' names no container of the template (it has: web)", config=config)

    def test_an_empty_container_list_exits_2(self):
        path = os.path.join(self.engine.dir, "web.taskdef.json")
        with open(path, "w") as f:
            f.write('{"family": "demo-web", "containerDefinitions": []}')
        self.refused("containerDefinitions: must list at least one container")

    def test_a_container_port_without_a_port_mapping_exits_2_naming_both(self):
        config = self.engine.variant_config("wrong-port.yaml", {"containerPort: 8080": "containerPort: 9090"})
        self.refused("containerPort 9090 matches no port mapping of container 'web' (its containerPorts: 8080)",
                     config=config)


class StartedEngineTest(unittest.TestCase):
    """Each test gets a fresh started engine on which nothing is released yet."""

    def setUp(self):
        self.engine = Engine()
        self.engine.start()
        self.ecs = self.engine.client("ecs")

    def tearDown(self):
        self.engine.stop()

    def service(self):
        return self.ecs.describe_services(cluster="demo-dev", services=["demo-dev-web"])["services"][0]

    def test_status_and_history_of_a_never_released_environment_say_so_and_exit_0(self):
        for command in ("status", "history", "diagnose"):
            with self.subTest(command=command):
                out = self.engine.slipway(command, "dev", "--config", self.engine.config)
                self.assertEqual(out.returncode, 0, out.stdout + out.stderr)
                self.assertIn("demo-dev-web", out.stdout)
                self.assertIn("does not exist yet (never released)", out.stdout)
        out = self.engine.slipway("status", "dev", "--config", self.engine.config, "--output", "json")
        self.assertEqual(out.returncode, 0, out.stdout + out.stderr)
        self.assertEqual([(s["service"], s["status"]) for s in json.loads(out.stdout)], [("demo-dev-web", "MISSING")])
        out = self.engine.slipway("history", "dev", "--config", self.engine.config, "--output", "json")
        self.assertEqual((out.returncode, json.loads(out.stdout)), (0, []), out.stderr)

    def test_a_verify_check_answered_by_an_empty_404_names_the_status(self):
        # The demo app answers /env/NAME of an unset variable with 404 and an empty body.
        config = self.engine.variant_config("empty404.yaml", {"      - path: /\n": "      - path: /env/UNSET_NAME\n"})
        out = self.engine.deploy("v1", config=config)
        self.assertNotEqual(out.returncode, 0, out.stdout + out.stderr)
        self.assertIn("verify GET /env/UNSET_NAME: got HTTP 404, want 200", out.stderr)

    def assertJsonError(self, out, code, needle):
        """stdout is one JSON object naming the error and the exit code."""
        self.assertEqual(out.returncode, code, out.stdout + out.stderr)
        answer = json.loads(out.stdout)
        self.assertEqual(answer["exitCode"], code)
        self.assertIn(needle, answer["error"])
        return answer

    def test_with_output_json_errors_are_json_on_stdout_and_progress_is_on_stderr(self):
        config = self.engine.config
        missing = os.path.join(self.engine.dir, "missing.yaml")
        for command in ("deploy", "rollback", "status", "history", "cleanup", "diagnose", "unlock"):
            with self.subTest(command=command, mistake="unknown environment"):
                out = self.engine.slipway(command, "staging", "--config", config, "--output", "json")
                self.assertJsonError(out, 2, "no environment 'staging'")
            with self.subTest(command=command, mistake="no config file"):
                out = self.engine.slipway(command, "dev", "--config", missing, "--output", "json")
                self.assertJsonError(out, 2, "missing.yaml: cannot read file")
        out = self.engine.slipway("status", "--output", "json")  # usage: ENV missing
        self.assertJsonError(out, 2, "env is required")
        out = self.engine.slipway("rollback", "dev", "--config", config, "--output", "json")
        self.assertJsonError(out, 1, "service demo-dev-web does not exist in demo-dev")
        out = self.engine.slipway("history", "dev", "nope", "--config", config, "--output", "json")
        self.assertJsonError(out, 2, "no service 'nope'")
        # An endpoint that does not answer is an error too (exit 1), still JSON on stdout.
        out = self.engine.slipway("history", "dev", "--config", config, "--output", "json",
                                  env=dict(SLIPWAY_ENGINE_ENDPOINT="http://127.0.0.1:%d" % free_port(),
                                           SLIPWAY_UNREACHABLE_SECONDS="0"))
        self.assertJsonError(out, 1, "127.0.0.1")
        # A release: only the report on stdout, the progress on stderr.
        out = self.engine.deploy("v1", "--output", "json")
        self.assertEqual(out.returncode, 0, out.stdout + out.stderr)
        report = json.loads(out.stdout)
        self.assertEqual((report["result"], report["exitCode"]), ("released", 0))
        self.assertNotIn("error", report)
        self.assertIn("registered demo-web:1", out.stderr)
        # A failed release is an error with the same fields.
        out = self.engine.deploy("v2", "--output", "json", DEMO_FAIL="migration")
        report = self.assertJsonError(out, 1, "migration of web exited with code 1")
        self.assertEqual(report["result"], "failed")

    def test_desired_count_0_releases_without_traffic_and_skips_verify(self):
        config = self.engine.variant_config("zero.yaml", {"desiredCount: 2\n        deployment":
                                                          "desiredCount: 0\n        deployment"})
        out = self.engine.deploy("v1", config=config)
        self.assertEqual(out.returncode, 0, out.stdout + out.stderr)
        self.assertIn("verify GET /: skipped, web has desiredCount 0", out.stdout)
        self.assertIn("released dev", out.stdout)
        service = self.service()
        self.assertEqual((service["desiredCount"], service["runningCount"]), (0, 0))
        history = json.loads(self.engine.slipway("history", "dev", "--config", config, "--output", "json").stdout)
        self.assertEqual(history[0]["result"], "released")
        # Scaling the release up later is an ordinary release with traffic and verify.
        out = self.engine.deploy("v1")
        self.assertEqual(out.returncode, 0, out.stdout + out.stderr)
        self.assertIn("verify GET /: 200 ok", out.stdout)


    def test_rollback_to_checks_its_target(self):
        self.assertEqual(self.engine.deploy("v1").returncode, 0)
        good = self.service()["taskDefinition"]
        out = self.engine.deploy("v2", DEMO_FAIL="migration")  # registered, migration failed: recorded failed
        self.assertEqual(out.returncode, 1, out.stdout + out.stderr)
        failed = self.ecs.list_task_definitions(familyPrefix="demo-web", sort="DESC")["taskDefinitionArns"][0]
        failed_number = failed.rsplit(":", 1)[1]
        self.ecs.register_task_definition(family="other-family", containerDefinitions=[
            {"name": "c", "image": "busybox", "entryPoint": ["/bin/true"]}])

        def rollback(*args):
            return self.engine.slipway("rollback", "dev", "--config", self.engine.config, *args)

        cases = [(["--to", "99"], "--to 99: there is no revision demo-web:99 (demo-dev-web runs demo-web:1)"),
                 (["--to", "other-family:1"], "--to other-family:1 is not a revision of demo-web"),
                 (["--to", failed_number], "demo-web:%s is recorded failed" % failed_number)]
        for args, message in cases:
            with self.subTest(args=args):
                out = rollback(*args)
                self.assertEqual(out.returncode, 2, out.stdout + out.stderr)
                self.assertIn(message, out.stderr)
                self.assertEqual(self.service()["taskDefinition"], good)
        self.assertIn("pass --force", out.stderr)
        out = rollback("--to", failed_number, "--force")
        self.assertEqual(out.returncode, 0, out.stdout + out.stderr)
        self.assertEqual(self.service()["taskDefinition"], failed)


    def test_scale_changes_only_the_desired_count_and_waits_for_it(self):
        def scale(*args):
            return self.engine.slipway("scale", "dev", *args, "--config", self.engine.config)

        out = scale("web", "1")
        self.assertEqual(out.returncode, 1, out.stdout + out.stderr)
        self.assertIn("service demo-dev-web does not exist yet (never released)", out.stderr)
        self.assertEqual(self.engine.deploy("v1").returncode, 0)
        before = self.service()
        out = scale("api", "3")
        self.assertEqual(out.returncode, 2, out.stdout + out.stderr)
        self.assertIn("no service 'api' in environment dev (its services: web (demo-dev-web))", out.stderr)
        self.assertEqual(scale("web", "-1").returncode, 2)
        self.assertEqual(self.service()["desiredCount"], 2)

        out = scale("web", "3")
        self.assertEqual(out.returncode, 0, out.stdout + out.stderr)
        self.assertIn("demo-dev-web: 3/3 running, 0 pending", out.stdout)
        self.assertIn("scaled demo-dev-web in dev from 2 to 3 task(s)", out.stdout)
        self.assertIn("releases keep 3 (recorded as the service's slipway:desiredCount tag) until "
                      "`slipway scale dev web --reset`", out.stdout)
        after = self.service()
        self.assertEqual((after["desiredCount"], after["runningCount"]), (3, 3))
        # Nothing else changed: same revision, same deployment, no release lock left.
        self.assertEqual(after["taskDefinition"], before["taskDefinition"])
        self.assertEqual([d["id"] for d in after["deployments"]], [d["id"] for d in before["deployments"]])
        tags = self.ecs.list_tags_for_resource(resourceArn=after["serviceArn"])["tags"]
        self.assertNotIn("slipway:lock", [t["key"] for t in tags])
        self.assertIn({"key": "slipway:desiredCount", "value": "3 by=scale was=2"}, tags)

        out = scale("demo-dev-web", "1", "--output", "json")
        self.assertEqual(out.returncode, 0, out.stdout + out.stderr)
        self.assertEqual({k: v for k, v in json.loads(out.stdout).items() if k != "seconds"},
                         {"environment": "dev", "service": "demo-dev-web", "previousCount": 3, "desiredCount": 1,
                          "runningCount": 1, "configuredCount": 2, "override": True, "exitCode": 0})
        self.assertIn("demo-dev-web: 1/1 running", out.stderr)
        self.assertEqual(self.service()["runningCount"], 1)


if __name__ == "__main__":
    unittest.main()
