"""End-to-end: a release that is interrupted, or loses its endpoint, says what happened and cleans
up after itself; `slipway unlock` removes a lock that a killed release left behind."""
import json
import os
import re
import signal
import socket
import subprocess
import threading
import time
import unittest

from harness import SLIPWAY, ReleasedEngineTest

CLUSTER, SERVICE = "demo-dev", "demo-dev-web"


class Deploy:
    """A `slipway deploy` running in the background, its output collected as it comes."""

    def __init__(self, engine, env, args=(), config=None):
        self.proc = subprocess.Popen([SLIPWAY, "deploy", "dev", "--config", config or engine.config, *args], env=env,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
                                     text=True)
        self.out, self.err = [], []
        self.readers = [threading.Thread(target=self._read, args=(self.proc.stdout, self.out)),
                        threading.Thread(target=self._read, args=(self.proc.stderr, self.err))]
        for r in self.readers:
            r.start()

    @staticmethod
    def _read(stream, sink):
        for line in stream:
            sink.append(line)
        stream.close()

    def printed(self, text):
        return any(text in line for line in list(self.out))

    def finish(self, timeout=180):
        self.proc.wait(timeout=timeout)
        for r in self.readers:
            r.join()
        return self.proc.returncode, "".join(self.out), "".join(self.err)


