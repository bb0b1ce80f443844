"""End-to-end: the engine serves CloudWatch dashboards and the metrics it records to boto3 (awsJson1.0)
and the aws CLI (Query), with AWS's shapes and errors; a released service's traffic shows up as
AWS/ApplicationELB RequestCount, and its tasks as ECS/ContainerInsights RunningTaskCount."""
import datetime
import http.client
import json
import subprocess
import time
import unittest

from botocore.exceptions import ClientError

from harness import AWS, ReleasedEngineTest

BODY = json.dumps({"widgets": [{"type": "text", "x": 0, "y": 0, "width": 6, "height": 3,
                                "properties": {"markdown": "demo"}}]})
REQUESTS = 120


class CloudWatchTest(ReleasedEngineTest):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.cw = cls.engine.client("cloudwatch")

    def aws_fails(self, *args):
        """Runs the aws CLI expecting failure; returns its stderr."""
        out = subprocess.run([AWS, "--endpoint-url", self.engine.endpoint, "--output", "json", *args],
                             env=self.engine.env, capture_output=True, text=True, timeout=120)
        self.assertNotEqual(out.returncode, 0, out.stdout)
        return out.stderr

    def client_error(self, call, **kwargs):
        with self.assertRaises(ClientError) as caught:
            call(**kwargs)
        return caught.exception.response

    def names(self, **kwargs):
        return [d["DashboardName"] for d in self.cw.list_dashboards(**kwargs)["DashboardEntries"]]

    def test_1_boto3_puts_gets_lists_and_deletes_dashboards(self):
        self.assertEqual(self.cw.put_dashboard(DashboardName="e2e-boto", DashboardBody=BODY)["DashboardValidationMessages"], [])
        got = self.cw.get_dashboard(DashboardName="e2e-boto")
        self.assertEqual(got["DashboardBody"], BODY)
        self.assertEqual(got["DashboardArn"], "arn:aws:cloudwatch::000000000000:dashboard/e2e-boto")
        self.cw.put_dashboard(DashboardName="e2e-boto-2", DashboardBody=BODY)
        entries = self.cw.list_dashboards(DashboardNamePrefix="e2e-boto")["DashboardEntries"]
        self.assertEqual([e["DashboardName"] for e in entries], ["e2e-boto", "e2e-boto-2"])
        self.assertEqual(entries[0]["Size"], len(BODY))
        self.assertIsInstance(entries[0]["LastModified"], datetime.datetime)
        # A missing name fails the whole call: nothing is deleted.
        error = self.client_error(self.cw.delete_dashboards, DashboardNames=["e2e-boto", "e2e-none"])
        self.assertEqual(error["Error"]["Code"], "ResourceNotFound")
        self.assertEqual(error["ResponseMetadata"]["HTTPStatusCode"], 404)
        self.assertEqual(self.names(DashboardNamePrefix="e2e-boto"), ["e2e-boto", "e2e-boto-2"])
        self.cw.delete_dashboards(DashboardNames=["e2e-boto", "e2e-boto-2"])
        self.assertEqual(self.names(DashboardNamePrefix="e2e-boto"), [])
        error = self.client_error(self.cw.get_dashboard, DashboardName="e2e-boto")
        self.assertEqual(error["Error"]["Code"], "ResourceNotFound")

    def test_2_a_bad_dashboard_body_is_refused_as_aws_refuses_it(self):
        error = self.client_error(self.cw.put_dashboard, DashboardName="e2e-bad", DashboardBody='{"widgets": [{}]}')
        self.assertEqual(error["Error"]["Code"], "InvalidParameterInput")
        self.assertIn("Should have required property 'type'", error["Error"]["Message"])
        self.assertEqual(error["dashboardValidationMessages"],
                         [{"DataPath": "/widgets/0", "Message": "Should have required property 'type'"}])
        error = self.client_error(self.cw.put_dashboard, DashboardName="bad name", DashboardBody=BODY)
        self.assertEqual(error["Error"]["Code"], "ValidationError")
        stderr = self.aws_fails("cloudwatch", "put-dashboard", "--dashboard-name", "e2e-bad",
                                "--dashboard-body", "not json")
        self.assertIn("InvalidParameterInput", stderr)
        self.assertNotIn("e2e-bad", self.names())

    def test_3_the_aws_cli_manages_dashboards_over_query(self):
        self.assertEqual(self.engine.aws("cloudwatch", "put-dashboard", "--dashboard-name", "e2e-cli",
                                         "--dashboard-body", BODY)["DashboardValidationMessages"], [])
        self.assertEqual(self.engine.aws("cloudwatch", "get-dashboard", "--dashboard-name", "e2e-cli")["DashboardBody"],
                         BODY)
        listed = self.engine.aws("cloudwatch", "list-dashboards", "--dashboard-name-prefix", "e2e-cli")
        self.assertEqual([e["DashboardName"] for e in listed["DashboardEntries"]], ["e2e-cli"])
        self.assertIn("ResourceNotFound", self.aws_fails("cloudwatch", "delete-dashboards", "--dashboard-names",
                                                         "e2e-cli", "e2e-none"))
        self.assertEqual(self.engine.aws("cloudwatch", "get-dashboard", "--dashboard-name", "e2e-cli")["DashboardName"],
                         "e2e-cli")
        self.engine.aws("cloudwatch", "delete-dashboards", "--dashboard-names", "e2e-cli")
        self.assertIn("ResourceNotFound", self.aws_fails("cloudwatch", "get-dashboard", "--dashboard-name", "e2e-cli"))

    def wait_for(self, fetch, what, timeout=60):
        """Polls `fetch` until it returns something truthy (metrics are folded every 10 s)."""
        deadline = time.time() + timeout
        while True:
            value = fetch()
            if value or time.time() > deadline:
                self.assertTrue(value, "no %s within %ds" % (what, timeout))
                return value
            time.sleep(1)

    @staticmethod
    def request_query(load_balancer, target_group):
        return {"Id": "requests", "MetricStat": {"Metric": {
            "Namespace": "AWS/ApplicationELB", "MetricName": "RequestCount",
            "Dimensions": [{"Name": "LoadBalancer", "Value": load_balancer},
                           {"Name": "TargetGroup", "Value": target_group}]}, "Period": 10, "Stat": "Sum"}}

    def boto3_sum(self, query, start, end):
        result = self.cw.get_metric_data(MetricDataQueries=[query], StartTime=start, EndTime=end)["MetricDataResults"][0]
        self.assertEqual(result["StatusCode"], "Complete")
        return sum(result["Values"])

    def cli_sum(self, query, start, end):
        out = self.engine.aws("cloudwatch", "get-metric-data", "--metric-data-queries", json.dumps([query]),
                              "--start-time", start.strftime("%Y-%m-%dT%H:%M:%SZ"),
                              "--end-time", end.strftime("%Y-%m-%dT%H:%M:%SZ"))
        self.assertEqual(out["MetricDataResults"][0]["StatusCode"], "Complete")
        return sum(out["MetricDataResults"][0]["Values"])

    def test_4_requests_through_the_proxy_are_counted(self):
        elb = self.engine.client("elbv2")
        lb_arn = elb.describe_load_balancers(Names=["demo-dev"])["LoadBalancers"][0]["LoadBalancerArn"]
        tg_arn = elb.describe_target_groups(LoadBalancerArn=lb_arn)["TargetGroups"][0]["TargetGroupArn"]
        load_balancer = lb_arn.split(":")[-1][len("loadbalancer/"):]
        target_group = tg_arn.split(":")[-1]
        self.assertRegex(load_balancer, r"^app/demo-dev/[0-9a-f]+$")
        self.assertRegex(target_group, r"^targetgroup/[^/]+/[0-9a-f]+$")
        # Given a 10-second interval begun after the release's own verify requests were counted
        # (the engine folds its counters at each 10-second boundary of the wall clock).
        now = time.time()
        boundary = (int(now) // 10 + 1) * 10
        time.sleep(boundary + 1 - now)
        start = datetime.datetime.fromtimestamp(boundary, datetime.timezone.utc)
        end = start + datetime.timedelta(minutes=20)
        # When requests go through the released service's listener.
        conn = http.client.HTTPConnection("127.0.0.1", self.engine.listener_port, timeout=10)
        for _ in range(REQUESTS):
            conn.request("GET", "/")
            response = conn.getresponse()
            response.read()
            self.assertEqual(response.status, 200)
        conn.close()
        # Then, once folded, RequestCount has every one of them, in both clients' answers.
        query = self.request_query(load_balancer, target_group)
        self.wait_for(lambda: self.boto3_sum(query, start, end) >= REQUESTS, "RequestCount of %d" % REQUESTS)
        self.assertEqual(self.boto3_sum(query, start, end), REQUESTS)
        self.assertEqual(self.cli_sum(query, start, end), REQUESTS)
        # And ListMetrics shows the series, with the target group's 2XX count and response times.
        metrics = self.cw.list_metrics(Namespace="AWS/ApplicationELB",
                                       Dimensions=[{"Name": "TargetGroup", "Value": target_group}])["Metrics"]
        names = {m["MetricName"] for m in metrics}
        self.assertTrue({"RequestCount", "HTTPCode_Target_2XX_Count", "TargetResponseTime"} <= names, names)
        latency = self.cw.get_metric_data(
            MetricDataQueries=[{"Id": "p99", "MetricStat": {"Metric": {
                "Namespace": "AWS/ApplicationELB", "MetricName": "TargetResponseTime",
                "Dimensions": [{"Name": "LoadBalancer", "Value": load_balancer},
                               {"Name": "TargetGroup", "Value": target_group}]}, "Period": 60, "Stat": "p99"}}],
            StartTime=start, EndTime=end)["MetricDataResults"][0]["Values"]
        self.assertTrue(latency and all(v > 0 for v in latency), latency)

    def test_5_running_tasks_are_counted_per_service(self):
        start = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(minutes=10)
        end = start + datetime.timedelta(minutes=20)

        def running():
            out = self.engine.aws(
                "cloudwatch", "get-metric-data", "--start-time", start.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "--end-time", end.strftime("%Y-%m-%dT%H:%M:%SZ"), "--metric-data-queries", json.dumps([{
                    "Id": "running", "MetricStat": {"Metric": {
                        "Namespace": "ECS/ContainerInsights", "MetricName": "RunningTaskCount",
                        "Dimensions": [{"Name": "ClusterName", "Value": "demo-dev"},
                                       {"Name": "ServiceName", "Value": "demo-dev-web"}]},
                        "Period": 10, "Stat": "Maximum"}}]))
            return out["MetricDataResults"][0]["Values"]
        self.assertEqual(self.wait_for(running, "RunningTaskCount")[0], 2)
        listed = self.engine.aws("cloudwatch", "list-metrics", "--namespace", "ECS/ContainerInsights",
                                 "--metric-name", "RunningTaskCount",
                                 "--dimensions", "Name=ServiceName,Value=demo-dev-web")["Metrics"]
        self.assertEqual(listed, [{"Namespace": "ECS/ContainerInsights", "MetricName": "RunningTaskCount",
                                   "Dimensions": [{"Name": "ClusterName", "Value": "demo-dev"},
                                                  {"Name": "ServiceName", "Value": "demo-dev-web"}]}])

    def test_6_dashboards_survive_an_engine_restart(self):
        self.cw.put_dashboard(DashboardName="e2e-kept", DashboardBody=BODY)
        out = self.engine.slipway("engine", "restart")
        self.assertEqual(out.returncode, 0, out.stdout + out.stderr)
        self.assertEqual(self.cw.get_dashboard(DashboardName="e2e-kept")["DashboardBody"], BODY)


if __name__ == "__main__":
    unittest.main()
