"""The engine keeps its word: every acknowledged write survives SIGKILL, the engine's sockets and
files stay its own, its data is private, and one request cannot exhaust the host."""
import os
import signal
import socket
import stat
import subprocess
import threading
import time
import unittest

import botocore.config
import botocore.exceptions

from harness import EngineTest, process_gone

CONFIG = botocore.config.Config(retries={"max_attempts": 1, "mode": "standard"}, connect_timeout=2, read_timeout=10)




def wait_until(predicate, seconds=30.0, step=0.05):
    deadline = time.time() + seconds
    while time.time() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return False


def listening_inodes(port):
    """Inodes of TCP sockets listening on `port`."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table) as f:
            next(f)
            for line in f:
                fields = line.split()
                if fields[3] == "0A" and int(fields[1].rsplit(":", 1)[1], 16) == port:
                    inodes.add(fields[9])
    return inodes


def holders(predicate):
    """Pids holding a descriptor whose link target satisfies `predicate`."""
    found = {}
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            for fd in os.listdir("/proc/%s/fd" % pid):
                try:
                    target = os.readlink("/proc/%s/fd/%s" % (pid, fd))
                except OSError:
                    continue
                if predicate(target):
                    found.setdefault(int(pid), []).append(target)
        except OSError:
            continue
    return found


class Killer(threading.Thread):
    """SIGKILLs the engine the moment the client signals that a reply was acknowledged."""

    def __init__(self):
        super().__init__(daemon=True)
        self.go = threading.Event()
        self.done = threading.Event()
        self.pid = None
        self.stop = False

    def run(self):
        while not self.stop:
            if self.go.wait(0.1):
                self.go.clear()
                os.kill(self.pid, signal.SIGKILL)
                self.done.set()


class DurabilityTest(EngineTest):
    def clients(self):
        return {name: self.engine.client(name, config=CONFIG) for name in ("ecs", "elbv2", "logs")}

    def restart_engine(self):
        out = self.engine.slipway("engine", "start", "--listen", "127.0.0.1:%d" % self.engine.api_port)
        self.assertEqual(out.returncode, 0, out.stdout + out.stderr)

    def test_1_every_acknowledged_write_survives_sigkill(self):
        c = self.clients()
        acknowledged = []  # (kind, details) of every call that answered 200
        c["ecs"].create_cluster(clusterName="chaos")
        acknowledged.append(("cluster", "chaos"))
        c["logs"].create_log_group(logGroupName="/chaos")
        c["logs"].create_log_stream(logGroupName="/chaos", logStreamName="s")
        td = c["ecs"].register_task_definition(
            family="chaos-svc", containerDefinitions=[{"name": "app", "image": "x", "essential": True,
                                                       "entryPoint": ["/bin/sleep", "3600"]}])
        service_td = td["taskDefinition"]["taskDefinitionArn"]
        c["ecs"].create_service(cluster="chaos", serviceName="svc", taskDefinition=service_td, desiredCount=0)
        acknowledged.append(("service", ("svc", 0)))

        killer = Killer()
        killer.start()
        kills = 0
        calls = 0
        for i in range(240):
            kind = i % 6
            if kind == 0:
                r = c["ecs"].register_task_definition(
                    family="chaos-%d" % i, containerDefinitions=[{"name": "app", "image": "img:%d" % i}])
                acknowledged.append(("taskdef", r["taskDefinition"]["taskDefinitionArn"]))
            elif kind == 1:
                c["ecs"].update_service(cluster="chaos", service="svc", desiredCount=i % 3)
                acknowledged.append(("service", ("svc", i % 3)))
            elif kind == 2:
                arn = c["ecs"].describe_clusters(clusters=["chaos"])["clusters"][0]["clusterArn"]
                c["ecs"].tag_resource(resourceArn=arn, tags=[{"key": "k%d" % i, "value": "v%d" % i}])
                acknowledged.append(("tag", (arn, "k%d" % i, "v%d" % i)))
            elif kind == 3:
                r = c["elbv2"].create_target_group(Name="chaos-%d" % i, Protocol="HTTP", Port=80, VpcId="vpc-1",
                                                   TargetType="ip")
                acknowledged.append(("tg", r["TargetGroups"][0]["TargetGroupName"]))
            elif kind == 4:
                c["logs"].put_log_events(logGroupName="/chaos", logStreamName="s",
                                         logEvents=[{"timestamp": int(time.time() * 1000), "message": "m%d" % i}])
                acknowledged.append(("log", "m%d" % i))
            else:
                c["ecs"].create_cluster(clusterName="chaos-%d" % i)
                acknowledged.append(("cluster", "chaos-%d" % i))
            calls += 1
            if i % 20 == 19:
                # Killed within moments of the reply the client just got.
                killer.pid = self.engine.pid
                killer.done.clear()
                killer.go.set()
                self.assertTrue(killer.done.wait(5))
                self.assertTrue(wait_until(lambda: process_gone(killer.pid), 10))
                kills += 1
                # While it is down, the API port refuses connections instead of hanging them.
                with self.assertRaises(ConnectionRefusedError):
                    socket.create_connection(("127.0.0.1", self.engine.api_port), timeout=5).close()
                self.restart_engine()
                c = self.clients()
        killer.stop = True
        self.assertGreaterEqual(calls, 200)
        self.assertGreaterEqual(kills, 10)

        # The last restart is followed by a check of everything the client was told succeeded.
        c = self.clients()
        last_desired = [d for k, d in acknowledged if k == "service"][-1]
        svc = c["ecs"].describe_services(cluster="chaos", services=["svc"])["services"][0]
        self.assertEqual(svc["desiredCount"], last_desired[1])
        arn = c["ecs"].describe_clusters(clusters=["chaos"])["clusters"][0]["clusterArn"]
        tags = {t["key"]: t["value"] for t in c["ecs"].list_tags_for_resource(resourceArn=arn)["tags"]}
        events = {e["message"] for e in c["logs"].get_log_events(logGroupName="/chaos", logStreamName="s",
                                                                 startFromHead=True)["events"]}
        missing = []
        for kind, detail in acknowledged:
            if kind == "taskdef":
                try:
                    c["ecs"].describe_task_definition(taskDefinition=detail)
                except botocore.exceptions.ClientError:
                    missing.append(detail)
            elif kind == "cluster":
                if not c["ecs"].describe_clusters(clusters=[detail])["clusters"]:
                    missing.append(detail)
            elif kind == "tag":
                if tags.get(detail[1]) != detail[2]:
                    missing.append(detail)
            elif kind == "tg":
                try:
                    c["elbv2"].describe_target_groups(Names=[detail])
                except botocore.exceptions.ClientError:
                    missing.append(detail)
            elif kind == "log":
                if detail not in events:
                    missing.append(detail)
        self.assertEqual(missing, [], "acknowledged writes lost after %d kills" % kills)

    def test_2_no_other_process_holds_an_engine_socket_or_file(self):
        # A service whose tasks run while the engine is killed and restarted once more.
        out = self.engine.deploy("v1")
        self.assertEqual(out.returncode, 0, out.stdout + out.stderr)
        killed = self.engine.pid
        os.kill(killed, signal.SIGKILL)
        self.assertTrue(wait_until(lambda: process_gone(killed), 10))
        with self.assertRaises(ConnectionRefusedError):
            socket.create_connection(("127.0.0.1", self.engine.listener_port), timeout=5).close()
        self.restart_engine()
        pid = self.engine.pid
        for port in (self.engine.api_port, self.engine.listener_port):
            inodes = listening_inodes(port)
            self.assertTrue(inodes, "nothing listens on %d" % port)
            owners = holders(lambda t: t.startswith("socket:[") and t[8:-1] in inodes)
            self.assertEqual(set(owners), {pid}, "port %d is held by %s" % (port, owners))
        data = os.path.realpath(self.engine.data_dir)
        owners = holders(lambda t: t.startswith(data) and t.endswith((".db", ".db-wal", "engine.log", ".sock")))
        self.assertEqual(set(owners), {pid}, owners)

    def test_3_the_data_dir_is_private(self):
        out = self.engine.deploy("v1")
        self.assertEqual(out.returncode, 0, out.stdout + out.stderr)
        self.assertEqual(stat.S_IMODE(os.stat(self.engine.data_dir).st_mode), 0o700)
        seen = 0
        for root, dirs, files in os.walk(self.engine.data_dir):
            for d in dirs:
                self.assertEqual(stat.S_IMODE(os.stat(os.path.join(root, d)).st_mode), 0o700, os.path.join(root, d))
            for f in files:
                path = os.path.join(root, f)
                mode = os.lstat(path).st_mode
                if stat.S_ISSOCK(mode):
                    continue
                self.assertEqual(stat.S_IMODE(mode), 0o600, path)
                seen += 1
        # engine.db, logs.db, engine.log, credentials and the tasks' logs and records.
        self.assertGreater(seen, 8)
        for name in ("engine.db", "logs.db", "engine.log", "credentials"):
            self.assertTrue(os.path.exists(os.path.join(self.engine.data_dir, name)), name)

    def test_4_a_desired_count_past_the_task_limit_is_refused_before_any_launch(self):
        c = self.clients()
        before = len(c["ecs"].list_tasks(cluster="demo-dev")["taskArns"])
        with self.assertRaises(botocore.exceptions.ClientError) as e:
            c["ecs"].update_service(cluster="demo-dev", service="demo-dev-web", desiredCount=100000)
        self.assertEqual(e.exception.response["Error"]["Code"], "LimitExceededException")
        self.assertIn("--max-tasks", e.exception.response["Error"]["Message"])
        svc = c["ecs"].describe_services(cluster="demo-dev", services=["demo-dev-web"])["services"][0]
        self.assertEqual(svc["desiredCount"], 2)
        time.sleep(0.5)
        self.assertEqual(len(c["ecs"].list_tasks(cluster="demo-dev")["taskArns"]), before)
        with self.assertRaises(botocore.exceptions.ClientError) as e:
            c["ecs"].create_service(cluster="demo-dev", serviceName="huge", taskDefinition="demo-web",
                                    desiredCount=100000)
        self.assertEqual(e.exception.response["Error"]["Code"], "LimitExceededException")
        self.assertEqual(c["ecs"].describe_services(cluster="demo-dev", services=["huge"])["services"], [])


    def test_5_a_taken_port_is_named_with_the_process_holding_it(self):
        # Another program already listens where a second engine is told to.
        holder = socket.socket()
        holder.bind(("127.0.0.1", 0))
        holder.listen(1)
        port = holder.getsockname()[1]
        try:
            data_dir = os.path.join(self.engine.dir, "second")
            out = self.engine.slipway("engine", "start", "--data-dir", data_dir, "--listen", "127.0.0.1:%d" % port)
            self.assertEqual(out.returncode, 1, out.stdout + out.stderr)
            self.assertIn("port %d is held by pid %d" % (port, os.getpid()), out.stderr)
        finally:
            holder.close()

if __name__ == "__main__":
    unittest.main(verbosity=2)