class InterruptTest(ReleasedEngineTest):
    # --- what the tests look at -------------------------------------------------------------

    def service(self):
        return self.ecs.describe_services(cluster=CLUSTER, services=[SERVICE])["services"][0]

    def lock_tags(self):
        tags = self.ecs.list_tags_for_resource(resourceArn=self.service()["serviceArn"])["tags"]
        return [t for t in tags if t["key"] == "slipway:lock"]

    def newest_revision(self):
        arns = self.ecs.list_task_definitions(familyPrefix="demo-web", sort="DESC")["taskDefinitionArns"]
        return max(arns, key=lambda a: int(a.rsplit(":", 1)[1]))

    def history(self):
        out = self.engine.slipway("history", "dev", "--config", self.engine.config, "--output", "json")
        self.assertEqual(out.returncode, 0, out.stderr)
        return {row["revision"]: row for row in json.loads(out.stdout)}

    def migrations_running(self):
        return self.ecs.list_tasks(cluster=CLUSTER, startedBy="slipway-migrate", desiredStatus="RUNNING")["taskArns"]

    def rolling_out(self, before):
        """The id of the PRIMARY deployment when it is a new one still IN_PROGRESS, else None."""
        primary = self.service()["deployments"][0]
        if primary["taskDefinition"] != before and primary["rolloutState"] == "IN_PROGRESS":
            return primary["id"]
        return None

    def wait_for(self, what, predicate, timeout=120, proc=None):
        """Polls predicate() until it returns a truthy value; fails if the Deploy `proc` ends first."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            value = predicate()
            if value:
                return value
            if proc is not None and proc.proc.poll() is not None:
                rc, out, err = proc.finish()
                self.fail("slipway exited %d before %s:\n%s%s" % (rc, what, out, err))
            time.sleep(0.1)
        self.fail("timed out waiting for " + what)

    def wait_until_settled(self):
        def settled():
            svc = self.service()
            return len(svc["deployments"]) == 1 and svc["deployments"][0]["rolloutState"] == "COMPLETED"
        self.wait_for("the service to settle", settled, timeout=180)

    def start_deploy(self, version, *args, config=None, **env):
        return Deploy(self.engine, dict(self.engine.env, APP_VERSION=version, **env), args, config)

    def stop_engine_during_a_rollout(self, *args):
        """Starts a release with a 5 s unreachable bound, stops the engine once the rollout is
        under way, and starts it again after the release has ended; returns the deployment id,
        the revision, and the release's exit code and output."""
        before = self.service()["taskDefinition"]
        proc = self.start_deploy("v6", *args, SLIPWAY_UNREACHABLE_SECONDS="5")
        deployment = self.wait_for("the rollout", lambda: self.rolling_out(before), proc=proc)
        registered = self.newest_revision().rsplit("/", 1)[1]
        stopped = self.engine.slipway("engine", "stop")
        self.assertEqual(stopped.returncode, 0, stopped.stdout + stopped.stderr)
        rc, out, err = proc.finish()
        self.engine.start()
        return deployment, registered, rc, out, err

    def clean_up_after_the_engine_stop(self):
        unlocked = self.engine.slipway("unlock", "dev", "--config", self.engine.config, "--force")
        self.assertEqual(unlocked.returncode, 0, unlocked.stdout + unlocked.stderr)
        self.wait_until_settled()

    # --- the tests --------------------------------------------------------------------------

    def test_0_an_endpoint_unreachable_from_the_start_is_an_error_that_changed_nothing(self):
        with socket.socket() as refusing:  # bound, never listening: connections are refused
            refusing.bind(("127.0.0.1", 0))
            endpoint = "http://127.0.0.1:%d" % refusing.getsockname()[1]
            out = self.engine.slipway("deploy", "dev", "--config", self.engine.config, env=dict(
                APP_VERSION="v9", SLIPWAY_ENGINE_ENDPOINT=endpoint, SLIPWAY_UNREACHABLE_SECONDS="1"))
        self.assertEqual(out.returncode, 1, out.stdout + out.stderr)
        # The first call is the cluster's: a release makes sure it is there before it takes the lock.
        self.assertRegex(out.stderr, r"error: could not reach %s since \d\d:\d\d:\d\d: ecs DescribeClusters: "
                         % re.escape(endpoint))
        self.assertIn("; no service was changed", out.stderr)

    def test_1_sigint_during_the_migration_aborts_and_changes_no_service(self):
        before = self.service()
        proc = self.start_deploy("v2", DEMO_MIGRATION_SECONDS="60")
        self.wait_for("the migration task", self.migrations_running, proc=proc)
        self.assertTrue(self.lock_tags(), "the release should hold its lock during its migration")
        registered = self.newest_revision()
        proc.proc.send_signal(signal.SIGINT)
        rc, out, err = proc.finish()

        self.assertEqual(rc, 130, out + err)
        self.assertIn("interrupted during the migration of web (its task ", err)
        self.assertIn("was stopped); no service was changed", err)
        self.assertNotIn("rolling out", out)
        self.assertEqual(self.lock_tags(), [])
        revision = registered.rsplit("/", 1)[1]
        self.assertEqual(self.history()[revision]["result"], "aborted")
        after = self.service()
        self.assertEqual(after["taskDefinition"], before["taskDefinition"])
        self.assertEqual([d["id"] for d in after["deployments"]], [d["id"] for d in before["deployments"]])
        # The migration does not run on unattended.
        self.wait_for("the migration task to stop", lambda: not self.migrations_running(), timeout=60)

    def test_2_sigint_during_the_rollout_leaves_it_rolling_out_and_says_so(self):
        before = self.service()["taskDefinition"]
        proc = self.start_deploy("v3")
        deployment = self.wait_for("the rollout", lambda: self.rolling_out(before), proc=proc)
        registered = self.newest_revision()
        proc.proc.send_signal(signal.SIGINT)
        rc, out, err = proc.finish()

        self.assertEqual(rc, 130, out + err)
        self.assertIn("interrupted while watching the rollout", err)
        revision = registered.rsplit("/", 1)[1]
        self.assertIn("demo-dev-web: rolling out %s (deployment %s)" % (revision, deployment), err)
        self.assertIn("watch it:   slipway status dev --config " + self.engine.config, err)
        self.assertIn("roll back:  slipway rollback dev --config " + self.engine.config, err)
        self.assertEqual(self.lock_tags(), [])
        self.assertEqual(self.history()[revision]["result"], "interrupted")
        # ECS carries on with the rollout.
        self.wait_until_settled()
        self.assertEqual(self.service()["taskDefinition"], registered)

    def test_3_unlock_removes_the_lock_a_killed_release_left_and_names_its_holder(self):
        proc = self.start_deploy("v4", DEMO_MIGRATION_SECONDS="60", SLIPWAY_ACTOR="killed-release@e2e")
        self.wait_for("the migration task", self.migrations_running, proc=proc)
        proc.proc.kill()
        proc.finish(timeout=30)
        self.assertTrue(self.lock_tags())

        blocked = self.engine.deploy("v5")
        self.assertEqual(blocked.returncode, 5, blocked.stdout + blocked.stderr)
        self.assertIn("is being released by killed-release@e2e", blocked.stderr)

        # The killed release's migration still runs: unlock refuses, and says whose lock it is.
        refused = self.engine.slipway("unlock", "dev", "--config", self.engine.config)
        self.assertEqual(refused.returncode, 5, refused.stdout + refused.stderr)
        self.assertIn("kept demo-dev-web: locked by killed-release@e2e (release r", refused.stdout)
        self.assertIn("is running in demo-dev", refused.stderr)
        self.assertTrue(self.lock_tags())

        out = self.engine.slipway("unlock", "dev", "--config", self.engine.config, "--force")
        self.assertEqual(out.returncode, 0, out.stdout + out.stderr)
        self.assertRegex(out.stdout, r"removed the lock on demo-dev-web: locked by killed-release@e2e "
                                     r"\(release r\d{14}-[0-9a-f]{4}, started \d{4}-\d\d-\d\dT[^;]+; "
                                     r"the lock expires \d{4}-")
        self.assertEqual(self.lock_tags(), [])

        again = self.engine.slipway("unlock", "dev", "--config", self.engine.config)
        self.assertEqual(again.returncode, 0, again.stderr)
        self.assertIn("no release lock on the services of dev", again.stdout)

        released = self.engine.deploy("v5")
        self.assertEqual(released.returncode, 0, released.stdout + released.stderr)

    def test_3b_a_first_release_interrupted_or_killed_leaves_no_lock_behind_or_one_unlock_removes(self):
        config, port = self.engine.fresh_environment_config("demo-first")
        locks = lambda: self.engine.cluster_lock_tags("demo-first")

        def migrating():
            if not self.ecs.describe_clusters(clusters=["demo-first"])["clusters"]:
                return []  # not created yet
            return self.ecs.list_tasks(cluster="demo-first", startedBy="slipway-migrate",
                                       desiredStatus="RUNNING")["taskArns"]
        # Failed (its migration fails): the cluster's lock goes with it.
        failed = self.engine.deploy("v7", config=config, DEMO_FAIL="migration")
        self.assertEqual(failed.returncode, 1, failed.stdout + failed.stderr)
        self.assertIn("migration of web exited with code 1", failed.stderr)
        self.assertEqual(locks(), [])
        # Interrupted during its migration: likewise.
        proc = self.start_deploy("v7", config=config, DEMO_MIGRATION_SECONDS="60")
        self.wait_for("the first release's migration", migrating, proc=proc)
        self.assertEqual(len(locks()), 1, "a first release should hold the cluster's lock during its migration")
        proc.proc.send_signal(signal.SIGINT)
        rc, out, err = proc.finish()
        self.assertEqual(rc, 130, out + err)
        self.assertIn("no service was changed", err)
        self.assertEqual(locks(), [])
        self.wait_for("the migration task to stop", lambda: not migrating(), timeout=60)

        # Killed: the lock stays, blocks the next release, and unlock names and removes it.
        proc = self.start_deploy("v7", config=config, DEMO_MIGRATION_SECONDS="20", SLIPWAY_ACTOR="killed-first@e2e")
        self.wait_for("the first release's migration", migrating, proc=proc)
        proc.proc.kill()
        proc.finish(timeout=30)
        self.assertEqual(len(locks()), 1)
        blocked = self.engine.deploy("v7", config=config)
        self.assertEqual(blocked.returncode, 5, blocked.stdout + blocked.stderr)
        self.assertIn("cluster demo-first is being released by killed-first@e2e (release r", blocked.stderr)
        refused = self.engine.slipway("unlock", "dev", "--config", config)
        self.assertEqual(refused.returncode, 5, refused.stdout + refused.stderr)
        self.assertIn("kept cluster demo-first: locked by killed-first@e2e (release r", refused.stdout)
        self.assertIn("is running in demo-first", refused.stderr)
        out = self.engine.slipway("unlock", "dev", "--config", config, "--force", "--output", "json")
        self.assertEqual(out.returncode, 0, out.stdout + out.stderr)
        report = json.loads(out.stdout)
        self.assertEqual(report["result"], "unlocked")
        self.assertEqual([(l["cluster"], l["by"]) for l in report["locks"]], [("demo-first", "killed-first@e2e")])
        self.assertEqual(locks(), [])
        self.wait_for("the killed release's migration to end", lambda: not migrating(), timeout=90)
        released = self.engine.deploy("v7", config=config)
        self.assertEqual(released.returncode, 0, released.stdout + released.stderr)
        self.assertEqual(locks(), [])

    def test_4_an_endpoint_that_stays_down_during_the_rollout_exits_6(self):
        deployment, registered, rc, out, err = self.stop_engine_during_a_rollout()
        self.assertEqual(rc, 6, out + err)
        self.assertRegex(err, r"outcome unknown: could not reach %s since \d\d:\d\d:\d\d"
                         % re.escape(self.engine.endpoint))
        self.assertIn("demo-dev-web: rolling out %s (deployment %s)" % (registered, deployment), err)
        self.assertIn("watch it:   slipway status dev", err)
        self.assertIn("roll back:  slipway rollback dev", err)
        self.assertIn("engine at %s unreachable since " % self.engine.endpoint, out)
        # Its lock could not be removed either, and it says how to.
        self.assertIn("the release lock could not be removed", err)
        self.assertIn("`slipway unlock dev` removes it", err)
        self.clean_up_after_the_engine_stop()

    def test_4b_json_output_reports_the_result_unknown(self):
        deployment, registered, rc, out, err = self.stop_engine_during_a_rollout("--output", "json")
        self.assertEqual(rc, 6, out + err)
        report = json.loads(out)
        self.assertEqual(report["result"], "unknown")
        self.assertTrue(report["unreachable"].startswith("could not reach %s since " % self.engine.endpoint),
                        report["unreachable"])
        self.assertEqual(report["services"][0]["deployment"], deployment)
        self.assertEqual(report["services"][0]["inFlight"], "rolling out %s (deployment %s)" % (registered, deployment))
        self.clean_up_after_the_engine_stop()

    def test_5_an_engine_restart_during_the_rollout_is_waited_out(self):
        before = self.service()["taskDefinition"]
        proc = self.start_deploy("v7")
        self.wait_for("the rollout", lambda: self.rolling_out(before), proc=proc)
        registered = self.newest_revision()
        stopped = self.engine.slipway("engine", "stop")
        self.assertEqual(stopped.returncode, 0, stopped.stdout + stopped.stderr)
        # Down until the deploy has noticed, then back.
        self.wait_for("the deploy to report the engine unreachable",
                      lambda: proc.printed("engine at %s unreachable since " % self.engine.endpoint), proc=proc)
        self.engine.start()
        rc, out, err = proc.finish(timeout=400)

        self.assertNotIn("outcome unknown", err)
        # `engine stop` stops every task (adoption is for an engine that crashed or restarts in
        # place) and the new engine refills the services, so the rollout either completes or fails
        # and is rolled back; either way the deploy watched it to the end and says which.
        self.assertIn(rc, (0, 1), out + err)
        svc = self.service()
        if rc == 0:
            self.assertEqual(svc["taskDefinition"], registered)
            self.assertEqual(self.history()[registered.rsplit("/", 1)[1]]["result"], "released")
        else:
            self.assertIn("every service is on its last known-good revision", err)
            self.assertNotEqual(svc["taskDefinition"], registered)
        print("\nengine stopped and started during the rollout: deploy exited %d" % rc)

    def test_6_an_engine_that_crashes_mid_rollout_and_comes_back_is_waited_out(self):
        before = self.service()["taskDefinition"]
        proc = self.start_deploy("v8")
        self.wait_for("the rollout", lambda: self.rolling_out(before), proc=proc)
        registered = self.newest_revision()
        with open(os.path.join(self.engine.data_dir, "engine.json")) as f:
            os.kill(json.load(f)["pid"], signal.SIGKILL)
        self.wait_for("the deploy to report the engine unreachable",
                      lambda: proc.printed("engine at %s unreachable since " % self.engine.endpoint), proc=proc)
        self.engine.start()
        rc, out, err = proc.finish(timeout=400)

        # The new engine adopts the tasks the crashed one ran, so the rollout carries on to the end.
        self.assertEqual(rc, 0, out + err)
        self.assertEqual(self.service()["taskDefinition"], registered)
        self.assertEqual(self.history()[registered.rsplit("/", 1)[1]]["result"], "released")


if __name__ == "__main__":
    unittest.main(verbosity=2)
