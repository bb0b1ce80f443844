"""End-to-end: the engine refuses bad input at its API boundary with AWS-shaped errors, stores
nothing of it, and keeps answering. Requests are signed by botocore but sent raw, so the bodies
can be what no SDK would send."""
import http.client
import json
import socket
import time
import unittest
import urllib.parse
from xml.etree import ElementTree

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from harness import EngineTest, free_port

ECS = "AmazonEC2ContainerServiceV20141113"
LOGS = "Logs_20140328"
CLUSTER, SERVICE, FAMILY = "val", "val-web", "val-sleep"
ELB_NS = "http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/"
MiB = 1024 * 1024


class RawApi:
    """Signs a request with the engine's key pair, then sends exactly the given bytes."""

    def __init__(self, engine):
        self.engine = engine
        words = open(engine.env["AWS_SHARED_CREDENTIALS_FILE"]).read().split()
        self.credentials = Credentials(words[words.index("aws_access_key_id") + 2],
                                       words[words.index("aws_secret_access_key") + 2])

    def send(self, signing_name, headers, body, chunk_size=None):
        """Returns (status, body text). With chunk_size the body goes out chunked."""
        data = body.encode() if isinstance(body, str) else body
        request = AWSRequest(method="POST", url=self.engine.endpoint + "/", data=data, headers=headers)
        SigV4Auth(self.credentials, signing_name, "us-east-1").add_auth(request)
        conn = http.client.HTTPConnection("127.0.0.1", self.engine.api_port, timeout=120)
        try:
            if chunk_size:
                chunks = (data[i:i + chunk_size] for i in range(0, len(data), chunk_size))
                conn.request("POST", "/", body=chunks, headers=dict(request.headers), encode_chunked=True)
            else:
                conn.request("POST", "/", body=data, headers=dict(request.headers))
            response = conn.getresponse()
            return response.status, response.read().decode()
        finally:
            conn.close()

    def json(self, prefix, op, body, **kw):
        signing_name = "ecs" if prefix == ECS else "logs"
        return self.send(signing_name, {"Content-Type": "application/x-amz-json-1.1",
                                        "X-Amz-Target": prefix + "." + op}, body, **kw)

    def query(self, body, **kw):
        return self.send("elasticloadbalancing",
                         {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}, body, **kw)


def json_code(text):
    return json.loads(text)["__type"]


def xml_error(text):
    """(Code, Message) of a Query ErrorResponse."""
    error = ElementTree.fromstring(text).find("{%s}Error" % ELB_NS)
    return error.findtext("{%s}Code" % ELB_NS), error.findtext("{%s}Message" % ELB_NS)


def nested(levels):
    return "[" * levels + "]" * levels


