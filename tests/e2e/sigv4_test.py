"""End-to-end: the engine verifies SigV4 as an AWS regional endpoint does. Requests are signed by
botocore's own signer and sent raw, so each forgery reaches the engine exactly as an attacker
would send it: a swapped body under the original hash, an unsigned hash header, UNSIGNED-PAYLOAD,
and credentials scoped to another region or service."""
import configparser
import hashlib
import http.client
import json
import os
import subprocess
import unittest
import xml.etree.ElementTree as ET

import boto3
import botocore.exceptions
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from harness import AWS, EngineTest

ECS_TARGET = "AmazonEC2ContainerServiceV20141113."
JSON_TYPE = "application/x-amz-json-1.1"
FORM_TYPE = "application/x-www-form-urlencoded; charset=utf-8"
DESCRIBE_LBS = b"Action=DescribeLoadBalancers&Version=2015-12-01"


def engine_credentials(engine):
    """The engine's key pair, read from the credentials file in its data dir."""
    ini = configparser.ConfigParser()
    ini.read(os.path.join(engine.data_dir, "credentials"))
    section = ini["slipway-local"]
    return Credentials(section["aws_access_key_id"], section["aws_secret_access_key"])


def signed(engine, creds, body, headers, service, region):
    """A POST to the engine's API, signed by botocore for `service` in `region`."""
    request = AWSRequest(method="POST", url=engine.endpoint + "/", data=body, headers=headers)
    SigV4Auth(creds, service, region).add_auth(request)
    return request


def send(engine, request, body=None, extra_headers=None):
    """Sends `request` as is (optionally with another body or more headers); returns (status, body)."""
    data = request.body if body is None else body
    headers = dict(request.headers.items())
    headers.update(extra_headers or {})
    conn = http.client.HTTPConnection("127.0.0.1", engine.api_port, timeout=10)
    try:
        conn.request("POST", "/", body=data, headers=headers)
        resp = conn.getresponse()
        return resp.status, resp.read().decode()
    finally:
        conn.close()


def json_error(text):
    doc = json.loads(text)
    return doc["__type"], doc["message"]


def xml_error(text):
    root = ET.fromstring(text)
    ns = {"e": root.tag[1:root.tag.index("}")]} if root.tag.startswith("{") else {}
    prefix = "e:" if ns else ""
    return (root.find("%sError/%sCode" % (prefix, prefix), ns).text,
            root.find("%sError/%sMessage" % (prefix, prefix), ns).text)


