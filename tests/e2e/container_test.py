"""The container runtime end to end: images built with buildah run as podman pods, one IP per task,
inside the engine's own network namespace, released under load, adopted after a SIGKILL, and gone
without a trace when the engine stops.

These tests need rootful podman, runc, netavark and buildah (scripts/install-deps.sh). They fail,
never skip, when podman cannot run: an engine that fell back to the exec runtime would not pass."""
import http.client
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
import unittest
import uuid

from harness import AWS, BIN, Engine, Load, free_port, process_gone

TASK_SUBNET_PREFIX = "10.213."
CLUSTER, SERVICE = "demo-dev", "demo-dev-web"

TASK_DEFINITION = {
    "family": "ctr-web",
    "requiresCompatibilities": ["FARGATE"],
    "networkMode": "awsvpc",
    "cpu": "256",
    "memory": "512",
    "containerDefinitions": [{
        "name": "web",
        "image": "${IMAGE}",
        "essential": True,
        "portMappings": [{"containerPort": 8080, "protocol": "tcp"}],
        "environment": [{"name": "DEMO_FAIL", "value": "${DEMO_FAIL:-}"}],
        "secrets": [{"name": "DB_PASSWORD", "valueFrom": "demo-db-password"}],
        "stopTimeout": 10,
        "logConfiguration": {"logDriver": "awslogs", "options": {
            "awslogs-group": "/ecs/demo", "awslogs-region": "us-east-1", "awslogs-stream-prefix": "web"}},
    }],
}


def run(*argv, check=True, **kw):
    if "input" not in kw:
        kw["stdin"] = subprocess.DEVNULL
    out = subprocess.run(list(argv), capture_output=True, text=True, timeout=300, **kw)
    if check:
        assert out.returncode == 0, "%s failed: %s%s" % (" ".join(argv), out.stdout, out.stderr)
    return out


def host_network():
    """What the host's own namespace looks like: its addresses, routes and firewall."""
    iptables = run("iptables-save").stdout
    return {"ip addr": run("ip", "addr").stdout, "ip route": run("ip", "route").stdout,
            "iptables-save": "\n".join(l for l in iptables.splitlines() if not l.startswith("#"))}


def build_image(tag, version, workdir):
    """A FROM-scratch image of the static demo app that says `version`."""
    ctx = tempfile.mkdtemp(dir=workdir)
    shutil.copy(os.path.join(BIN, "slipway-demo-app-static"), os.path.join(ctx, "app"))
    with open(os.path.join(ctx, "Containerfile"), "w") as f:
        f.write('FROM scratch\nCOPY app /app\nENV DEMO_ANY_ADDR=1 APP_VERSION=%s\nENTRYPOINT ["/app"]\n' % version)
    run("buildah", "build", "--isolation", "chroot", "--quiet", "-t", tag, ctx)


def get(port, path="/"):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", path)
        resp = conn.getresponse()
        return resp.status, resp.read().decode()
    finally:
        conn.close()


def engine_podman(engine, *args, check=True):
    """podman as the engine runs it: its settings, inside its task namespace."""
    podman = os.path.join(engine.data_dir, "podman")
    return run("nsenter", "--net=%s/ns/net" % podman, "--mount=%s/ns/mnt" % podman, "podman", *args, check=check,
               env=dict(os.environ, CONTAINERS_CONF=os.path.join(podman, "containers.conf")))


def stop_engine(engine):
    """Stops the engine; if it could not clean up (a failed test may have left it hung or dead),
    removes its pods and namespaces so that nothing outlives the test, then deletes its files."""
    engine.slipway("engine", "stop", timeout=120)
    podman = os.path.join(engine.data_dir, "podman")
    if os.path.exists(os.path.join(podman, "ns", "net")):
        try:
            engine_podman(engine, "pod", "rm", "-f", "--all", check=False)
        except subprocess.TimeoutExpired:
            pass
        for mount in ("ns/net", "ns/mnt", "ns"):
            run("umount", "-l", os.path.join(podman, mount), check=False)
    engine.stop()


def leftover_containers(conf, engine_id):
    """Containers in the engine's podman database after it stopped (asking recreates podman's
    run-time directory, which this removes again)."""
    left = run("podman", "ps", "-a", "--format", "{{.Names}}", env=dict(os.environ, CONTAINERS_CONF=conf))
    shutil.rmtree("/run/slipway-podman-" + engine_id, ignore_errors=True)
    return left.stdout.split()


def podman_containers(engine, engine_id):
    """Names of the containers podman runs for the engine (by its label)."""
    out = engine_podman(engine, "ps", "--filter", "label=slipway.engine=" + engine_id, "--format", "{{.Names}}")
    return sorted(n for n in out.stdout.split() if n)


