"""End-to-end: slipway releases the demo through the engine; real AWS clients read the result."""
import json
import subprocess
import time
import unittest
import urllib.request

import boto3
import botocore.exceptions

from harness import AWS, Load, ReleasedEngineTest


class ReleaseTest(ReleasedEngineTest):
    def get(self, path="/"):
        with urllib.request.urlopen("http://127.0.0.1:%d%s" % (self.engine.listener_port, path), timeout=5) as r:
            return r.status, r.read().decode()

    def running_tasks(self):
        arns = self.engine.aws("ecs", "list-tasks", "--cluster", "demo-dev", "--service-name", "demo-dev-web")["taskArns"]
        if not arns:
            return []
        return self.engine.aws("ecs", "describe-tasks", "--cluster", "demo-dev", "--tasks", *arns)["tasks"]

    def test_1_release_under_load_drops_no_request(self):
        # Given v1 serving and continuous load from keep-alive and reconnecting clients.
        self.assertEqual(self.get(), (200, "slipway demo v1\n"))
        with Load(self.engine.listener_port) as load:
            time.sleep(0.5)
            out = self.engine.deploy("v2")
            time.sleep(0.5)
        # Then the release succeeded and every request got a 2xx.
        self.assertEqual(out.returncode, 0, out.stdout + out.stderr)
        self.assertIn("released dev", out.stdout)
        self.assertGreater(load.total, 200)
        self.assertEqual(load.failed(), 0, "codes=%s errors=%s" % (load.codes, load.errors[:5]))
        # And responses switched from v1 to v2.
        self.assertIn("slipway demo v1\n", load.bodies)
        self.assertEqual(load.bodies[-1], "slipway demo v2\n")
        first_v2 = load.bodies.index("slipway demo v2\n")
        self.assertGreater(first_v2, 0)
        # And exactly 2 tasks run, all on the new revision.
        svc = self.engine.aws("ecs", "describe-services", "--cluster", "demo-dev", "--services", "demo-dev-web")["services"][0]
        tasks = self.running_tasks()
        self.assertEqual(len(tasks), 2)
        self.assertEqual({t["taskDefinitionArn"] for t in tasks}, {svc["taskDefinition"]})
        td = self.engine.aws("ecs", "describe-task-definition", "--task-definition", svc["taskDefinition"])
        env = {e["name"]: e["value"] for e in td["taskDefinition"]["containerDefinitions"][0]["environment"]}
        self.assertEqual(env["APP_VERSION"], "v2")

    def test_2_aws_cli_reads_services_tasks_and_target_health(self):
        svc = self.engine.aws("ecs", "describe-services", "--cluster", "demo-dev", "--services", "demo-dev-web")["services"][0]
        self.assertEqual(svc["status"], "ACTIVE")
        self.assertEqual((svc["desiredCount"], svc["runningCount"]), (2, 2))
        self.assertEqual(len(svc["deployments"]), 1)
        self.assertEqual(svc["deployments"][0]["rolloutState"], "COMPLETED")
        messages = [e["message"] for e in svc["events"]]
        self.assertIn("(service demo-dev-web) has reached a steady state.", messages)
        self.assertTrue(any(m.startswith("(service demo-dev-web) has started 2 tasks: (task ") for m in messages))
        tasks = self.running_tasks()
        self.assertEqual([t["lastStatus"] for t in tasks], ["RUNNING", "RUNNING"])
        ports = sorted(t["containers"][0]["networkBindings"][0]["hostPort"] for t in tasks)
        tg_arn = svc["loadBalancers"][0]["targetGroupArn"]
        health = self.engine.aws("elbv2", "describe-target-health", "--target-group-arn", tg_arn)["TargetHealthDescriptions"]
        healthy = sorted(h["Target"]["Port"] for h in health if h["TargetHealth"]["State"] == "healthy")
        self.assertEqual(healthy, ports)
        # The CLI's own waiter: services-stable returns 0 on a settled service.
        self.engine.aws("ecs", "wait", "services-stable", "--cluster", "demo-dev", "--services", "demo-dev-web")

    def test_3_boto3_creates_a_service_that_reaches_steady_state(self):
        session = boto3.session.Session(aws_access_key_id=None, region_name="us-east-1")
        creds = open(self.engine.env["AWS_SHARED_CREDENTIALS_FILE"]).read().split()
        key, secret = creds[creds.index("aws_access_key_id") + 2], creds[creds.index("aws_secret_access_key") + 2]
        ecs = session.client("ecs", endpoint_url=self.engine.endpoint, aws_access_key_id=key, aws_secret_access_key=secret)
        ecs.create_cluster(clusterName="boto")
        td = ecs.register_task_definition(
            family="boto-worker",
            containerDefinitions=[{"name": "worker", "image": "busybox", "essential": True,
                                   "entryPoint": ["/bin/sleep"], "command": ["600"]}])["taskDefinition"]
        self.assertEqual(td["revision"], 1)
        ecs.create_service(cluster="boto", serviceName="worker", taskDefinition="boto-worker", desiredCount=2)
        ecs.get_waiter("services_stable").wait(cluster="boto", services=["worker"],
                                               WaiterConfig={"Delay": 1, "MaxAttempts": 60})
        svc = ecs.describe_services(cluster="boto", services=["worker"])["services"][0]
        self.assertEqual(svc["runningCount"], 2)
        with self.assertRaises(botocore.exceptions.ClientError) as err:
            ecs.describe_services(cluster="no-such-cluster", services=["x"])
        self.assertEqual(err.exception.response["Error"]["Code"], "ClusterNotFoundException")

    def test_4_unsigned_and_badly_signed_requests_get_aws_errors(self):
        req = urllib.request.Request(self.engine.endpoint + "/", data=b"{}", method="POST", headers={
            "X-Amz-Target": "AmazonEC2ContainerServiceV20141113.ListClusters",
            "Content-Type": "application/x-amz-json-1.1"})
        with self.assertRaises(urllib.error.HTTPError) as err:
            urllib.request.urlopen(req, timeout=5)
        self.assertEqual(err.exception.code, 403)
        self.assertEqual(json.loads(err.exception.read())["__type"], "MissingAuthenticationTokenException")
        ecs = boto3.client("ecs", endpoint_url=self.engine.endpoint, region_name="us-east-1",
                           aws_access_key_id="AKIAWRONGWRONGWRONG0", aws_secret_access_key="x" * 40)
        with self.assertRaises(botocore.exceptions.ClientError) as bad:
            ecs.list_services(cluster="demo-dev")
        self.assertEqual(bad.exception.response["Error"]["Code"], "UnrecognizedClientException")

    def test_5_config_error_exits_2_naming_file_line_and_key(self):
        with open(self.engine.config) as f:
            text = f.read()
        bad = self.engine.config.replace("slipway.yaml", "bad.yaml")
        with open(bad, "w") as f:
            f.write(text.replace("desiredCount: 2", "desiredCount: lots"))
        out = self.engine.slipway("deploy", "dev", "--config", bad)
        self.assertEqual(out.returncode, 2)
        self.assertRegex(out.stderr, r"bad\.yaml:\d+: environments\.dev\.services\.web\.desiredCount: must be an integer")

    def test_6_engine_status_reports_endpoint_and_credentials(self):
        out = self.engine.slipway("engine", "status", "--output", "json")
        self.assertEqual(out.returncode, 0)
        st = json.loads(out.stdout)
        self.assertTrue(st["running"])
        self.assertEqual(st["endpoint"], self.engine.endpoint)
        self.assertEqual(st["profile"], "slipway-local")

    def test_7_container_health_checks_mark_tasks_and_replace_unhealthy_ones(self):
        ecs = self.engine.client("ecs")
        ecs.create_cluster(clusterName="health")
        for name, command in (("good", ["CMD", "/bin/true"]), ("bad", ["CMD-SHELL", "test -f /nonexistent"])):
            ecs.register_task_definition(family="health-" + name, containerDefinitions=[{
                "name": "app", "image": "busybox", "essential": True, "entryPoint": ["/bin/sleep"], "command": ["600"],
                "healthCheck": {"command": command, "interval": 5, "timeout": 2, "retries": 1, "startPeriod": 0}}])
            ecs.create_service(cluster="health", serviceName=name, taskDefinition="health-" + name, desiredCount=1)
        deadline = time.time() + 60
        good_status, bad_stopped = None, None
        while time.time() < deadline and (good_status != "HEALTHY" or bad_stopped is None):
            good = ecs.list_tasks(cluster="health", serviceName="good")["taskArns"]
            if good:
                good_status = ecs.describe_tasks(cluster="health", tasks=good)["tasks"][0]["healthStatus"]
            stopped = ecs.list_tasks(cluster="health", serviceName="bad", desiredStatus="STOPPED")["taskArns"]
            if stopped:
                bad_stopped = ecs.describe_tasks(cluster="health", tasks=stopped)["tasks"][0]
            time.sleep(0.5)
        self.assertEqual(good_status, "HEALTHY")
        self.assertIsNotNone(bad_stopped, "the unhealthy task was never replaced")
        self.assertEqual(bad_stopped["stoppedReason"], "Task failed container health checks")
        self.assertEqual(bad_stopped["containers"][0]["healthStatus"], "UNHEALTHY")
        events = [e["message"] for e in ecs.describe_services(cluster="health", services=["bad"])["services"][0]["events"]]
        task_id = bad_stopped["taskArn"].rsplit("/", 1)[1]
        self.assertIn("(service bad) (task %s) failed container health checks." % task_id, events)
        for name in ("good", "bad"):
            ecs.update_service(cluster="health", service=name, desiredCount=0)

    def test_8_aws_cli_speaks_cloudwatch_logs(self):
        aws = self.engine.aws
        aws("logs", "create-log-group", "--log-group-name", "/e2e/app")
        aws("logs", "create-log-stream", "--log-group-name", "/e2e/app", "--log-stream-name", "one")
        now = int(time.time() * 1000)
        events = json.dumps([{"timestamp": now + i, "message": "line %d%s" % (i, " ERROR" if i == 2 else "")}
                             for i in range(1, 4)])
        aws("logs", "put-log-events", "--log-group-name", "/e2e/app", "--log-stream-name", "one",
            "--log-events", events)
        got = aws("logs", "get-log-events", "--log-group-name", "/e2e/app", "--log-stream-name", "one",
                  "--start-from-head")
        self.assertEqual([e["message"] for e in got["events"]], ["line 1", "line 2 ERROR", "line 3"])
        found = aws("logs", "filter-log-events", "--log-group-name", "/e2e/app", "--filter-pattern", "ERROR")
        self.assertEqual([(e["logStreamName"], e["message"]) for e in found["events"]], [("one", "line 2 ERROR")])
        groups = aws("logs", "describe-log-groups", "--log-group-name-prefix", "/e2e")["logGroups"]
        self.assertEqual([g["logGroupName"] for g in groups], ["/e2e/app"])
        streams = aws("logs", "describe-log-streams", "--log-group-name", "/e2e/app")["logStreams"]
        self.assertEqual(streams[0]["logStreamName"], "one")
        self.assertEqual(streams[0]["lastEventTimestamp"], now + 3)
        # The demo's own tasks write to /ecs/demo under web/web/<task-id>, as ECS names awslogs streams.
        task_ids = {t["taskArn"].rsplit("/", 1)[1] for t in self.running_tasks()}
        demo = aws("logs", "describe-log-streams", "--log-group-name", "/ecs/demo", "--log-stream-name-prefix", "web/web/")
        self.assertTrue(task_ids <= {s["logStreamName"].rsplit("/", 1)[1] for s in demo["logStreams"]})
        out = subprocess.run([AWS, "--endpoint-url", self.engine.endpoint, "logs", "create-log-group",
                              "--log-group-name", "/e2e/app"], env=self.engine.env, capture_output=True, text=True)
        self.assertNotEqual(out.returncode, 0)
        self.assertIn("ResourceAlreadyExistsException", out.stderr)

    def test_9_run_task_overrides_command_and_environment(self):
        ecs = self.engine.client("ecs")
        ecs.create_cluster(clusterName="jobs")
        ecs.register_task_definition(family="job", containerDefinitions=[{
            "name": "job", "image": "busybox", "essential": True, "entryPoint": ["/bin/sh", "-c"],
            "command": ["echo default; exit 0"], "environment": [{"name": "GREETING", "value": "hello"}],
            "logConfiguration": {"logDriver": "awslogs", "options": {
                "awslogs-group": "/e2e/jobs", "awslogs-create-group": "true", "awslogs-stream-prefix": "run"}}}])
        task = ecs.run_task(cluster="jobs", taskDefinition="job", startedBy="e2e", overrides={"containerOverrides": [{
            "name": "job", "command": ["echo $GREETING $WHO; exit 3"],
            "environment": [{"name": "WHO", "value": "world"}]}]})["tasks"][0]
        self.assertEqual(task["overrides"]["containerOverrides"][0]["command"], ["echo $GREETING $WHO; exit 3"])
        ecs.get_waiter("tasks_stopped").wait(cluster="jobs", tasks=[task["taskArn"]],
                                             WaiterConfig={"Delay": 1, "MaxAttempts": 30})
        done = ecs.describe_tasks(cluster="jobs", tasks=[task["taskArn"]])["tasks"][0]
        self.assertEqual((done["lastStatus"], done["containers"][0]["exitCode"]), ("STOPPED", 3))
        self.assertEqual(done["stoppedReason"], "Essential container in task exited")
        self.assertEqual(done["startedBy"], "e2e")
        self.assertEqual(done["group"], "family:job")
        logs = self.engine.client("logs")
        events = logs.get_log_events(logGroupName="/e2e/jobs", logStreamName="run/job/" + task["taskArn"].rsplit("/", 1)[1],
                                     startFromHead=True)["events"]
        self.assertEqual([e["message"] for e in events], ["hello world"])
        with self.assertRaises(botocore.exceptions.ClientError) as err:
            ecs.run_task(cluster="jobs", taskDefinition="job", overrides={"containerOverrides": [{"name": "nope"}]})
        self.assertEqual(err.exception.response["Error"]["Code"], "InvalidParameterException")


if __name__ == "__main__":
    unittest.main(verbosity=2)
