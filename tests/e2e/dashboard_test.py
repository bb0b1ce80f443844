"""End-to-end: `slipway dashboard ENV [--apply]` against moto (provider aws) and against the engine,
read back with GetDashboard through boto3 and the aws CLI. On the engine, after a release, a bounded
load run on loopback shows in GetMetricData: RequestCount matches the client's own count within 1%,
and the tasks' CPUUtilization and MemoryUtilization (from their cgroups) are above zero."""
import datetime
import http.client
import json
import os
import subprocess
import tempfile
import threading
import time
import unittest

import boto3

from harness import AWS, SLIPWAY, Moto, ReleasedEngineTest

REGION = "us-east-1"
LOAD_THREADS = 8
LOAD_REQUESTS = 3000  # in all, spread over the threads

MOTO_CONFIG = """app: shop
services:
  web:
    taskDefinition: web.json
    containerPort: 8080
environments:
  prod:
    provider: aws
    region: us-east-1
    cluster: shop-prod
    pinImages: false  # moto serves no image registry
    subnets: [%(subnets)s]
    loadBalancer: {name: shop-prod, listenerPort: 80}
    services:
      web: {desiredCount: 1}
    timeoutSeconds: 60
"""

TASK_DEFINITION = {
    "family": "shop-web", "requiresCompatibilities": ["FARGATE"], "networkMode": "awsvpc", "cpu": "256",
    "memory": "512", "executionRoleArn": "arn:aws:iam::123456789012:role/ecsTaskExecutionRole",
    "containerDefinitions": [{"name": "web", "image": "registry.example/shop-web:1",
                              "portMappings": [{"containerPort": 8080}]}]}


def metric_lines(body):
    """(namespace, name) of every metric the dashboard body draws."""
    return {(m[0], m[1]) for w in body["widgets"] for m in w["properties"]["metrics"]}


WANTED = {("AWS/ApplicationELB", "RequestCount"), ("AWS/ApplicationELB", "HTTPCode_Target_5XX_Count"),
          ("AWS/ApplicationELB", "HTTPCode_ELB_5XX_Count"), ("AWS/ApplicationELB", "TargetResponseTime"),
          ("AWS/ApplicationELB", "HealthyHostCount"), ("AWS/ApplicationELB", "UnHealthyHostCount"),
          ("AWS/ECS", "CPUUtilization"),
          ("AWS/ECS", "MemoryUtilization"), ("ECS/ContainerInsights", "RunningTaskCount")}


