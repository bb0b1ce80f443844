"""Crash recovery that adopts instead of restarting, a planned restart that drops nothing, a task
limit that holds with hundreds of tasks, and releases that pass on a busy machine."""
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import unittest

from harness import SLIPWAY, Load, ReleasedEngineTest, process_gone

CLUSTER, SERVICE = "demo-dev", "demo-dev-web"




def supervised_pids(engine, task_id):
    """The container pids the task's supervisors recorded."""
    pids = {}
    task_dir = os.path.join(engine.data_dir, "tasks", task_id)
    for name in os.listdir(task_dir):
        if name.endswith(".sup"):
            with open(os.path.join(task_dir, name)) as f:
                fields = dict(line.strip().split("=", 1) for line in f if "=" in line)
            pids[name[:-4]] = int(fields["container_pid"])
    return pids


class RecoveryTest(ReleasedEngineTest):
    def running_tasks(self, cluster=CLUSTER, service=SERVICE):
        arns = self.ecs.list_tasks(cluster=cluster, serviceName=service)["taskArns"]
        if not arns:
            return []
        return [t for t in self.ecs.describe_tasks(cluster=cluster, tasks=arns)["tasks"] if t["lastStatus"] == "RUNNING"]

    def start_engine(self, *extra):
        out = self.engine.slipway("engine", "start", "--listen", "127.0.0.1:%d" % self.engine.api_port, *extra)
        self.assertEqual(out.returncode, 0, out.stdout + out.stderr)

    def test_1_a_release_survives_the_engine_being_killed_mid_rollout(self):
        deploy = subprocess.Popen([SLIPWAY, "deploy", "dev", "--config", self.engine.config],
                                  env=dict(self.engine.env, APP_VERSION="v2"), stdin=subprocess.DEVNULL,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        lines = []
        for line in deploy.stdout:
            lines.append(line)
            if "rolling out" in line:
                break
        self.assertTrue(any("rolling out" in l for l in lines), "".join(lines))
        time.sleep(0.5)  # the new tasks are starting
        before = {t["taskArn"].rsplit("/", 1)[1] for t in self.running_tasks()}
        self.assertTrue(before)
        pids = {tid: supervised_pids(self.engine, tid) for tid in before}

        killed = self.engine.pid
        os.kill(killed, signal.SIGKILL)
        deadline = time.time() + 10
        while not process_gone(killed) and time.time() < deadline:
            time.sleep(0.02)
        # During the outage a client is refused at once, not left hanging on a dead engine's socket.
        for port in (self.engine.listener_port, self.engine.api_port):
            with self.assertRaises(ConnectionRefusedError):
                socket.create_connection(("127.0.0.1", port), timeout=5).close()
        time.sleep(1.0)
        self.start_engine()
        self.ecs = self.engine.client("ecs")
        adopted = {t["taskArn"].rsplit("/", 1)[1]: t for t in self.ecs.describe_tasks(
            cluster=CLUSTER, tasks=sorted(before))["tasks"]}
        for tid in before:
            self.assertIn(tid, adopted)
            if adopted[tid]["lastStatus"] == "RUNNING":
                # The same task runs on: the same container processes, still alive.
                self.assertEqual(supervised_pids(self.engine, tid), pids[tid])
                for pid in pids[tid].values():
                    self.assertFalse(process_gone(pid), "task %s's container %d died with the engine" % (tid, pid))

        rest, err = deploy.communicate(timeout=300)
        output = "".join(lines) + rest + err
        self.assertEqual(deploy.returncode, 0, output)
        svc = self.ecs.describe_services(cluster=CLUSTER, services=[SERVICE])["services"][0]
        self.assertEqual(len(svc["deployments"]), 1)
        self.assertEqual(svc["deployments"][0]["rolloutState"], "COMPLETED")
        self.assertEqual(svc["runningCount"], 2)

    def test_2_a_planned_restart_drops_no_request(self):
        with Load(self.engine.listener_port) as load:
            time.sleep(0.5)
            out = self.engine.slipway("engine", "restart")
            self.assertEqual(out.returncode, 0, out.stdout + out.stderr)
            time.sleep(1.0)
            during = load.total
            out = self.engine.slipway("engine", "restart")
            self.assertEqual(out.returncode, 0, out.stdout + out.stderr)
            time.sleep(1.0)
        self.assertGreater(during, 50)
        self.assertEqual(load.failed(), 0, "codes=%s errors=%s" % (load.codes, load.errors[:5]))
        # The same tasks serve after both restarts, and the API answers.
        self.assertEqual(len(self.running_tasks()), 2)

    def test_2b_a_successor_that_served_and_died_leaves_no_second_engine(self):
        """The restart client dies after its successor served (no "done" ever reaches the old
        engine). The old engine must not resume on its stale memory next to whatever the
        successor changed: it exits, and `engine start` adopts the tasks."""
        before = {t["taskArn"].rsplit("/", 1)[1] for t in self.running_tasks()}
        old = self.engine.pid
        control = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        control.connect(os.path.join(self.engine.data_dir, "engine.sock"))
        control.sendall(b"handoff\n")
        msg, fds, _, _ = socket.recv_fds(control, 65536, 16)
        reply = json.loads(msg.decode().split("\n", 1)[0])
        self.assertEqual(len(fds), len(reply["sockets"]))
        # The successor gets them as 3, 4, ...; park them high first so no dup2 overwrites another.
        parked = [os.dup2(fd, 200 + i, inheritable=True) for i, fd in enumerate(fds)]

        def place():
            for i, fd in enumerate(parked):
                os.dup2(fd, 3 + i)

        settings = reply["settings"]
        successor = subprocess.Popen(
            [SLIPWAY, "engine", "run", "--data-dir", self.engine.data_dir,
             "--listen", "%s:%d" % (settings.get("host", "127.0.0.1"), settings["port"]),
             "--region", settings.get("region", "us-east-1"), "--max-tasks", str(settings.get("maxTasks", 0)),
             "--inherited-sockets", ",".join(reply["sockets"])],
            env=self.engine.env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            preexec_fn=place, pass_fds=tuple(range(3, 3 + len(parked))))
        for fd in fds + parked:
            os.close(fd)
        deadline = time.time() + 30
        while time.time() < deadline and self.engine.pid != successor.pid:
            self.assertIsNone(successor.poll(), "the successor exited before serving")
            time.sleep(0.02)
        self.assertEqual(self.engine.pid, successor.pid, "the successor never served")
        successor.kill()
        successor.wait()
        control.close()  # the client dies too: no "done"

        deadline = time.time() + 30
        while time.time() < deadline and not process_gone(old):
            time.sleep(0.05)
        self.assertTrue(process_gone(old), "the old engine resumed after its successor had served")
        with open(os.path.join(self.engine.data_dir, "engine.log")) as f:
            self.assertIn("served and then exited", f.read())
        self.start_engine()
        self.ecs = self.engine.client("ecs")
        after = {t["taskArn"].rsplit("/", 1)[1] for t in self.running_tasks()}
        self.assertEqual(after, before, "the tasks were not adopted")

    def test_3_two_hundred_tasks_get_two_hundred_ports_and_all_serve(self):
        out = self.engine.slipway("engine", "stop")
        self.assertEqual(out.returncode, 0, out.stdout + out.stderr)
        self.start_engine("--max-tasks", "200")
        self.ecs = self.engine.client("ecs")
        config = self.engine.variant_config("many.yaml", {"desiredCount: 2\n        deployment": "desiredCount: 200\n"
                                                          "        deployment",
                                                          "maximumPercent: 200": "maximumPercent: 100",
                                                          "minimumHealthyPercent: 100": "minimumHealthyPercent: 0"})
        out = self.engine.slipway("deploy", "dev", "--config", config, env=dict(APP_VERSION="v3"), timeout=900)
        self.assertEqual(out.returncode, 0, out.stdout + out.stderr)
        tasks = self.running_tasks()
        self.assertEqual(len(tasks), 200)
        ports = [b["hostPort"] for t in tasks for c in t["containers"] for b in c["networkBindings"]]
        self.assertEqual(len(ports), 200)
        self.assertEqual(len(set(ports)), 200, "a host port was handed to two tasks")
        elbv2 = self.engine.client("elbv2")
        tg = elbv2.describe_target_groups(Names=["demo-dev-web"])["TargetGroups"][0]["TargetGroupArn"]
        health = elbv2.describe_target_health(TargetGroupArn=tg)["TargetHealthDescriptions"]
        self.assertEqual(sorted(h["Target"]["Port"] for h in health), sorted(ports))
        self.assertTrue(all(h["TargetHealth"]["State"] == "healthy" for h in health))
        # At the limit, one more is refused up front.
        with self.assertRaises(Exception) as e:
            self.ecs.update_service(cluster=CLUSTER, service=SERVICE, desiredCount=201)
        self.assertIn("LimitExceededException", str(e.exception))
        # Back to 2 tasks; lowering desiredCount stops the rest.
        self.ecs.update_service(cluster=CLUSTER, service=SERVICE, desiredCount=2)
        deadline = time.time() + 120
        while time.time() < deadline and len(self.ecs.list_tasks(cluster=CLUSTER, serviceName=SERVICE)["taskArns"]) > 2:
            time.sleep(0.5)
        self.assertEqual(len(self.ecs.list_tasks(cluster=CLUSTER, serviceName=SERVICE)["taskArns"]), 2)

    def test_4_a_first_release_with_a_task_that_dies_at_start_completes(self):
        marker = os.path.join(self.engine.dir, "crash-once")
        fresh = self.engine.variant_config("fresh.yaml", {"cluster: demo-dev": "cluster: demo-once",
                                                          "name: demo-dev": "name: demo-once",
                                                          "listenerPort: %d" % self.engine.listener_port:
                                                          "listenerPort: %d" % self.engine.prod_port})
        out = self.engine.slipway("deploy", "dev", "--config", fresh,
                                  env=dict(APP_VERSION="v1", DEMO_FAIL="crash-once", DEMO_MARKER=marker))
        self.assertEqual(out.returncode, 0, out.stdout + out.stderr)
        self.assertTrue(os.path.exists(marker), "no task crashed")
        stopped = self.ecs.list_tasks(cluster="demo-once", serviceName=SERVICE, desiredStatus="STOPPED")["taskArns"]
        crashed = [t for t in self.ecs.describe_tasks(cluster="demo-once", tasks=stopped)["tasks"]
                   if t.get("stopCode") == "EssentialContainerExited"]
        self.assertEqual(len(crashed), 1)
        self.assertEqual(len(self.running_tasks("demo-once")), 2)

    def test_5_a_release_passes_while_both_cores_are_busy(self):
        hogs = [subprocess.Popen([sys.executable, "-c", "import time\nend = time.time() + 240\n"
                                                        "while time.time() < end: pass"]) for _ in range(2)]
        try:
            with Load(self.engine.listener_port, keepalive_clients=2) as load:
                out = self.engine.deploy("v4")
            self.assertEqual(out.returncode, 0, out.stdout + out.stderr)
            self.assertEqual(load.failed(), 0, "codes=%s errors=%s" % (load.codes, load.errors[:5]))
        finally:
            for h in hogs:
                h.kill()
                h.wait()


if __name__ == "__main__":
    unittest.main(verbosity=2)
