"""End-to-end: releases that fail are rolled back to the last known-good revision, explain why,
and drop no request while they do. Every release here runs under continuous load."""
import json
import os
import pty
import select
import subprocess
import time
import unittest
import urllib.request

from harness import SLIPWAY, EngineTest, Load, free_port

CLUSTER, SERVICE = "demo-dev", "demo-dev-web"


class FailSafeTest(EngineTest):
    @classmethod
    def setUpEngine(cls):
        for version in ("v1", "v2"):
            out = cls.engine.deploy(version)
            assert out.returncode == 0, out.stdout + out.stderr
        cls.good = cls.service()["taskDefinition"]
        cls.good_definition = cls.definition(cls.good)
        cls.ecs = cls.engine.client("ecs")

    @classmethod
    def service(cls, cluster=CLUSTER, name=SERVICE):
        return cls.engine.aws("ecs", "describe-services", "--cluster", cluster, "--services", name)["services"][0]

    @classmethod
    def definition(cls, arn):
        return cls.engine.aws("ecs", "describe-task-definition", "--task-definition", arn)["taskDefinition"]

    def get(self, port=None):
        url = "http://127.0.0.1:%d/" % (port or self.engine.listener_port)
        with urllib.request.urlopen(url, timeout=5) as r:
            return r.read().decode()

    def under_load(self, action, port=None):
        """Runs action() while clients hammer the listener; asserts not one request failed."""
        with Load(port or self.engine.listener_port) as load:
            time.sleep(0.3)
            result = action()
            time.sleep(0.3)
        self.assertGreater(load.total, 50)
        self.assertEqual(load.failed(), 0, "codes=%s errors=%s" % (load.codes, load.errors[:5]))
        return result, load

    def failed_release(self, version, fail, new_version_served=False):
        before, before_body = self.service()["taskDefinition"], self.get()
        out, load = self.under_load(lambda: self.engine.deploy(version, DEMO_FAIL=fail))
        self.assertEqual(out.returncode, 1, out.stdout + out.stderr)
        self.assertIn("every service is on its last known-good revision", out.stderr)
        # Back on the known-good revision it replaced, serving it.
        svc = self.service()
        self.assertEqual(svc["taskDefinition"], before)
        self.assertEqual((svc["runningCount"], len(svc["deployments"])), (2, 1))
        self.assertEqual(self.get(), before_body)
        self.assertEqual(load.bodies[-1], before_body)
        if not new_version_served:
            # Tasks that never became healthy never received a request.
            self.assertEqual(set(load.bodies), {before_body})
        return out

    def test_01_crash_at_start_trips_the_circuit_breaker(self):
        out = self.failed_release("v3", "crash")
        self.assertIn("ECS deployment circuit breaker: tasks failed to start.", out.stderr)
        self.assertIn("container web: exit code 1", out.stderr)
        self.assertIn("| fatal: DEMO_FAIL=crash: exiting at start", out.stderr)
        self.assertIn("hint: container web exited with code 1", out.stderr)
        # The failed revision is recorded as such; the known-good stays known-good.
        tags = self.ecs.describe_task_definition(taskDefinition=self.good, include=["TAGS"])["tags"]
        self.assertIn({"key": "slipway:result", "value": "released"}, tags)

    def test_02_health_check_that_never_passes_is_rolled_back(self):
        out = self.failed_release("v3", "unhealthy")
        self.assertIn("Task failed ELB health checks in (target-group", out.stderr)
        self.assertIn("hint: the load balancer's health check never passed", out.stderr)

    def test_03_verify_check_with_the_wrong_body_is_rolled_back(self):
        # Its tasks pass health checks, so they serve until verify rejects them.
        out = self.failed_release("v3", "wrong-body", new_version_served=True)
        self.assertIn('verify GET /: body lacks "slipway demo" (got "maintenance page v3")', out.stderr)
        self.assertIn("rolling back to demo-web:", out.stdout)

    def test_04_memory_past_the_limit_is_reported_as_oom(self):
        out = self.failed_release("v3", "oom")
        self.assertIn("container web: exit code 137, OutOfMemoryError: Container killed due to memory usage", out.stderr)
        self.assertIn("hint: container web ran out of memory (limit 128 MiB)", out.stderr)

    def test_05_missing_environment_variable_is_named_from_the_log(self):
        out = self.failed_release("v3", "missing-env")
        self.assertIn("| error: required environment variable DATABASE_URL is not set", out.stderr)
        self.assertIn("hint: the app needs environment variable DATABASE_URL", out.stderr)

    def test_06_rollback_restores_the_earlier_revision_exactly(self):
        out, _ = self.under_load(lambda: self.engine.deploy("v3"))
        self.assertEqual(out.returncode, 0, out.stdout + out.stderr)
        self.assertEqual(self.get(), "slipway demo v3\n")
        v3 = self.service()["taskDefinition"]
        out, load = self.under_load(lambda: self.engine.slipway("rollback", "dev", "--config", self.engine.config))
        self.assertEqual(out.returncode, 0, out.stdout + out.stderr)
        self.assertIn("slipway demo v2\n", load.bodies)
        # The very revision that was known-good runs again: same images, same environment.
        svc = self.service()
        self.assertEqual(svc["taskDefinition"], self.good)
        self.assertEqual(self.definition(svc["taskDefinition"])["containerDefinitions"],
                         self.good_definition["containerDefinitions"])
        self.assertEqual(self.get(), "slipway demo v2\n")
        # History shows who ran what and how it ended; v3 is no longer a known-good candidate.
        hist = json.loads(self.engine.slipway("history", "dev", "--config", self.engine.config,
                                              "--output", "json").stdout)
        by_rev = {row["revision"]: row for row in hist}
        v3_row = by_rev[v3.rsplit("/", 1)[1]]
        self.assertEqual(v3_row["result"], "rolled-back")
        self.assertEqual(by_rev[self.good.rsplit("/", 1)[1]]["result"], "released")
        self.assertTrue(by_rev[self.good.rsplit("/", 1)[1]]["current"])
        self.assertTrue(v3_row["by"] and v3_row["started"] and v3_row["finished"])
        self.assertEqual(v3_row["images"], ["slipway/demo-web:v3"])

    def test_06b_diagnose_logs_and_rollback_to_a_named_revision(self):
        # diagnose explains the crash releases above from ECS and CloudWatch Logs.
        out = self.engine.slipway("diagnose", "dev", "web", "--config", self.engine.config, "--output", "json")
        self.assertEqual(out.returncode, 0, out.stderr)
        report = json.loads(out.stdout)[0]
        self.assertEqual(report["service"], SERVICE)
        self.assertEqual(report["taskDefinition"], self.good)
        self.assertEqual(len(report["runningTasks"]), 2)
        stopped = report["stoppedTasks"]
        self.assertTrue(stopped)
        self.assertTrue(all(t["stoppedReason"] and t["hints"] for t in stopped), stopped)
        # logs prints the running tasks' output, prefixed with service and task.
        out = self.engine.slipway("logs", "dev", "--config", self.engine.config, "--since", "30m")
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertRegex(out.stdout, r"demo-dev-web [0-9a-f]{8} \| slipway demo v2 starting on port \d+")
        # --follow keeps printing new lines: a task started after it began shows up.
        follow = subprocess.Popen([SLIPWAY, "logs", "dev", "--config", self.engine.config, "--since", "1s", "--follow"],
                                  env=self.engine.env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                  stdin=subprocess.DEVNULL)
        try:
            time.sleep(1.5)
            run = self.ecs.run_task(cluster=CLUSTER, taskDefinition=self.good, overrides={"containerOverrides": [
                {"name": "web", "command": ["migrate"]}]})["tasks"][0]
            task_id = run["taskArn"].rsplit("/", 1)[1]
            deadline, seen = time.time() + 30, ""
            while time.time() < deadline and "schema is up to date" not in seen:
                # Raw reads: a buffered reader could hold lines select() cannot see.
                if select.select([follow.stdout], [], [], 0.5)[0]:
                    seen += os.read(follow.stdout.fileno(), 65536).decode()
        finally:
            follow.terminate()
            follow.wait(timeout=10)
        self.assertIn("demo-dev-web %s | schema is up to date" % task_id[:8], seen)
        nope = self.engine.slipway("rollback", "dev", "--config", self.engine.config, "--service", "api")
        self.assertEqual(nope.returncode, 2, nope.stderr)
        self.assertIn("no service 'api' in environment dev", nope.stderr)
        bad = self.engine.slipway("logs", "dev", "--config", self.engine.config, "--since", "ten")
        self.assertEqual(bad.returncode, 2)
        # --to takes a revision number; the service runs that exact revision afterwards.
        first = self.engine.aws("ecs", "list-task-definitions", "--family-prefix", "demo-web")["taskDefinitionArns"][0]
        out, load = self.under_load(lambda: self.engine.slipway(
            "rollback", "dev", "--config", self.engine.config, "--service", "web", "--to", first.rsplit(":", 1)[1]))
        self.assertEqual(out.returncode, 0, out.stdout + out.stderr)
        self.assertEqual(self.service()["taskDefinition"], first)
        self.assertEqual(self.get(), "slipway demo v1\n")
        out, _ = self.under_load(lambda: self.engine.slipway(
            "rollback", "dev", "--config", self.engine.config, "--to", self.good.rsplit(":", 1)[1]))
        self.assertEqual(out.returncode, 0, out.stdout + out.stderr)
        self.assertEqual(self.get(), "slipway demo v2\n")
        # Returning to a revision that verifies makes it known-good again; the one left is not.
        hist = {row["revision"]: row for row in json.loads(self.engine.slipway(
            "history", "dev", "--config", self.engine.config, "--output", "json").stdout)}
        self.assertEqual(hist[self.good.rsplit("/", 1)[1]]["result"], "released")
        self.assertTrue(hist[self.good.rsplit("/", 1)[1]]["restored"])
        self.assertEqual(hist[first.rsplit("/", 1)[1]]["result"], "rolled-back")

    def test_07_failing_migration_aborts_before_update_service(self):
        before = self.service()
        count = len(self.engine.aws("ecs", "list-task-definitions", "--family-prefix", "demo-web")["taskDefinitionArns"])
        out, load = self.under_load(lambda: self.engine.deploy("v4", DEMO_FAIL="migration"))
        self.assertEqual(out.returncode, 1, out.stdout + out.stderr)
        self.assertIn("migration of web exited with code 1; no service was changed", out.stderr)
        self.assertIn('| applying 0002_add_price ... error: column "price" of relation "items" already exists', out.stderr)
        self.assertNotIn("rolling out", out.stdout)
        after = self.service()
        # The summary shows the revision still running, not the one the migration ran from.
        running = after["taskDefinition"].rsplit("/", 1)[1]
        self.assertRegex(out.stdout, r"demo-dev-web +%s +2 running; demo-web:\d+ was not rolled out" % running)
        self.assertEqual(after["taskDefinition"], before["taskDefinition"])
        self.assertEqual([d["id"] for d in after["deployments"]], [d["id"] for d in before["deployments"]])
        self.assertEqual(set(load.bodies), {"slipway demo v2\n"})
        # The revision was registered (the migration ran from it) and is recorded as failed, the
        # word --output json gives the release too.
        arns = self.engine.aws("ecs", "list-task-definitions", "--family-prefix", "demo-web", "--sort", "DESC")["taskDefinitionArns"]
        self.assertEqual(len(arns), count + 1)
        tags = self.ecs.describe_task_definition(taskDefinition=arns[0], include=["TAGS"])["tags"]
        self.assertIn({"key": "slipway:result", "value": "failed"}, tags)
        out = self.engine.deploy("v4", "--output", "json", DEMO_FAIL="migration")
        self.assertEqual(out.returncode, 1, out.stdout + out.stderr)
        report = json.loads(out.stdout)
        self.assertEqual(report["services"][0]["runningTaskDefinition"], after["taskDefinition"])
        hist = {row["revision"]: row for row in json.loads(self.engine.slipway(
            "history", "dev", "--config", self.engine.config, "--output", "json").stdout)}
        self.assertEqual(hist[report["services"][0]["taskDefinition"].rsplit("/", 1)[1]]["result"], report["result"])

    def race_second_release(self, first_env, first_is_busy):
        """Starts a release with `first_env`, waits until `first_is_busy()` returns a truthy value,
        then runs a second release; returns (that value, the second's result, the first's exit
        code and output)."""
        env = dict(self.engine.env, **first_env)
        first = subprocess.Popen([SLIPWAY, "deploy", "dev", "--config", self.engine.config], env=env,
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True)
        deadline = time.time() + 60
        busy = None
        while time.time() < deadline and not busy:
            busy = first_is_busy()
            time.sleep(0.05)
        second = self.engine.deploy("v6")
        out, err = first.communicate(timeout=300)
        return busy, second, first.returncode, out + err

    def test_08_second_deploy_while_one_is_in_flight_exits_5(self):
        def rolling_out():
            primary = self.ecs.describe_services(cluster=CLUSTER, services=[SERVICE])["services"][0]["deployments"][0]
            return primary["id"] if primary["rolloutState"] == "IN_PROGRESS" else None

        (in_flight, second, first_rc, first_out), _ = self.under_load(
            lambda: self.race_second_release({"APP_VERSION": "v5"}, rolling_out))
        self.assertIsNotNone(in_flight, "never saw the first release in flight")
        self.assertEqual(second.returncode, 5, second.stdout + second.stderr)
        self.assertIn("has deployment %s in flight" % in_flight, second.stderr)
        self.assertRegex(second.stderr, r"started \d{4}-\d\d-\d\dT")
        self.assertEqual(first_rc, 0, first_out)
        self.assertEqual(self.get(), "slipway demo v5\n")

    def test_08b_a_release_holds_its_lock_through_its_migration(self):
        def migrating():
            return bool(self.ecs.list_tasks(cluster=CLUSTER, startedBy="slipway-migrate")["taskArns"])

        (seen, second, first_rc, first_out), _ = self.under_load(
            lambda: self.race_second_release({"APP_VERSION": "v5", "DEMO_MIGRATION_SECONDS": "4"}, migrating))
        self.assertTrue(seen, "never saw the migration task")
        self.assertEqual(second.returncode, 5, second.stdout + second.stderr)
        self.assertRegex(second.stderr, r"service demo-dev-web is being released by \S+ \(release r\d{14}-[0-9a-f]{4}, started ")
        self.assertEqual(first_rc, 0, first_out)
        # The lock is gone once the release ends: the next one proceeds.
        tags = self.ecs.list_tags_for_resource(resourceArn=self.service()["serviceArn"])["tags"]
        self.assertNotIn("slipway:lock", [t["key"] for t in tags])

    def test_08c_two_first_releases_of_a_fresh_environment_run_its_migration_once(self):
        config, port = self.engine.fresh_environment_config("demo-first")
        env = dict(self.engine.env, APP_VERSION="v7", DEMO_MIGRATION_SECONDS="2")
        releases = [subprocess.Popen([SLIPWAY, "deploy", "dev", "--config", config], env=dict(env, SLIPWAY_ACTOR=actor),
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
                                     text=True) for actor in ("first-a@e2e", "first-b@e2e")]
        results = [(p.returncode, out + err) for p in releases for out, err in [p.communicate(timeout=300)]]
        codes = sorted(rc for rc, _ in results)
        self.assertEqual(codes, [0, 5], results)
        (_, won), (_, lost) = sorted(results)
        self.assertRegex(lost, r"cluster demo-first is being released by first-[ab]@e2e \(release r\d{14}-[0-9a-f]{4}, "
                               r"started \d{4}-\d\d-\d\dT")
        self.assertIn("nothing was changed", lost)
        self.assertNotIn("migrating schema", lost)
        self.assertNotIn("another release is in flight", won)
        migrations = self.ecs.list_tasks(cluster="demo-first", startedBy="slipway-migrate", desiredStatus="STOPPED")
        self.assertEqual(len(migrations["taskArns"]), 1, migrations)
        self.assertEqual(self.get(port), "slipway demo v7\n")
        self.assertEqual(self.engine.cluster_lock_tags("demo-first"), [])
        tags = self.ecs.list_tags_for_resource(
            resourceArn=self.service("demo-first", SERVICE)["serviceArn"])["tags"]
        self.assertNotIn("slipway:lock", [t["key"] for t in tags])

    def test_09_approval_gate(self):
        prod = dict(environment="prod")
        first = self.engine.deploy("v1", "--confirm", "deploy-prod", **prod)
        self.assertEqual(first.returncode, 0, first.stdout + first.stderr)
        port = self.engine.prod_port
        revisions = lambda: len(self.engine.aws("ecs", "list-task-definitions", "--family-prefix", "demo-web")["taskDefinitionArns"])

        def refusals():
            count = revisions()
            no_tty = self.engine.deploy("v2", **prod)
            wrong = self.engine.deploy("v2", "--confirm", "deploy-dev", **prod)
            typed = self.typed_deploy("v2", "yes\n")
            return count, revisions(), no_tty, wrong, typed

        (count, after, no_tty, wrong, typed), load = self.under_load(refusals, port)
        self.assertEqual(no_tty.returncode, 4, no_tty.stderr)
        self.assertIn("Pass --confirm deploy-prod", no_tty.stderr)
        self.assertEqual(wrong.returncode, 4, wrong.stderr)
        self.assertEqual(typed[0], 4, typed[1])
        self.assertIn("Type 'deploy-prod' to continue", typed[1])
        # The gate shows what would be approved before it asks.
        self.assertIn('~ containerDefinitions[web].environment[APP_VERSION].value: "v1" -> "v2"', typed[1])
        self.assertLess(typed[1].index("plan for prod:"), typed[1].index("to continue"))
        self.assertEqual(after, count, "a refused release registered a task definition")
        self.assertEqual(set(load.bodies), {"slipway demo v1\n"})

        def approved():
            return self.typed_deploy("v2", "deploy-prod\n")
        (rc, text), _ = self.under_load(approved, port)
        self.assertEqual(rc, 0, text)
        self.assertEqual(self.get(port), "slipway demo v2\n")

    def typed_deploy(self, version, answer):
        """Runs `deploy prod` on a pseudo-terminal and types `answer` at the approval prompt."""
        master, slave = pty.openpty()
        env = dict(self.engine.env, APP_VERSION=version)
        proc = subprocess.Popen([SLIPWAY, "deploy", "prod", "--config", self.engine.config], env=env,
                                stdin=slave, stdout=subprocess.PIPE, stderr=slave, text=False)
        os.close(slave)
        seen = b""
        while b"to continue:" not in seen:
            chunk = os.read(master, 1024)
            if not chunk:
                break
            seen += chunk
        os.write(master, answer.encode())
        out, _ = proc.communicate(timeout=300)
        try:
            while True:
                chunk = os.read(master, 4096)
                if not chunk:
                    break
                seen += chunk
        except OSError:
            pass
        os.close(master)
        return proc.returncode, (seen + out).decode(errors="replace")

    def test_10_aws_cli_reads_the_failure_story(self):
        # A circuit-breaker rollback, as ECS tells it.
        self.failed_release("v7", "crash")
        svc = self.service()
        messages = [e["message"] for e in svc["events"]]
        failed = [m for m in messages if m.endswith(") deployment failed: tasks failed to start.")]
        self.assertTrue(failed, messages[:20])
        self.assertTrue(any(m.startswith("(service demo-dev-web) rolling back to deployment ecs-svc/") for m in messages))
        failed_id = failed[0].split("(deployment ")[1].split(")")[0]
        stopped = self.engine.aws("ecs", "list-tasks", "--cluster", CLUSTER, "--started-by", failed_id,
                                  "--desired-status", "STOPPED")["taskArns"]
        tasks = self.engine.aws("ecs", "describe-tasks", "--cluster", CLUSTER, "--tasks", *stopped)["tasks"]
        # The failed deployment's tasks include ones the scheduler stopped while rolling back; the
        # story is in the ones whose container exited on its own.
        crashed = [t for t in tasks if t.get("stopCode") == "EssentialContainerExited"]
        self.assertTrue(crashed, [(t.get("stopCode"), t.get("stoppedReason")) for t in tasks])
        task = crashed[0]
        self.assertEqual(task["stoppedReason"], "Essential container in task exited")
        self.assertEqual(task["stopCode"], "EssentialContainerExited")
        self.assertEqual(task["containers"][0]["exitCode"], 1)
        task_id = task["taskArn"].rsplit("/", 1)[1]
        events = self.engine.aws("logs", "get-log-events", "--log-group-name", "/ecs/demo",
                                 "--log-stream-name", "web/web/" + task_id, "--start-from-head")["events"]
        self.assertEqual([e["message"] for e in events][-1], "fatal: DEMO_FAIL=crash: exiting at start")

        # A first release that fails has nothing to return to: ECS leaves the FAILED deployment in
        # place, slipway exits 3 and says what state the service is in.
        fresh = self.engine.variant_config("fresh.yaml", {"cluster: demo-dev": "cluster: demo-fresh",
                                                          "name: demo-dev": "name: demo-fresh",
                                                          "listenerPort: %d" % self.engine.listener_port:
                                                          "listenerPort: %d" % free_port()})
        out, _ = self.under_load(lambda: self.engine.slipway(
            "deploy", "dev", "--config", fresh, env=dict(APP_VERSION="v1", DEMO_FAIL="crash")))
        self.assertEqual(out.returncode, 3, out.stdout + out.stderr)
        self.assertIn("ROLLBACK FAILED", out.stderr)
        self.assertIn("no known-good revision to return to", out.stdout + out.stderr)
        svc = self.service("demo-fresh", "demo-dev-web")
        self.assertEqual(svc["deployments"][0]["rolloutState"], "FAILED")
        self.assertEqual(svc["deployments"][0]["rolloutStateReason"], "ECS deployment circuit breaker: tasks failed to start.")
        self.assertGreaterEqual(svc["deployments"][0]["failedTasks"], 3)


if __name__ == "__main__":
    unittest.main(verbosity=2)