class SigV4Test(EngineTest):
    @classmethod
    def setUpEngine(cls):
        cls.creds = engine_credentials(cls.engine)
        ecs = cls.engine.client("ecs")
        cls.cluster_arn = ecs.create_cluster(clusterName="sigv4")["cluster"]["clusterArn"]
        cls.other_arn = ecs.create_cluster(clusterName="sigv4-other")["cluster"]["clusterArn"]

    def tag_body(self, arn, value):
        return json.dumps({"resourceArn": arn, "tags": [{"key": "who", "value": value}]}).encode()

    def tag_request(self, body, service="ecs", region="us-east-1", extra=None):
        headers = {"Content-Type": JSON_TYPE, "X-Amz-Target": ECS_TARGET + "TagResource"}
        headers.update(extra or {})
        return signed(self.engine, self.creds, body, headers, service, region)

    def tags(self, arn):
        tags = self.engine.client("ecs").list_tags_for_resource(resourceArn=arn)["tags"]
        return {t["key"]: t["value"] for t in tags}

    def assert_refused(self, response, status, code, message=None, parse=json_error):
        got_status, text = response
        self.assertEqual(got_status, status, text)
        got_code, got_message = parse(text)
        self.assertEqual(got_code, code, text)
        if message is not None:
            self.assertEqual(got_message, message)

    def assert_engine_up(self):
        out = self.engine.slipway("engine", "status", "--output", "json")
        self.assertEqual(out.returncode, 0, out.stdout + out.stderr)
        clusters = self.engine.client("ecs").describe_clusters(clusters=["sigv4"])["clusters"]
        self.assertEqual([c["clusterArn"] for c in clusters], [self.cluster_arn])

    def test_swapped_body_under_the_original_signed_hash_is_refused(self):
        # Given a captured TagResource that signed X-Amz-Content-Sha256 with its body's hash.
        body = self.tag_body(self.cluster_arn, "alice")
        captured = self.tag_request(body, extra={"X-Amz-Content-Sha256": hashlib.sha256(body).hexdigest()})
        # When its body is swapped for another resource's, the hash header no longer holds.
        forged = self.tag_body(self.other_arn, "mallory")
        self.assert_refused(send(self.engine, captured, body=forged), 400, "XAmzContentSHA256Mismatch",
                            "The provided 'x-amz-content-sha256' header does not match what was computed.")
        self.assertNotIn("who", self.tags(self.other_arn))
        # The captured request itself is accepted.
        self.assertEqual(send(self.engine, captured)[0], 200)
        self.assertEqual(self.tags(self.cluster_arn)["who"], "alice")
        self.assert_engine_up()

    def test_unsigned_hash_header_added_after_signing_is_refused(self):
        body = self.tag_body(self.cluster_arn, "bob")
        request = self.tag_request(body)
        forged = self.tag_body(self.other_arn, "mallory")
        original_hash = {"X-Amz-Content-Sha256": hashlib.sha256(body).hexdigest()}
        self.assert_refused(send(self.engine, request, body=forged, extra_headers=original_hash), 403,
                            "InvalidSignatureException")
        self.assert_refused(send(self.engine, request, extra_headers=original_hash), 403,
                            "InvalidSignatureException")
        self.assertNotIn("who", self.tags(self.other_arn))
        self.assertEqual(send(self.engine, request)[0], 200)
        self.assert_engine_up()

    def test_unsigned_payload_is_refused(self):
        body = self.tag_body(self.cluster_arn, "carol")
        request = self.tag_request(body, extra={"X-Amz-Content-Sha256": "UNSIGNED-PAYLOAD"})
        self.assert_refused(send(self.engine, request), 400, "XAmzContentSHA256Mismatch")
        self.assertEqual(send(self.engine, self.tag_request(body))[0], 200)
        self.assert_engine_up()

    def test_credential_scoped_to_another_region_is_refused(self):
        body = self.tag_body(self.cluster_arn, "dave")
        self.assert_refused(send(self.engine, self.tag_request(body, region="eu-west-9")), 403,
                            "InvalidSignatureException",
                            "Credential should be scoped to a valid region, not 'eu-west-9'. ")
        self.assertEqual(send(self.engine, self.tag_request(body, region="us-east-1"))[0], 200)
        self.assert_engine_up()

    def test_credential_scoped_to_another_service_is_refused(self):
        body = self.tag_body(self.cluster_arn, "erin")
        self.assert_refused(send(self.engine, self.tag_request(body, service="s3")), 403,
                            "InvalidSignatureException",
                            "Credential should be scoped to correct service: 'ecs'. ")
        self.assertEqual(send(self.engine, self.tag_request(body, service="ecs"))[0], 200)
        self.assert_engine_up()

    def test_elbv2_query_request_signed_for_ecs_is_refused(self):
        headers = {"Content-Type": FORM_TYPE}
        wrong = signed(self.engine, self.creds, DESCRIBE_LBS, headers, "ecs", "us-east-1")
        self.assert_refused(send(self.engine, wrong), 403, "SignatureDoesNotMatch",
                            "Credential should be scoped to correct service: 'elasticloadbalancing'. ",
                            parse=xml_error)
        right = signed(self.engine, self.creds, DESCRIBE_LBS, headers, "elasticloadbalancing", "us-east-1")
        status, text = send(self.engine, right)
        self.assertEqual(status, 200, text)
        self.assertIn("<DescribeLoadBalancersResponse", text)
        self.assert_engine_up()

    def test_aws_cli_is_refused_in_another_region_and_served_in_the_engines(self):
        def aws(region):
            return subprocess.run([AWS, "--endpoint-url", self.engine.endpoint, "--region", region, "--output", "json",
                                   "ecs", "describe-clusters", "--clusters", "sigv4"], env=self.engine.env, capture_output=True, text=True,
                                  timeout=120)
        refused = aws("eu-west-9")
        self.assertNotEqual(refused.returncode, 0)
        self.assertIn("InvalidSignatureException", refused.stderr)
        self.assertIn("Credential should be scoped to a valid region, not 'eu-west-9'.", refused.stderr)
        served = aws("us-east-1")
        self.assertEqual(served.returncode, 0, served.stderr)
        self.assertEqual([c["clusterArn"] for c in json.loads(served.stdout)["clusters"]], [self.cluster_arn])


class EngineRegionTest(EngineTest):
    """An engine started with --region serves that region only, and slipway signs for it."""

    engine_args = ("--region", "eu-west-1")

    @classmethod
    def setUpEngine(cls):
        cls.creds = engine_credentials(cls.engine)

    def client(self, service, region):
        return boto3.client(service, endpoint_url=self.engine.endpoint, region_name=region,
                            aws_access_key_id=self.creds.access_key, aws_secret_access_key=self.creds.secret_key)

    def test_boto3_is_served_in_the_engines_region_and_refused_in_us_east_1(self):
        self.client("ecs", "eu-west-1").create_cluster(clusterName="ireland")
        self.assertEqual(len(self.client("elbv2", "eu-west-1").describe_load_balancers()["LoadBalancers"]), 0)
        with self.assertRaises(botocore.exceptions.ClientError) as err:
            self.client("ecs", "us-east-1").describe_clusters(clusters=["ireland"])
        self.assertEqual(err.exception.response["Error"]["Code"], "InvalidSignatureException")
        self.assertEqual(err.exception.response["ResponseMetadata"]["HTTPStatusCode"], 403)
        self.assertIn("not 'us-east-1'", err.exception.response["Error"]["Message"])
        with self.assertRaises(botocore.exceptions.ClientError) as err:
            self.client("elbv2", "us-east-1").describe_load_balancers()
        self.assertEqual(err.exception.response["Error"]["Code"], "SignatureDoesNotMatch")

    def test_engine_status_shows_the_region(self):
        out = self.engine.slipway("engine", "status", "--output", "json")
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertEqual(json.loads(out.stdout)["region"], "eu-west-1")
        with open(os.path.join(self.engine.data_dir, "engine.json")) as f:
            self.assertEqual(json.load(f)["region"], "eu-west-1")
        text = self.engine.slipway("engine", "status")
        self.assertIn("region:      eu-west-1\n", text.stdout)

    def test_slipway_signs_local_environments_for_the_engines_region(self):
        # The demo config says nothing of eu-west-1 (its region defaults to us-east-1).
        out = self.engine.deploy("v1")
        self.assertEqual(out.returncode, 0, out.stdout + out.stderr)
        services = self.client("ecs", "eu-west-1").describe_services(cluster="demo-dev", services=["demo-dev-web"])
        self.assertEqual(services["services"][0]["status"], "ACTIVE")


if __name__ == "__main__":
    unittest.main(verbosity=2)