class ContainerReleaseTest(unittest.TestCase):
    """One engine running the demo from images, released v1 then v2 (tests run in name order)."""

    @classmethod
    def setUpClass(cls):
        cls.before = host_network()
        cls.engine = Engine()
        cls.engine.env["SLIPWAY_RUNTIME"] = "podman"
        cls.local = "localhost/slipway-e2e/demo-%s" % uuid.uuid4().hex[:8]
        try:
            cls.engine.start()
            with open(os.path.join(cls.engine.data_dir, "engine.json")) as f:
                assert json.load(f)["runtime"] == "podman", "the engine did not choose podman"
            with open(os.path.join(cls.engine.data_dir, "podman", "engine-id")) as f:
                cls.engine_id = f.read().strip()
            # Images go to the engine's ECR as a user pushes them, and tasks pull them from there.
            repo = cls.engine.aws("ecr", "create-repository", "--repository-name", "demo")["repository"]
            cls.tag = repo["repositoryUri"]
            registry = cls.tag.split("/")[0]
            password = subprocess.run([AWS, "--endpoint-url", cls.engine.endpoint, "ecr", "get-login-password"],
                                      env=cls.engine.env, capture_output=True, text=True, timeout=60).stdout.strip()
            authfile = os.path.join(cls.engine.dir, "auth.json")
            run("podman", "login", "--authfile", authfile, "--tls-verify=false", "--username", "AWS",
                "--password-stdin", registry, input=password)
            for version in ("v1", "v2", "v3"):
                build_image("%s:%s" % (cls.local, version), version, cls.engine.dir)
                run("podman", "push", "--authfile", authfile, "--tls-verify=false", "%s:%s" % (cls.local, version),
                    "%s:%s" % (cls.tag, version))
            # Every task of the service gets this secret, which no report or log may show.
            cls.secret = "pw-%s" % uuid.uuid4().hex
            cls.engine.client("ssm").put_parameter(Name="demo-db-password", Value=cls.secret, Type="SecureString")
            with open(os.path.join(cls.engine.dir, "container.taskdef.json"), "w") as f:
                json.dump(TASK_DEFINITION, f)
            cls.config = cls.engine.variant_config(
                "container.yaml", {"taskDefinition: web.taskdef.json": "taskDefinition: container.taskdef.json",
                                   "pinImages: false": "pinImages: true"})
        except BaseException:
            cls.tearDownClass()
            raise
        cls.ecs = cls.engine.client("ecs")

    @classmethod
    def tearDownClass(cls):
        stop_engine(cls.engine)
        for version in ("v1", "v2", "v3"):
            run("podman", "rmi", "-f", "%s:%s" % (cls.local, version), check=False)
            if hasattr(cls, "tag"):
                run("podman", "rmi", "-f", "%s:%s" % (cls.tag, version), check=False)

    def deploy(self, version, **extra):
        return self.engine.slipway("deploy", "dev", "--config", self.config,
                                   env=dict(IMAGE="%s:%s" % (self.tag, version), **extra), timeout=600)

    def running_tasks(self):
        arns = self.ecs.list_tasks(cluster=CLUSTER, serviceName=SERVICE, desiredStatus="RUNNING")["taskArns"]
        return self.ecs.describe_tasks(cluster=CLUSTER, tasks=arns)["tasks"] if arns else []

    def test_1_each_task_has_its_own_ip_and_listens_on_its_container_port(self):
        out = self.deploy("v1")
        self.assertEqual(out.returncode, 0, out.stdout + out.stderr)
        tasks = self.running_tasks()
        self.assertEqual(len(tasks), 2)
        ips = []
        for t in tasks:
            details = {d["name"]: d["value"] for d in t["attachments"][0]["details"]}
            ip = details["privateIPv4Address"]
            self.assertTrue(ip.startswith(TASK_SUBNET_PREFIX), ip)
            self.assertEqual(t["containers"][0]["networkInterfaces"][0]["privateIpv4Address"], ip)
            ips.append(ip)
        self.assertEqual(len(set(ips)), 2, ips)
        elb = self.engine.client("elbv2")
        tg = elb.describe_target_groups()["TargetGroups"][0]["TargetGroupArn"]
        targets = elb.describe_target_health(TargetGroupArn=tg)["TargetHealthDescriptions"]
        self.assertEqual(sorted((t["Target"]["Id"], t["Target"]["Port"]) for t in targets),
                         sorted((ip, 8080) for ip in ips))
        self.assertEqual(get(self.engine.listener_port), (200, "slipway demo v1\n"))
        # The task addresses exist only inside the engine's namespace: the host has no route there.
        self.assertNotIn(TASK_SUBNET_PREFIX, run("ip", "route").stdout)

    def test_1b_the_release_pinned_the_tag_to_its_digest_and_history_shows_it(self):
        repo = self.engine.aws("ecr", "describe-images", "--repository-name", "demo", "--image-ids", "imageTag=v1")
        digest = repo["imageDetails"][0]["imageDigest"]
        service = self.ecs.describe_services(cluster=CLUSTER, services=[SERVICE])["services"][0]
        td = self.ecs.describe_task_definition(taskDefinition=service["taskDefinition"])["taskDefinition"]
        self.assertEqual(td["containerDefinitions"][0]["image"], "%s@%s" % (self.tag, digest))
        for task in self.running_tasks():
            self.assertEqual(task["containers"][0]["image"], "%s@%s" % (self.tag, digest))
        history = self.engine.slipway("history", "dev", "--config", self.config)
        self.assertEqual(history.returncode, 0, history.stdout + history.stderr)
        self.assertIn(digest, history.stdout)

    def test_2_a_release_under_load_fails_no_request(self):
        with Load(self.engine.listener_port) as load:
            out = self.deploy("v2")
        self.assertEqual(out.returncode, 0, out.stdout + out.stderr)
        self.assertGreater(load.total, 100)
        self.assertEqual(load.failed(), 0, "codes %s errors %s" % (load.codes, load.errors[:5]))
        self.assertIn("slipway demo v2\n", load.bodies)
        self.assertEqual(get(self.engine.listener_port), (200, "slipway demo v2\n"))

    def test_3_the_host_network_is_untouched_while_the_engine_runs(self):
        self.assertEqual(host_network(), self.before)

    def test_4_a_new_image_tag_registered_through_boto3_serves(self):
        # As an unmodified ECS tool does it: a new revision with only the image changed.
        current = self.ecs.describe_services(cluster=CLUSTER, services=[SERVICE])["services"][0]["taskDefinition"]
        td = self.ecs.describe_task_definition(taskDefinition=current)["taskDefinition"]
        td["containerDefinitions"][0]["image"] = "%s:v3" % self.tag
        keep = ("family", "containerDefinitions", "networkMode", "cpu", "memory", "requiresCompatibilities")
        new = self.ecs.register_task_definition(**{k: td[k] for k in keep if k in td})["taskDefinition"]
        self.ecs.update_service(cluster=CLUSTER, service=SERVICE, taskDefinition=new["taskDefinitionArn"])
        deadline = time.time() + 180
        while time.time() < deadline:
            svc = self.ecs.describe_services(cluster=CLUSTER, services=[SERVICE])["services"][0]
            if len(svc["deployments"]) == 1 and svc["deployments"][0]["rolloutState"] == "COMPLETED":
                break
            time.sleep(0.5)
        self.assertEqual(svc["deployments"][0]["taskDefinition"], new["taskDefinitionArn"])
        # Every answer now comes from the new image.
        answers = {get(self.engine.listener_port) for _ in range(20)}
        self.assertEqual(answers, {(200, "slipway demo v3\n")}, [e["message"] for e in svc["events"][:8]])

    def test_5_a_sigkilled_engine_adopts_the_same_tasks_and_ips(self):
        deadline = time.time() + 120
        while time.time() < deadline:
            tasks = self.running_tasks()
            # The previous release's tasks may still be stopping: wait until podman runs only the
            # containers of the two running tasks, so the snapshot below cannot change on its own.
            ids = [t["taskArn"].rsplit("/", 1)[-1] for t in tasks]
            containers = podman_containers(self.engine, self.engine_id)
            if (len(tasks) == 2 and all(t["lastStatus"] == "RUNNING" for t in tasks) and containers
                    and all(any(i in name for i in ids) for name in containers)):
                break
            time.sleep(0.5)
        before = sorted((t["taskArn"], t["attachments"][0]["details"][2]["value"]) for t in tasks)
        pid = self.engine.pid
        os.kill(pid, signal.SIGKILL)
        deadline = time.time() + 10
        while not process_gone(pid) and time.time() < deadline:
            time.sleep(0.05)
        # The containers run on without the engine.
        self.assertEqual(podman_containers(self.engine, self.engine_id), containers)
        # A task that no longer exists left its cgroup: the next engine on the data dir removes it.
        hierarchy = "/sys/fs/cgroup/memory" if os.path.isdir("/sys/fs/cgroup/memory") else "/sys/fs/cgroup"
        gone = "%s/slipway-podman-%s/%s" % (hierarchy, self.engine_id, "0" * 32)
        os.makedirs(gone)
        self.engine.start()
        self.assertFalse(os.path.exists(gone), "a leftover cgroup of a task that no longer runs was kept")
        now = self.running_tasks()
        after = sorted((t["taskArn"], t["attachments"][0]["details"][2]["value"] if t["attachments"] else None)
                       for t in now)
        self.assertEqual(after, before, [(t["taskArn"], t["lastStatus"], t.get("stoppedReason")) for t in now])
        self.assertEqual(podman_containers(self.engine, self.engine_id), containers)  # adopted, not started again
        deadline = time.time() + 30
        status = None
        while time.time() < deadline:
            try:
                status = get(self.engine.listener_port)
                if status[0] == 200:
                    break
            except OSError:
                pass
            time.sleep(0.2)
        self.assertEqual(status, (200, "slipway demo v3\n"))

    def test_5b_a_planned_restart_keeps_the_tasks_and_drops_no_request(self):
        before = sorted(t["taskArn"] for t in self.running_tasks())
        with Load(self.engine.listener_port) as load:
            time.sleep(1)
            out = self.engine.slipway("engine", "restart")
            time.sleep(1)
        self.assertEqual(out.returncode, 0, out.stdout + out.stderr)
        self.assertEqual(load.failed(), 0, "codes %s errors %s" % (load.codes, load.errors[:5]))
        self.assertEqual(sorted(t["taskArn"] for t in self.running_tasks()), before)
        with open(os.path.join(self.engine.data_dir, "engine.json")) as f:
            self.assertEqual(json.load(f)["runtime"], "podman")

    def test_6_an_image_digest_that_does_not_exist_trips_the_breaker_and_rolls_back(self):
        missing = "%s@sha256:%s" % (self.tag, "0" * 64)
        # slipway's own preflight finds it missing before anything changes...
        out = self.engine.slipway("deploy", "dev", "--config", self.config, env=dict(IMAGE=missing), timeout=600)
        self.assertEqual(out.returncode, 1, out.stdout + out.stderr)
        self.assertIn("%s: not found in %s; no service was changed" % (missing, self.tag.split("/")[0]), out.stderr)
        # ...and a release that skips it meets the engine's pull failure, as a tool without one would.
        unpinned = self.engine.variant_config("unpinned.yaml", {
            "taskDefinition: web.taskdef.json": "taskDefinition: container.taskdef.json"})
        out = self.engine.slipway("deploy", "dev", "--config", unpinned, env=dict(IMAGE=missing), timeout=600)
        self.assertEqual(out.returncode, 1, out.stdout + out.stderr)
        self.assertIn("CannotPullContainerError", out.stdout + out.stderr)
        self.assertIn("circuit breaker", out.stdout + out.stderr)
        # Back on the last revision slipway released and verified (v2), not the one test 4 set by hand.
        self.assertEqual(get(self.engine.listener_port), (200, "slipway demo v2\n"))

    def test_6b_a_failed_release_reports_the_crash_and_never_the_secret(self):
        out = self.deploy("v3", DEMO_FAIL="crash")
        report = out.stdout + out.stderr
        self.assertEqual(out.returncode, 1, report)
        self.assertIn("DEMO_FAIL=crash: exiting at start", report)  # the crashed task's own log
        self.assertNotIn(self.secret, report)
        for command in ("diagnose", "logs"):
            shown = self.engine.slipway(command, "dev", "--config", self.config)
            self.assertEqual(shown.returncode, 0, shown.stdout + shown.stderr)
            self.assertIn("DEMO_FAIL=crash", shown.stdout, command)
            self.assertNotIn(self.secret, shown.stdout + shown.stderr, command)
        self.assertEqual(get(self.engine.listener_port), (200, "slipway demo v2\n"))

    def test_6c_an_image_built_for_arm64_is_refused_before_anything_is_registered(self):
        # Built for arm64 beforehand and named by tag, as another team's image would be. FROM
        # scratch with a copied file needs no emulation to build.
        ctx = tempfile.mkdtemp(dir=self.engine.dir)
        shutil.copy(os.path.join(BIN, "slipway-demo-app-static"), os.path.join(ctx, "app"))
        with open(os.path.join(ctx, "Containerfile"), "w") as f:
            f.write('FROM scratch\nCOPY app /app\nENTRYPOINT ["/app"]\n')
        local = "%s:arm64" % self.local
        run("buildah", "build", "--isolation", "chroot", "--quiet", "--platform", "linux/arm64", "-t", local, ctx)
        try:
            run("podman", "push", "--authfile", os.path.join(self.engine.dir, "auth.json"), "--tls-verify=false",
                local, "%s:arm64" % self.tag)
        finally:
            run("podman", "rmi", "-f", local, check=False)
        revisions = self.ecs.list_task_definitions(familyPrefix="ctr-web")["taskDefinitionArns"]
        out = self.engine.slipway("deploy", "dev", "--config", self.config,
                                  env=dict(IMAGE="%s:arm64" % self.tag), timeout=600)
        self.assertEqual(out.returncode, 2, out.stdout + out.stderr)
        self.assertIn("%s:arm64 is built for linux/arm64, but the task definition's runtimePlatform needs "
                      "linux/amd64" % self.tag, out.stderr)
        self.assertIn("no service was changed", out.stderr)
        self.assertEqual(self.ecs.list_task_definitions(familyPrefix="ctr-web")["taskDefinitionArns"], revisions)
        self.assertEqual(get(self.engine.listener_port), (200, "slipway demo v2\n"))

    def test_7_a_task_reaches_another_service_through_the_load_balancer_dns_name(self):
        elb = self.engine.client("elbv2")
        dns = elb.describe_load_balancers(Names=["demo-dev"])["LoadBalancers"][0]["DNSName"]
        self.assertTrue(dns.startswith("demo-dev-") and dns.endswith(".elb.localhost"), dns)
        url = "http://%s:%d/" % (dns, self.engine.listener_port)
        current = self.ecs.describe_services(cluster=CLUSTER, services=[SERVICE])["services"][0]["taskDefinition"]
        td = self.ecs.describe_task_definition(taskDefinition=current)["taskDefinition"]
        client = dict(td["containerDefinitions"][0], name="client", command=["sidecar", url], portMappings=[])
        arn = self.ecs.register_task_definition(
            family="ctr-client", networkMode="awsvpc", requiresCompatibilities=["FARGATE"], cpu="256", memory="512",
            containerDefinitions=[client])["taskDefinition"]["taskDefinitionArn"]
        task = self.ecs.run_task(cluster=CLUSTER, taskDefinition=arn)["tasks"][0]["taskArn"]
        logs = self.engine.client("logs")
        stream = "web/client/" + task.rsplit("/", 1)[1]
        deadline, lines = time.time() + 60, []
        while time.time() < deadline and not any(" -> 200 " in l for l in lines):
            time.sleep(0.5)
            try:
                lines = [e["message"] for e in logs.get_log_events(
                    logGroupName="/ecs/demo", logStreamName=stream, startFromHead=True)["events"]]
            except logs.exceptions.ResourceNotFoundException:
                pass
        self.assertIn("sidecar: GET %s -> 200 slipway demo v2" % url, lines)
        self.ecs.stop_task(cluster=CLUSTER, task=task)

    def test_8_a_rollback_runs_exactly_the_digest_v1_was_released_with(self):
        v1 = self.engine.aws("ecr", "describe-images", "--repository-name", "demo",
                             "--image-ids", "imageTag=v1")["imageDetails"][0]["imageDigest"]
        # Retagging v1 afterwards must not matter: the rollback runs the pinned digest, not the tag.
        run("podman", "push", "--authfile", os.path.join(self.engine.dir, "auth.json"), "--tls-verify=false",
            "%s:v3" % self.local, "%s:v1" % self.tag)
        out = self.engine.slipway("rollback", "dev", "--config", self.config, timeout=600)
        self.assertEqual(out.returncode, 0, out.stdout + out.stderr)
        images = {c["image"] for t in self.running_tasks() for c in t["containers"]}
        self.assertEqual(images, {"%s@%s" % (self.tag, v1)})
        self.assertEqual(get(self.engine.listener_port), (200, "slipway demo v1\n"))

    def test_9_stopping_the_engine_removes_every_trace(self):
        data_dir = self.engine.data_dir
        out = self.engine.slipway("engine", "stop")
        self.assertEqual(out.returncode, 0, out.stdout + out.stderr)
        with open("/proc/self/mountinfo") as f:
            self.assertNotIn(data_dir, f.read())
        # Nor cgroups, nor podman's run-time directory.
        self.assertEqual([c for c in os.listdir("/sys/fs/cgroup") if os.path.exists(
            "/sys/fs/cgroup/%s/slipway-podman-%s" % (c, self.engine_id))], [])
        self.assertFalse(os.path.exists("/run/slipway-podman-" + self.engine_id))
        conf = os.path.join(data_dir, "podman", "containers.conf")
        self.assertEqual(leftover_containers(conf, self.engine_id), [])
        self.assertFalse(os.path.exists(os.path.join(data_dir, "podman", "networks", "slipway-%s.json" % self.engine_id)))
        self.assertEqual(host_network(), self.before)