class MotoDashboardTest(unittest.TestCase):
    """provider aws: moto implements PutDashboard and GetDashboard (it runs no task)."""

    @classmethod
    def setUpClass(cls):
        cls.moto = Moto(MOTO_ECS_SERVICE_RUNNING="1")
        try:
            cls.dir = tempfile.mkdtemp(prefix="slipway-dashboard-")
            creds = dict(endpoint_url=cls.moto.endpoint, region_name=REGION, aws_access_key_id="AKIDTEST",
                         aws_secret_access_key="x" * 40)
            cls.creds = creds
            ec2 = boto3.client("ec2", **creds)
            vpc = ec2.create_vpc(CidrBlock="10.40.0.0/16")["Vpc"]["VpcId"]
            subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock="10.40.%d.0/24" % i,
                                         AvailabilityZone=REGION + az)["Subnet"]["SubnetId"]
                       for i, az in ((1, "a"), (2, "b"))]
            cls.config = os.path.join(cls.dir, "slipway.yaml")
            with open(cls.config, "w") as f:
                f.write(MOTO_CONFIG % {"subnets": ", ".join(subnets)})
            with open(os.path.join(cls.dir, "web.json"), "w") as f:
                json.dump(TASK_DEFINITION, f)
            base = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
            cls.env = dict(base, HOME=cls.dir, SLIPWAY_ACTOR="ci@example", AWS_EC2_METADATA_DISABLED="true",
                           AWS_ACCESS_KEY_ID="AKIDTEST", AWS_SECRET_ACCESS_KEY="x" * 40, AWS_DEFAULT_REGION=REGION,
                           AWS_CONFIG_FILE=os.devnull, AWS_SHARED_CREDENTIALS_FILE=os.devnull, AWS_PAGER="",
                           SLIPWAY_ENDPOINT_URL=cls.moto.endpoint)
        except BaseException:
            cls.moto.stop()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.moto.stop()

    def slipway(self, *args):
        return subprocess.run([SLIPWAY, *args, "--config", self.config], env=self.env, capture_output=True,
                              text=True, timeout=180, stdin=subprocess.DEVNULL)

    def test_1_an_environment_never_released_is_said_so(self):
        out = self.slipway("dashboard", "prod")
        self.assertEqual(out.returncode, 1, out.stdout + out.stderr)
        self.assertIn("environment prod was never released", out.stderr)

    def test_2_apply_stores_the_dashboard_that_get_dashboard_returns(self):
        out = self.slipway("deploy", "prod")
        self.assertEqual(out.returncode, 0, out.stdout + out.stderr)
        printed = self.slipway("dashboard", "prod")
        self.assertEqual(printed.returncode, 0, printed.stderr)
        body = json.loads(printed.stdout)
        self.assertEqual(metric_lines(body), WANTED)
        # The release just made is marked on the service's graphs.
        labels = {a["label"] for w in body["widgets"] for a in w["properties"]["annotations"]["vertical"]}
        self.assertIn("shop-web:1 released", labels)
        applied = self.slipway("dashboard", "prod", "--apply", "--output", "json")
        self.assertEqual(applied.returncode, 0, applied.stdout + applied.stderr)
        self.assertEqual(json.loads(applied.stdout)["dashboard"], "shop-prod")
        got = boto3.client("cloudwatch", **self.creds).get_dashboard(DashboardName="shop-prod")
        self.assertEqual(json.loads(got["DashboardBody"]), body)
        cli = subprocess.run([AWS, "--endpoint-url", self.moto.endpoint, "--output", "json", "cloudwatch",
                              "get-dashboard", "--dashboard-name", "shop-prod"], env=self.env,
                             capture_output=True, text=True, timeout=120)
        self.assertEqual(cli.returncode, 0, cli.stderr)
        self.assertEqual(json.loads(json.loads(cli.stdout)["DashboardBody"]), body)