class ValidationTest(EngineTest):
    @classmethod
    def setUpEngine(cls):
        cls.api = RawApi(cls.engine)
        cls.ecs = cls.engine.client("ecs")
        cls.elbv2 = cls.engine.client("elbv2")
        cls.logs = cls.engine.client("logs")
        cls.ecs.create_cluster(clusterName=CLUSTER)
        cls.ecs.register_task_definition(
            family=FAMILY, networkMode="awsvpc", requiresCompatibilities=["FARGATE"], cpu="256", memory="512",
            containerDefinitions=[{"name": "sleep", "image": "busybox", "entryPoint": ["/bin/sleep", "600"]}])
        cls.ecs.create_service(cluster=CLUSTER, serviceName=SERVICE, taskDefinition=FAMILY, desiredCount=1)
        cls.logs.create_log_group(logGroupName="/val/group")

    def service(self):
        return self.ecs.describe_services(cluster=CLUSTER, services=[SERVICE])["services"][0]

    def families(self, prefix):
        return self.ecs.list_task_definitions(familyPrefix=prefix)["taskDefinitionArns"]

    def assertAnswered(self, status, text, want_status, want_code, xml=False):
        self.assertEqual(status, want_status, text)
        self.assertEqual(xml_error(text)[0] if xml else json_code(text), want_code, text)
        self.assertNotIn("json.exception", text)

    def assertStillServing(self):
        """The engine still answers, raw and through boto3, and the service is as it was."""
        status, text = self.api.json(ECS, "DescribeClusters", json.dumps({"clusters": [CLUSTER]}))
        self.assertEqual(status, 200, text)
        self.assertEqual(json.loads(text)["clusters"][0]["clusterName"], CLUSTER)
        self.assertEqual(self.service()["desiredCount"], 1)

    def test_01_a_well_formed_raw_request_is_accepted(self):
        # The raw signing path works, so the refusals below are about the bodies alone.
        status, text = self.api.json(ECS, "UpdateService",
                                     json.dumps({"cluster": CLUSTER, "service": SERVICE, "desiredCount": 1}))
        self.assertEqual(status, 200, text)
        self.assertEqual(json.loads(text)["service"]["desiredCount"], 1)

    def test_02_desired_counts_that_are_not_counts_change_nothing(self):
        before = self.service()
        cases = [("10**12", "1000000000000", "SerializationException"),
                 ("2**63", "9223372036854775808", "SerializationException"),
                 ("1.5", "1.5", "SerializationException"),
                 ("a string", '"3"', "SerializationException"),
                 ("an object", "{}", "SerializationException"),
                 ("-1", "-1", "InvalidParameterException")]
        for name, value, code in cases:
            with self.subTest(desiredCount=name):
                body = '{"cluster":"%s","service":"%s","desiredCount":%s}' % (CLUSTER, SERVICE, value)
                status, text = self.api.json(ECS, "UpdateService", body)
                self.assertAnswered(status, text, 400, code)
                self.assertIn("desiredCount", json.loads(text)["message"])
                after = self.service()
                self.assertEqual(after["desiredCount"], 1)
                self.assertEqual(len(after["deployments"]), len(before["deployments"]))
        self.assertStillServing()

    def test_03_members_of_the_wrong_type_are_serialization_errors(self):
        cases = [("RegisterTaskDefinition", {"family": "val-types", "containerDefinitions": "x"},
                  "containerDefinitions"),
                 ("CreateService", {"cluster": CLUSTER, "serviceName": "val-types", "taskDefinition": FAMILY,
                                    "desiredCount": {}}, "desiredCount"),
                 ("RunTask", {"cluster": CLUSTER, "taskDefinition": FAMILY, "count": "2"}, "count")]
        for op, body, member in cases:
            with self.subTest(op=op):
                status, text = self.api.json(ECS, op, json.dumps(body))
                self.assertAnswered(status, text, 400, "SerializationException")
                self.assertIn(member, json.loads(text)["message"])
        self.assertEqual(self.families("val-types"), [])
        services = self.ecs.list_services(cluster=CLUSTER)["serviceArns"]
        self.assertEqual([s.rsplit("/", 1)[1] for s in services], [SERVICE])
        # RunTask started nothing: every task in the cluster belongs to the service.
        all_tasks = set(self.ecs.list_tasks(cluster=CLUSTER)["taskArns"])
        self.assertEqual(all_tasks - set(self.ecs.list_tasks(cluster=CLUSTER, serviceName=SERVICE)["taskArns"]), set())
        self.assertStillServing()

    def test_04_deeply_nested_task_definitions_are_refused_before_parsing(self):
        for levels in (100000, 60000):
            with self.subTest(levels=levels):
                body = '{"family":"val-deep","containerDefinitions":%s}' % nested(levels)
                status, text = self.api.json(ECS, "RegisterTaskDefinition", body)
                self.assertAnswered(status, text, 400, "SerializationException")
                self.assertIn("deeper than 64", json.loads(text)["message"])
        self.assertEqual(self.families("val-deep"), [])
        self.assertStillServing()

    def test_05_bodies_over_10_mib_get_an_aws_shaped_413(self):
        big = '{"family":"val-big","containerDefinitions":[{"name":"c","image":"%s"}]}' % ("x" * (50 * MiB))
        status, text = self.api.json(ECS, "RegisterTaskDefinition", big)
        self.assertAnswered(status, text, 413, "RequestEntityTooLargeException")
        # Chunked, so the limit is found while reading rather than from Content-Length.
        status, text = self.api.json(ECS, "RegisterTaskDefinition", big[:12 * MiB], chunk_size=MiB)
        self.assertAnswered(status, text, 413, "RequestEntityTooLargeException")
        status, text = self.api.query("Action=CreateTargetGroup&Version=2015-12-01&Name=val-big&Port=80&VpcId="
                                      + "v" * (50 * MiB))
        self.assertAnswered(status, text, 413, "RequestEntityTooLarge", xml=True)
        self.assertEqual(self.families("val-big"), [])
        self.assertStillServing()

    def test_06_target_group_ports_out_of_range_or_not_integers_are_validation_errors(self):
        for port in ("99999999999", "0", "-80", "abc", "1.5"):
            with self.subTest(port=port):
                status, text = self.api.query("Action=CreateTargetGroup&Version=2015-12-01&Name=val-bad-port"
                                              "&Protocol=HTTP&VpcId=vpc-local&Port=" + port)
                self.assertAnswered(status, text, 400, "ValidationError", xml=True)
                self.assertIn("Value '%s' at 'port' failed to satisfy constraint" % port, xml_error(text)[1])
        with self.assertRaises(self.elbv2.exceptions.TargetGroupNotFoundException):
            self.elbv2.describe_target_groups(Names=["val-bad-port"])
        status, text = self.api.query("Action=CreateTargetGroup&Version=2015-12-01&Name=-val&Port=80")
        self.assertAnswered(status, text, 400, "ValidationError", xml=True)
        self.assertStillServing()

    def test_07_logs_requests_are_checked_against_the_logs_model(self):
        cases = [("CreateLogGroup", {"logGroupName": "bad name"}, "InvalidParameterException", "logGroupName"),
                 ("CreateLogGroup", {"logGroupName": 5}, "SerializationException", "logGroupName"),
                 ("CreateLogStream", {"logGroupName": "/val/group", "logStreamName": "a:b"},
                  "InvalidParameterException", "logStreamName"),
                 ("PutLogEvents", {"logGroupName": "/val/group", "logStreamName": "s",
                                   "logEvents": [{"timestamp": "now", "message": "m"}]},
                  "SerializationException", "logEvents.1.member.timestamp"),
                 ("GetLogEvents", {"logGroupName": "/val/group", "logStreamName": "s", "limit": 0},
                  "InvalidParameterException", "limit")]
        for op, body, code, member in cases:
            with self.subTest(op=op, member=member):
                status, text = self.api.json(LOGS, op, json.dumps(body))
                self.assertAnswered(status, text, 400, code)
                self.assertIn(member, json.loads(text)["message"])
        groups = [g["logGroupName"] for g in self.logs.describe_log_groups()["logGroups"]]
        self.assertNotIn("bad name", groups)
        self.assertEqual(self.logs.describe_log_streams(logGroupName="/val/group")["logStreams"], [])
        self.assertStillServing()

    def test_08_silent_connections_cannot_lock_clients_out(self):
        # 300 connections that never send a byte: past the engine's 256 the rest are closed at
        # once, and the silent ones are closed once their first request is overdue (10 s).
        silent = [socket.create_connection(("127.0.0.1", self.engine.api_port), timeout=30) for _ in range(300)]
        try:
            time.sleep(0.5)
            closed_at_once = 0
            for s in silent[-20:]:
                s.settimeout(2)
                try:
                    closed_at_once += s.recv(1) == b""
                except ConnectionResetError:
                    closed_at_once += 1
                except socket.timeout:
                    pass  # still open
            self.assertEqual(closed_at_once, 20, "connections past the cap were kept open")
            status = None
            deadline = time.time() + 60
            while time.time() < deadline:
                try:
                    status, text = self.api.json(ECS, "DescribeClusters", json.dumps({"clusters": [CLUSTER]}))
                    if status == 200:
                        break
                except (ConnectionError, http.client.HTTPException, OSError):
                    pass
                time.sleep(0.5)
            self.assertEqual(status, 200, "the API stayed locked out by silent connections")
            self.assertEqual(silent[0].recv(1), b"", "a silent connection was kept past its deadline")
        finally:
            for s in silent:
                s.close()
        self.assertStillServing()

    def test_09_listeners_asked_for_twice_are_one_and_ports_are_not_shared(self):
        port = free_port()
        first = self.elbv2.create_load_balancer(Name="val-lb-a", Subnets=["subnet-local"])
        other = self.elbv2.create_load_balancer(Name="val-lb-b", Subnets=["subnet-local"])
        a = first["LoadBalancers"][0]["LoadBalancerArn"]
        b = other["LoadBalancers"][0]["LoadBalancerArn"]
        fixed = [{"Type": "fixed-response", "FixedResponseConfig": {"StatusCode": "404", "ContentType": "text/plain"}}]
        created = self.elbv2.create_listener(LoadBalancerArn=a, Protocol="HTTP", Port=port, DefaultActions=fixed)
        again = self.elbv2.create_listener(LoadBalancerArn=a, Protocol="HTTP", Port=port, DefaultActions=fixed)
        # A retried create (its first answer lost) gets the listener it made, as on AWS.
        self.assertEqual(again["Listeners"][0]["ListenerArn"], created["Listeners"][0]["ListenerArn"])
        self.assertEqual(len(self.elbv2.describe_listeners(LoadBalancerArn=a)["Listeners"]), 1)
        teapot = [{"Type": "fixed-response", "FixedResponseConfig": {"StatusCode": "418", "ContentType": "text/plain"}}]
        with self.assertRaises(self.elbv2.exceptions.DuplicateListenerException) as e:
            self.elbv2.create_listener(LoadBalancerArn=a, Protocol="HTTP", Port=port, DefaultActions=teapot)
        self.assertIn("this load balancer", str(e.exception))
        with self.assertRaises(self.elbv2.exceptions.DuplicateListenerException) as e:
            self.elbv2.create_listener(LoadBalancerArn=b, Protocol="HTTP", Port=port, DefaultActions=fixed)
        self.assertIn("load balancer val-lb-a", str(e.exception))
        self.assertEqual(self.elbv2.describe_listeners(LoadBalancerArn=b)["Listeners"], [])
        self.assertStillServing()


    def test_10_revisions_are_deregistered_deleted_and_paged_as_botocore_expects(self):
        family = "val-cleanup"
        arns = [self.ecs.register_task_definition(
            family=family, containerDefinitions=[{"name": "c", "image": "busybox", "entryPoint": ["/bin/true"]}]
        )["taskDefinition"]["taskDefinitionArn"] for _ in range(3)]
        # botocore's own paginator walks the pages by nextToken.
        pages = self.ecs.get_paginator("list_task_definitions").paginate(
            familyPrefix=family, PaginationConfig={"PageSize": 1})
        self.assertEqual([a for p in pages for a in p["taskDefinitionArns"]], arns)
        gone = self.ecs.deregister_task_definition(taskDefinition=arns[0])["taskDefinition"]
        self.assertEqual(gone["status"], "INACTIVE")
        out = self.ecs.delete_task_definitions(taskDefinitions=[arns[0], arns[1]])
        self.assertEqual([t["taskDefinitionArn"] for t in out["taskDefinitions"]], [arns[0]])
        self.assertEqual(out["taskDefinitions"][0]["status"], "DELETE_IN_PROGRESS")
        self.assertEqual([(f["arn"], f["reason"]) for f in out["failures"]], [(arns[1], "TASK_DEFINITION_IS_ACTIVE")])
        with self.assertRaisesRegex(self.ecs.exceptions.ClientException, "inactive"):
            self.ecs.run_task(cluster=CLUSTER, taskDefinition=arns[0])
        self.assertEqual(self.families(family), arns[1:])
        self.assertStillServing()


    def test_11_service_deployments_clusters_and_tags_read_as_botocore_expects(self):
        self.assertIn(CLUSTER, [a.rsplit("/", 1)[1] for a in self.ecs.list_clusters()["clusterArns"]])
        service = self.service()
        deployments = self.ecs.list_service_deployments(cluster=CLUSTER, service=SERVICE)["serviceDeployments"]
        self.assertGreaterEqual(len(deployments), 1)
        self.assertEqual(deployments[0]["serviceDeploymentArn"], service["currentServiceDeployment"])
        full = self.ecs.describe_service_deployments(
            serviceDeploymentArns=[deployments[0]["serviceDeploymentArn"]])["serviceDeployments"][0]
        self.assertIn(full["status"], ("IN_PROGRESS", "SUCCESSFUL"))
        self.assertEqual(full["targetServiceRevision"]["arn"], deployments[0]["targetServiceRevisionArn"])
        revision = self.ecs.describe_service_revisions(
            serviceRevisionArns=[deployments[0]["targetServiceRevisionArn"]])["serviceRevisions"][0]
        self.assertEqual(revision["taskDefinition"], service["taskDefinition"])
        self.ecs.tag_resource(resourceArn=service["serviceArn"], tags=[{"key": "owner", "value": "val"}])
        tagged = self.ecs.describe_services(cluster=CLUSTER, services=[SERVICE], include=["TAGS"])["services"][0]
        self.assertIn({"key": "owner", "value": "val"}, tagged["tags"])
        self.assertStillServing()

    def test_12_a_wrong_type_past_the_tenth_violation_is_answered_not_dropped(self):
        # The validator lists ten violations, then stops looking: the wrong type after them must
        # still get an AWS-shaped answer, never a closed connection.
        queries = [{"Id": ""}] * 10 + [{"Id": "q", "MetricStat": {
            "Metric": {"Namespace": "n", "MetricName": "m"}, "Period": "x", "Stat": "Sum"}}]
        status, text = self.api.send(
            "monitoring", {"Content-Type": "application/x-amz-json-1.0",
                           "X-Amz-Target": "GraniteServiceVersion20100801.GetMetricData"},
            json.dumps({"StartTime": 1, "EndTime": 2, "MetricDataQueries": queries}))
        self.assertAnswered(status, text, 400, "ValidationError")
        body = {"serviceName": 123, "taskDefinition": "x", "placementConstraints": [{"type": "bad"}] * 10}
        status, text = self.api.json(ECS, "CreateService", json.dumps(body))
        self.assertAnswered(status, text, 400, "InvalidParameterException")
        self.assertStillServing()

    def test_13_query_replies_parse_whatever_the_request_quotes(self):
        form = {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}
        label = ("Action=GetMetricData&Version=2010-08-01&StartTime=2023-11-14T22:13:00Z"
                 "&EndTime=2023-11-14T23:13:00Z&MetricDataQueries.member.1.Id=m"
                 "&MetricDataQueries.member.1.Label=x%01y&MetricDataQueries.member.1.MetricStat.Period=60"
                 "&MetricDataQueries.member.1.MetricStat.Metric.Namespace=n"
                 "&MetricDataQueries.member.1.MetricStat.Metric.MetricName=m"
                 "&MetricDataQueries.member.1.MetricStat.Stat=Sum")
        status, text = self.api.send("monitoring", form, label)
        self.assertEqual(status, 200, text)
        ElementTree.fromstring(text)
        for body in ("Action=GetDashboard&Version=2010-08-01&DashboardName=a%02b",
                     "Action=Get%01Dashboard&Version=2010-08-01"):
            with self.subTest(body=body):
                status, text = self.api.send("monitoring", form, body)
                self.assertEqual(status, 400, text)
                ElementTree.fromstring(text)
        arn = self.elbv2.create_load_balancer(Name="val-xml", Subnets=["subnet-local"])[
            "LoadBalancers"][0]["LoadBalancerArn"]
        status, text = self.api.query(
            "Action=CreateListener&Version=2015-12-01&Port=%d&LoadBalancerArn=%s"
            "&DefaultActions.member.1.Type=forward&DefaultActions.member.1.TargetGroupArn=a%s"
            % (free_port(), urllib.parse.quote(arn, safe=""), "%C3%A9" * 200))
        self.assertAnswered(status, text, 400, "TargetGroupNotFound", xml=True)

    def raw_http(self, head):
        """Sends `head` (request line and header) as is; returns (status, body) of the answer."""
        with socket.create_connection(("127.0.0.1", self.engine.api_port), timeout=30) as s:
            s.sendall(head)
            response = http.client.HTTPResponse(s)
            response.begin()
            return response.status, response.read().decode()

    def test_14_headers_over_8_kib_or_with_control_bytes_are_answered(self):
        status, text = self.raw_http(b"POST / HTTP/1.1\r\nHost: x\r\nX-Amz-Target: " + ECS.encode()
                                     + b".ListClusters\r\nX-Pad: " + b"p" * 9000 + b"\r\n\r\n")
        self.assertAnswered(status, text, 431, "RequestHeaderSectionTooLargeException")
        status, text = self.raw_http(b"POST / HTTP/1.1\r\nHost: x\r\nX-Amz-Target: Amazon\x01.Op\r\n"
                                     b"Content-Length: 0\r\n\r\n")
        self.assertAnswered(status, text, 400, "BadRequest", xml=True)
        self.assertStillServing()


if __name__ == "__main__":
    unittest.main(verbosity=2)