class ContainerSemanticsTest(unittest.TestCase):
    """Standalone tasks (RunTask) exercising what ECS documents for containers."""

    @classmethod
    def setUpClass(cls):
        cls.engine = Engine()
        cls.engine.env["SLIPWAY_RUNTIME"] = "podman"
        cls.image = "localhost/slipway-e2e/sem-%s:v1" % uuid.uuid4().hex[:8]
        try:
            build_image(cls.image, "v1", cls.engine.dir)
            cls.engine.start()
            cls.ecs = cls.engine.client("ecs")
            cls.logs = cls.engine.client("logs")
            cls.ecs.create_cluster(clusterName="sem")
            cls.logs.create_log_group(logGroupName="/ecs/sem")
        except BaseException:
            cls.tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls):
        stop_engine(cls.engine)
        run("podman", "rmi", "-f", cls.image, check=False)

    def container(self, name, **fields):
        c = {"name": name, "image": self.image, "essential": True,
             "logConfiguration": {"logDriver": "awslogs", "options": {
                 "awslogs-group": "/ecs/sem", "awslogs-region": "us-east-1", "awslogs-stream-prefix": "sem"}}}
        c.update(fields)
        return c

    def run_task(self, *containers, memory="512"):
        family = "sem-%s" % uuid.uuid4().hex[:8]
        td = self.ecs.register_task_definition(
            family=family, networkMode="awsvpc", requiresCompatibilities=["FARGATE"], cpu="256", memory=memory,
            containerDefinitions=list(containers))["taskDefinition"]
        out = self.ecs.run_task(cluster="sem", taskDefinition=td["taskDefinitionArn"], launchType="FARGATE")
        self.assertEqual(out["failures"], [])
        return out["tasks"][0]["taskArn"]

    def wait(self, arn, done, timeout=120):
        deadline = time.time() + timeout
        while True:
            task = self.ecs.describe_tasks(cluster="sem", tasks=[arn])["tasks"][0]
            if done(task) or time.time() > deadline:
                return task
            time.sleep(0.3)

    def log_lines(self, task_arn, container):
        stream = "sem/%s/%s" % (container, task_arn.rsplit("/", 1)[1])
        try:
            events = self.logs.get_log_events(logGroupName="/ecs/sem", logStreamName=stream,
                                              startFromHead=True)["events"]
        except self.logs.exceptions.ResourceNotFoundException:
            return []
        return [e["message"] for e in events]

    def test_a_sidecar_waits_for_its_healthy_app_and_the_task_stops_when_the_app_exits(self):
        app = self.container("app", portMappings=[{"containerPort": 8080}], healthCheck={
            "command": ["CMD", "/app", "check", "http://localhost:8080/healthz"],
            "interval": 5, "timeout": 2, "retries": 3, "startPeriod": 0})
        sidecar = self.container("sidecar", essential=False, command=["sidecar", "http://localhost:8080/"],
                                 dependsOn=[{"containerName": "app", "condition": "HEALTHY"}])
        arn = self.run_task(app, sidecar)
        task = self.wait(arn, lambda t: t["healthStatus"] == "HEALTHY" and t["lastStatus"] == "RUNNING")
        self.assertEqual((task["lastStatus"], task["healthStatus"]), ("RUNNING", "HEALTHY"), task)
        deadline = time.time() + 30
        while not self.log_lines(arn, "sidecar") and time.time() < deadline:
            time.sleep(0.3)
        lines = self.log_lines(arn, "sidecar")
        # It started only once the app was healthy, so its very first request, over the task's
        # shared localhost, already reached the app.
        self.assertTrue(lines, "the sidecar never logged")
        self.assertEqual(lines[0], "sidecar: GET http://localhost:8080/ -> 200 slipway demo v1")
        # The essential app ends: the whole task stops, the sidecar with it.
        engine_podman(self.engine, "kill", "--signal", "KILL", "sw-%s-app" % arn.rsplit("/", 1)[1])
        task = self.wait(arn, lambda t: t["lastStatus"] == "STOPPED")
        self.assertEqual(task["lastStatus"], "STOPPED")
        self.assertEqual(task["stoppedReason"], "Essential container in task exited")
        self.assertEqual(task["stopCode"], "EssentialContainerExited")
        exits = {c["name"]: c.get("exitCode") for c in task["containers"]}
        self.assertEqual(exits["app"], 137)
        self.assertEqual(exits["sidecar"], 0)  # stopped with SIGTERM, which it handles

    def test_a2_containers_stop_in_reverse_dependency_order(self):
        app = self.container("app", portMappings=[{"containerPort": 8080}])
        sidecar = self.container("sidecar", command=["sidecar", "http://localhost:8080/"],
                                 dependsOn=[{"containerName": "app", "condition": "START"}])
        arn = self.run_task(app, sidecar)
        self.wait(arn, lambda t: t["lastStatus"] == "RUNNING" and
                  any(l.endswith("-> 200 slipway demo v1") for l in self.log_lines(arn, "sidecar")), 60)
        self.ecs.stop_task(cluster="sem", task=arn, reason="test")
        task = self.wait(arn, lambda t: t["lastStatus"] == "STOPPED")
        self.assertEqual({c["name"]: c.get("exitCode") for c in task["containers"]}, {"app": 0, "sidecar": 0}, task)
        # The sidecar depends on the app, so it stops first. Its last request, made 300 ms after it
        # was told to stop, still reached an app that had not been told yet.
        deadline = time.time() + 20
        while time.time() < deadline and not any("SIGTERM received" in l for l in self.log_lines(arn, "app")):
            time.sleep(0.3)
        last = [l for l in self.log_lines(arn, "sidecar") if l.startswith("sidecar: stopping")]
        self.assertEqual(last, ["sidecar: stopping; last GET http://localhost:8080/ -> 200 slipway demo v1"])
        self.assertTrue(any("SIGTERM received" in l for l in self.log_lines(arn, "app")), "the app was never stopped")

    def test_a3_a_task_stopped_while_pending_stops_its_running_containers_gracefully(self):
        # The sidecar waits for a health check that keeps failing, so the task stays PENDING with
        # its app running.
        app = self.container("app", portMappings=[{"containerPort": 8080}], healthCheck={
            "command": ["CMD", "/app", "check", "http://localhost:8080/nowhere"],
            "interval": 5, "timeout": 2, "retries": 10, "startPeriod": 0})
        sidecar = self.container("sidecar", command=["sidecar", "http://localhost:8080/"],
                                 dependsOn=[{"containerName": "app", "condition": "HEALTHY"}])
        arn = self.run_task(app, sidecar)
        task = self.wait(arn, lambda t: any(c["name"] == "app" and c["lastStatus"] == "RUNNING" for c in t["containers"]) and
                         any("starting on port" in l for l in self.log_lines(arn, "app")), 60)
        self.assertEqual(task["lastStatus"], "PENDING")
        self.ecs.stop_task(cluster="sem", task=arn, reason="test")
        task = self.wait(arn, lambda t: t["lastStatus"] == "STOPPED")
        exits = {c["name"]: c.get("exitCode") for c in task["containers"]}
        # Its stop signal, not SIGKILL (137): the app drained and exited 0. The sidecar never ran.
        self.assertEqual(exits, {"app": 0, "sidecar": None}, task)

    def whoami(self, arn):
        task = self.wait(arn, lambda t: t["lastStatus"] in ("RUNNING", "STOPPED"))
        self.assertEqual(task["lastStatus"], "RUNNING", task.get("stoppedReason"))
        ip = task["containers"][0]["networkInterfaces"][0]["privateIpv4Address"]
        podman = os.path.join(self.engine.data_dir, "podman")
        deadline = time.time() + 30
        while True:
            out = run("nsenter", "--net=%s/ns/net" % podman, "curl", "-s", "--max-time", "2",
                      "http://%s:8080/whoami" % ip, check=False)
            if out.stdout.startswith("uid=") or time.time() > deadline:
                self.ecs.stop_task(cluster="sem", task=arn)
                return out.stdout.strip()
            time.sleep(0.3)

    def test_a4_user_and_a_read_only_root_file_system_apply(self):
        plain = self.run_task(self.container("app", portMappings=[{"containerPort": 8080}]))
        self.assertEqual(self.whoami(plain), "uid=0 gid=0 rootfs=writable")
        locked = self.run_task(self.container("app", portMappings=[{"containerPort": 8080}], user="1234:5678",
                                              readonlyRootFilesystem=True))
        self.assertEqual(self.whoami(locked), "uid=1234 gid=5678 rootfs=read-only")

    def test_a5_the_images_stopsignal_is_what_stops_it(self):
        # The app has no SIGTERM handler (as PID 1 it would ignore SIGTERM and wait for SIGKILL),
        # but it handles SIGINT, which its image names as STOPSIGNAL.
        ctx = tempfile.mkdtemp(dir=self.engine.dir)
        shutil.copy(os.path.join(BIN, "slipway-demo-app-static"), os.path.join(ctx, "app"))
        with open(os.path.join(ctx, "Containerfile"), "w") as f:
            f.write('FROM scratch\nCOPY app /app\nENV DEMO_ANY_ADDR=1\nSTOPSIGNAL SIGINT\nENTRYPOINT ["/app"]\n')
        image = self.image.replace(":v1", ":sigint")
        run("buildah", "build", "--isolation", "chroot", "--quiet", "-t", image, ctx)
        try:
            arn = self.run_task(self.container("app", image=image, stopTimeout=60,
                                               environment=[{"name": "DEMO_FAIL", "value": "no-sigterm"}]))
            self.assertEqual(self.wait(arn, lambda t: t["lastStatus"] == "RUNNING")["lastStatus"], "RUNNING")
            self.wait(arn, lambda t: any("no SIGTERM handler" in l for l in self.log_lines(arn, "app")), 20)
            self.ecs.stop_task(cluster="sem", task=arn, reason="test")
            task = self.wait(arn, lambda t: t["lastStatus"] == "STOPPED", timeout=90)
            self.assertEqual(task["containers"][0].get("exitCode"), 0, task)  # drained, not killed at 60 s
        finally:
            run("podman", "rmi", "-f", image, check=False)

    def test_b_a_container_past_its_memory_limit_is_oom_killed(self):
        arn = self.run_task(self.container("hog", memory=64, environment=[{"name": "DEMO_FAIL", "value": "oom"}]))
        task = self.wait(arn, lambda t: t["lastStatus"] == "STOPPED")
        self.assertEqual(task["lastStatus"], "STOPPED")
        c = task["containers"][0]
        self.assertEqual(c.get("reason"), "OutOfMemoryError: Container killed due to memory usage", task)
        self.assertEqual(c.get("exitCode"), 137)

    def test_c_a_container_ignoring_sigterm_is_killed_after_its_stop_timeout_and_init_stops_it_at_once(self):
        no_handler = [{"name": "DEMO_FAIL", "value": "no-sigterm"}]
        stubborn = self.run_task(self.container("app", stopTimeout=3, environment=no_handler))
        with_init = self.run_task(self.container("app", stopTimeout=3, environment=no_handler,
                                                 linuxParameters={"initProcessEnabled": True}))
        for arn in (stubborn, with_init):
            self.assertEqual(self.wait(arn, lambda t: t["lastStatus"] == "RUNNING")["lastStatus"], "RUNNING")
            self.wait(arn, lambda t: any("no SIGTERM handler" in l for l in self.log_lines(arn, "app")), 20)
            self.ecs.stop_task(cluster="sem", task=arn, reason="test")
        stopped = {arn: self.wait(arn, lambda t: t["lastStatus"] == "STOPPED") for arn in (stubborn, with_init)}
        # As PID 1 with no handler it ignores SIGTERM, so it dies by SIGKILL, after stopTimeout.
        t = stopped[stubborn]
        self.assertEqual(t["containers"][0].get("exitCode"), 137, t)
        self.assertGreaterEqual((t["stoppedAt"] - t["stoppingAt"]).total_seconds(), 3)
        # Under an init process SIGTERM reaches it and its default action ends it.
        self.assertEqual(stopped[with_init]["containers"][0].get("exitCode"), 143, stopped[with_init])

    def test_c2_ulimits_past_the_hosts_limit_are_lowered_and_the_log_says_so(self):
        huge = 1 << 30  # past any host's hard limit for open files
        arn = self.run_task(self.container("app", ulimits=[{"name": "nofile", "softLimit": huge, "hardLimit": huge}]))
        task = self.wait(arn, lambda t: t["lastStatus"] in ("RUNNING", "STOPPED"))
        self.assertEqual(task["lastStatus"], "RUNNING", task.get("stoppedReason"))
        deadline, lines = time.time() + 20, []
        while time.time() < deadline and not any("ulimit nofile" in l for l in lines):
            time.sleep(0.3)
            lines = self.log_lines(arn, "app")
        notes = [l for l in lines if "ulimit nofile" in l]
        self.assertTrue(notes and notes[0].startswith("slipway: ulimit nofile %d:%d lowered to " % (huge, huge)), lines)
        self.ecs.stop_task(cluster="sem", task=arn)

    def test_c3_a_missing_working_directory_is_created_inside_the_image_only(self):
        # An image whose /evil is a symlink to a host path: the working directory under it must be
        # made inside the container's file system, never on the host.
        escape = "/tmp/slipway-escape-%s" % uuid.uuid4().hex[:8]
        ctx = tempfile.mkdtemp(dir=self.engine.dir)
        shutil.copy(os.path.join(BIN, "slipway-demo-app-static"), os.path.join(ctx, "app"))
        os.mkdir(os.path.join(ctx, "root"))
        os.symlink(escape, os.path.join(ctx, "root", "evil"))  # copied as a link inside a directory
        with open(os.path.join(ctx, "Containerfile"), "w") as f:
            f.write('FROM scratch\nCOPY app /app\nCOPY root/ /\nENV DEMO_ANY_ADDR=1\nENTRYPOINT ["/app"]\n')
        image = self.image.replace(":v1", ":evil")
        run("buildah", "build", "--isolation", "chroot", "--quiet", "-t", image, ctx)
        try:
            plain = self.run_task(self.container("app", workingDirectory="/srv/app/data"))
            task = self.wait(plain, lambda t: t["lastStatus"] in ("RUNNING", "STOPPED"))
            self.assertEqual(task["lastStatus"], "RUNNING", task.get("stoppedReason"))
            self.ecs.stop_task(cluster="sem", task=plain)
            # The link resolves within the image, where its target does not exist: the task fails
            # to start, and nothing appears on the host.
            evil = self.run_task(self.container("app", image=image, workingDirectory="/evil/work"))
            task = self.wait(evil, lambda t: t["lastStatus"] == "STOPPED")
            self.assertTrue(task.get("stoppedReason", "").startswith("CannotStartContainerError: working directory"),
                            task.get("stoppedReason"))
            self.assertFalse(os.path.exists(escape), "a directory was made on the host")
        finally:
            run("podman", "rmi", "-f", image, check=False)

    def test_c4_an_image_that_looks_like_a_podman_flag_is_refused(self):
        arn = self.run_task(self.container("app", image="--volume=/:/host"))
        task = self.wait(arn, lambda t: t["lastStatus"] == "STOPPED")
        self.assertEqual(task["stoppedReason"], "CannotPullContainerError: invalid reference format: --volume=/:/host")

    def test_d_a_secret_reaches_the_container_and_nowhere_else(self):
        value = "s3cr3t-%s" % uuid.uuid4().hex
        sm = self.engine.client("secretsmanager")
        secret = sm.create_secret(Name="sem/db-%s" % uuid.uuid4().hex[:6], SecretString=value)["ARN"]
        arn = self.run_task(self.container("app", portMappings=[{"containerPort": 8080}],
                                           secrets=[{"name": "DB_PASSWORD", "valueFrom": secret}]))
        task = self.wait(arn, lambda t: t["lastStatus"] == "RUNNING")
        ip = task["containers"][0]["networkInterfaces"][0]["privateIpv4Address"]
        podman = os.path.join(self.engine.data_dir, "podman")
        deadline, seen = time.time() + 30, None
        while time.time() < deadline:
            out = run("nsenter", "--net=%s/ns/net" % podman, "curl", "-s", "--max-time", "2",
                      "http://%s:8080/env/DB_PASSWORD" % ip, check=False)
            seen = out.stdout
            if seen == value:
                break
            time.sleep(0.3)
        self.assertEqual(seen, value)
        described = json.dumps(self.ecs.describe_tasks(cluster="sem", tasks=[arn]), default=str)
        self.assertNotIn(value, described)
        self.assertFalse(any(value in l for l in self.log_lines(arn, "app")))
        for name in ("engine.db", "engine.db-wal", "logs.db", "logs.db-wal", "engine.log"):
            path = os.path.join(self.engine.data_dir, name)
            if os.path.exists(path):
                with open(path, "rb") as f:
                    self.assertNotIn(value.encode(), f.read(), name)
        self.ecs.stop_task(cluster="sem", task=arn)

    def test_e2_a_registry_that_is_down_or_refuses_the_engine_stops_the_task_with_cannot_pull(self):
        # Down: nothing listens on the port.
        down = self.run_task(self.container("app", image="127.0.0.1:%d/sem/app:v1" % free_port()))
        # Refusing: a registry of its own, with credentials the engine does not have.
        workdir = tempfile.mkdtemp(dir=self.engine.dir)
        port = free_port()
        with open(os.path.join(workdir, "htpasswd"), "w") as f:
            f.write(run("htpasswd", "-Bbn", "someone", "not-the-engine").stdout)
        with open(os.path.join(workdir, "config.yml"), "w") as f:
            f.write("version: 0.1\nstorage:\n  filesystem:\n    rootdirectory: %s/data\n"
                    "http:\n  addr: 127.0.0.1:%d\nauth:\n  htpasswd:\n    realm: test\n    path: %s/htpasswd\n"
                    % (workdir, port, workdir))
        registry = subprocess.Popen(["docker-registry", "serve", os.path.join(workdir, "config.yml")],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            authfile = os.path.join(workdir, "auth.json")
            deadline = time.time() + 30
            while run("podman", "login", "--authfile", authfile, "--tls-verify=false", "-u", "someone",
                      "-p", "not-the-engine", "127.0.0.1:%d" % port, check=False).returncode != 0:
                self.assertLess(time.time(), deadline, "the test registry did not come up")
                time.sleep(0.3)
            private = "127.0.0.1:%d/sem/app:v1" % port
            run("podman", "push", "--authfile", authfile, "--tls-verify=false", self.image, private)
            refused = self.run_task(self.container("app", image=private))
            for arn in (down, refused):
                task = self.wait(arn, lambda t: t["lastStatus"] == "STOPPED", timeout=180)
                self.assertEqual(task["lastStatus"], "STOPPED")
                self.assertTrue(task["stoppedReason"].startswith(
                    "CannotPullContainerError: pull image manifest has been retried"), task["stoppedReason"])
                self.assertEqual(task["stopCode"], "TaskFailedToStart")
            self.assertIn("authentication required", self.ecs.describe_tasks(cluster="sem", tasks=[refused])
                          ["tasks"][0]["stoppedReason"])
        finally:
            registry.terminate()
            registry.wait(30)

    def test_z_stopping_the_engine_leaves_no_container_cgroup_or_run_dir(self):
        with open(os.path.join(self.engine.data_dir, "podman", "engine-id")) as f:
            engine_id = f.read().strip()
        conf = os.path.join(self.engine.data_dir, "podman", "containers.conf")
        out = self.engine.slipway("engine", "stop")
        self.assertEqual(out.returncode, 0, out.stdout + out.stderr)
        self.assertEqual([c for c in os.listdir("/sys/fs/cgroup")
                          if os.path.exists("/sys/fs/cgroup/%s/slipway-podman-%s" % (c, engine_id))], [])
        self.assertFalse(os.path.exists("/run/slipway-podman-" + engine_id))
        self.assertEqual(leftover_containers(conf, engine_id), [])

    def test_e_a_missing_secret_stops_the_task_with_resource_initialization_error(self):
        missing = "arn:aws:secretsmanager:us-east-1:000000000000:secret:sem/nope-AbCdEf"
        arn = self.run_task(self.container("app", secrets=[{"name": "X", "valueFrom": missing}]))
        task = self.wait(arn, lambda t: t["lastStatus"] == "STOPPED")
        self.assertEqual(task["lastStatus"], "STOPPED")
        self.assertTrue(task["stoppedReason"].startswith("ResourceInitializationError: "), task["stoppedReason"])
        self.assertEqual(task["stopCode"], "TaskFailedToStart")


if __name__ == "__main__":
    unittest.main(verbosity=2)