class EngineDashboardTest(ReleasedEngineTest):
    """provider local: the engine serves the dashboard and the metrics it draws."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.cw = cls.engine.client("cloudwatch")

    def dashboard(self, *args, config=None):
        return self.engine.slipway("dashboard", "dev", "--config", config or self.engine.config, *args)

    def test_1_apply_stores_the_dashboard_for_boto3_and_the_aws_cli(self):
        printed = self.dashboard()
        self.assertEqual(printed.returncode, 0, printed.stderr)
        body = json.loads(printed.stdout)
        self.assertEqual(metric_lines(body), WANTED)
        applied = self.dashboard("--apply")
        self.assertEqual(applied.returncode, 0, applied.stdout + applied.stderr)
        self.assertIn("dashboard demo-dev applied", applied.stdout)
        self.assertEqual(json.loads(self.cw.get_dashboard(DashboardName="demo-dev")["DashboardBody"]), body)
        got = self.engine.aws("cloudwatch", "get-dashboard", "--dashboard-name", "demo-dev")
        self.assertEqual(json.loads(got["DashboardBody"]), body)

    def test_2_an_environment_never_released_is_said_so(self):
        config, _ = self.engine.fresh_environment_config("dash-fresh")
        out = self.dashboard(config=config)
        self.assertEqual(out.returncode, 1, out.stdout + out.stderr)
        self.assertIn("environment dev was never released", out.stderr)

    def metric(self, name_space, name, dimensions, stat, start, end, period=10):
        result = self.cw.get_metric_data(
            MetricDataQueries=[{"Id": "m", "MetricStat": {"Metric": {
                "Namespace": name_space, "MetricName": name,
                "Dimensions": [{"Name": k, "Value": v} for k, v in dimensions]}, "Period": period, "Stat": stat}}],
            StartTime=start, EndTime=end)["MetricDataResults"][0]
        self.assertEqual(result["StatusCode"], "Complete")
        return result["Values"]

    def load(self):
        """LOAD_REQUESTS GETs of /burn (2 ms of CPU each) on the listener from LOAD_THREADS keep-alive
        clients; returns (answered, succeeded) as the clients counted them."""
        counts = {"answered": 0, "ok": 0}
        lock = threading.Lock()

        def run(n):
            conn = http.client.HTTPConnection("127.0.0.1", self.engine.listener_port, timeout=10)
            for _ in range(n):
                try:
                    conn.request("GET", "/burn?ms=2")
                    response = conn.getresponse()
                    response.read()
                    with lock:
                        counts["answered"] += 1
                        counts["ok"] += response.status == 200
                except (OSError, http.client.HTTPException):
                    conn.close()
                    conn = http.client.HTTPConnection("127.0.0.1", self.engine.listener_port, timeout=10)
            conn.close()

        threads = [threading.Thread(target=run, args=(LOAD_REQUESTS // LOAD_THREADS,)) for _ in range(LOAD_THREADS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        return counts["answered"], counts["ok"]

    def test_3_a_load_run_shows_in_request_count_cpu_and_memory(self):
        elb = self.engine.client("elbv2")
        lb_arn = elb.describe_load_balancers(Names=["demo-dev"])["LoadBalancers"][0]["LoadBalancerArn"]
        tg_arn = elb.describe_target_groups(LoadBalancerArn=lb_arn)["TargetGroups"][0]["TargetGroupArn"]
        group = [("LoadBalancer", lb_arn.split(":")[-1][len("loadbalancer/"):]),
                 ("TargetGroup", tg_arn.split(":")[-1])]
        service = [("ClusterName", "demo-dev"), ("ServiceName", "demo-dev-web")]
        # Given a 10-second interval begun after the release's own requests were counted.
        now = time.time()
        boundary = (int(now) // 10 + 1) * 10
        time.sleep(boundary + 1 - now)
        start = datetime.datetime.fromtimestamp(boundary, datetime.timezone.utc)
        end = start + datetime.timedelta(minutes=30)
        # When a bounded load run goes through the listener.
        answered, ok = self.load()
        self.assertGreaterEqual(ok, answered * 0.99, "the load run itself failed")
        # Then, once folded (every 10 s), RequestCount is the clients' own count within 1%.
        deadline = time.time() + 60
        counted = 0
        while time.time() < deadline:
            counted = sum(self.metric("AWS/ApplicationELB", "RequestCount", group, "Sum", start, end))
            if counted >= answered:
                break
            time.sleep(2)
        time.sleep(11)  # one more fold: nothing is counted late
        counted = sum(self.metric("AWS/ApplicationELB", "RequestCount", group, "Sum", start, end))
        print("load run: %d answered (%d ok), RequestCount %d" % (answered, ok, counted))
        self.assertLessEqual(abs(counted - answered), answered * 0.01, (counted, answered))
        # And the tasks' CPU and memory, from their cgroups, are above zero.
        cpu = self.metric("AWS/ECS", "CPUUtilization", service, "Maximum", start, end)
        memory = self.metric("AWS/ECS", "MemoryUtilization", service, "Maximum", start, end)
        print("CPUUtilization %s, MemoryUtilization max %s" % ([round(v, 1) for v in cpu], max(memory, default=0)))
        self.assertTrue(cpu and max(cpu) > 0, cpu)
        self.assertTrue(memory and max(memory) > 0, memory)
        # And both targets count as healthy.
        healthy = self.metric("AWS/ApplicationELB", "HealthyHostCount", group, "Minimum", start, end)
        self.assertTrue(healthy and healthy[-1] == 2, healthy)


if __name__ == "__main__":
    unittest.main()
