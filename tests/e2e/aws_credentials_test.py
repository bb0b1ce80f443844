"""End-to-end: slipway finds AWS credentials as the SDKs do, with moto's STS issuing roles: web
identity, and a profile's role_arn with source_profile. ECS is moto too, reached through
SLIPWAY_ENDPOINT_URL; STS through AWS_ENDPOINT_URL_STS. Instance metadata is disabled (harness)."""
import os
import subprocess
import tempfile
import unittest

from harness import Moto, SLIPWAY, free_port

CONFIG = """app: shop
services:
  web:
    taskDefinition: web.json
    containerPort: 8080
environments:
  prod:
    provider: aws
    subnets: [subnet-a, subnet-b]
    region: us-east-1
    cluster: shop-prod
    pinImages: false
    loadBalancer: {name: shop-prod, listenerPort: 80}
    services:
      web: {desiredCount: 1}
  noregion:
    provider: aws
    subnets: [subnet-a, subnet-b]
    cluster: shop-prod
    pinImages: false
    loadBalancer: {name: shop-prod, listenerPort: 80}
    services:
      web: {desiredCount: 1}
"""

TASK_DEFINITION = """{"family": "shop-web", "containerDefinitions": [
  {"name": "web", "image": "registry.example/shop-web:1", "memory": 256, "portMappings": [{"containerPort": 8080}]}]}"""


class AwsCredentialsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.moto = Moto()
        cls.endpoint = cls.moto.endpoint
        cls.dir = tempfile.mkdtemp(prefix="slipway-creds-")
        cls.config = os.path.join(cls.dir, "slipway.yaml")
        with open(cls.config, "w") as f:
            f.write(CONFIG)
        with open(os.path.join(cls.dir, "web.json"), "w") as f:
            f.write(TASK_DEFINITION)
        cls.token_file = os.path.join(cls.dir, "web-identity-token")
        with open(cls.token_file, "w") as f:
            f.write("eyJhbGciOiJSUzI1NiJ9.e30.c2lnbmF0dXJl")
        cls.aws_config = os.path.join(cls.dir, "aws-config")
        with open(cls.aws_config, "w") as f:
            f.write("[profile deploy]\nrole_arn = arn:aws:iam::123456789012:role/deployer\nsource_profile = base\n"
                    "role_session_name = e2e\nregion = us-east-1\n"
                    "[profile base]\naws_access_key_id = AKIDBASE\naws_secret_access_key = %s\n" % ("b" * 40))
        # Only what a test adds: no keys, no profile, no files from the user running the tests.
        base = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        cls.env = dict(base, HOME=cls.dir, SLIPWAY_ENDPOINT_URL=cls.endpoint, SLIPWAY_ACTOR="ci@example",
                       AWS_EC2_METADATA_DISABLED="true", AWS_CONFIG_FILE=os.path.join(cls.dir, "none"),
                       AWS_SHARED_CREDENTIALS_FILE=os.path.join(cls.dir, "none"))

    @classmethod
    def tearDownClass(cls):
        cls.moto.stop()

    def slipway(self, *args, **env):
        return subprocess.run([SLIPWAY, *args, "--config", self.config], env=dict(self.env, **env),
                              capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)

    def test_web_identity_assumes_the_role_through_sts(self):
        web = dict(AWS_WEB_IDENTITY_TOKEN_FILE=self.token_file, AWS_ROLE_ARN="arn:aws:iam::123456789012:role/ci",
                   AWS_ROLE_SESSION_NAME="pipeline")
        out = self.slipway("history", "prod", "--output", "json", AWS_ENDPOINT_URL_STS=self.endpoint, **web)
        self.assertEqual(out.returncode, 0, out.stderr)
        # The same chain with STS unreachable fails naming the call: the credentials came from STS.
        out = self.slipway("history", "prod", AWS_ENDPOINT_URL_STS="http://127.0.0.1:%d" % free_port(), **web)
        self.assertEqual(out.returncode, 1, out.stderr)
        self.assertIn("sts AssumeRoleWithWebIdentity arn:aws:iam::123456789012:role/ci", out.stderr)

    def test_profile_role_arn_with_source_profile_through_sts(self):
        out = self.slipway("history", "prod", "--profile", "deploy", "--output", "json",
                           AWS_CONFIG_FILE=self.aws_config, AWS_ENDPOINT_URL_STS=self.endpoint)
        self.assertEqual(out.returncode, 0, out.stderr)
        out = self.slipway("history", "prod", "--profile", "deploy", AWS_CONFIG_FILE=self.aws_config,
                           AWS_ENDPOINT_URL_STS="http://127.0.0.1:%d" % free_port())
        self.assertEqual(out.returncode, 1, out.stderr)
        self.assertIn("profile deploy (role arn:aws:iam::123456789012:role/deployer)", out.stderr)
        self.assertIn("sts AssumeRole arn:aws:iam::123456789012:role/deployer", out.stderr)

    def test_without_credentials_the_error_lists_what_was_tried(self):
        out = self.slipway("history", "prod")
        self.assertEqual(out.returncode, 1, out.stderr)
        self.assertIn("no AWS credentials found; tried:", out.stderr)
        self.assertIn("EC2 instance metadata: disabled by AWS_EC2_METADATA_DISABLED=true", out.stderr)

    def test_region_comes_from_the_flag_environment_or_profile_and_its_absence_is_named(self):
        keys = dict(AWS_ACCESS_KEY_ID="AKIDMOTO", AWS_SECRET_ACCESS_KEY="x" * 40)
        out = self.slipway("history", "noregion", **keys)
        self.assertEqual(out.returncode, 1, out.stderr)
        self.assertIn("no AWS region", out.stderr)
        for extra, env in ((["--region", "us-east-1"], {}), ([], {"AWS_REGION": "us-east-1"}),
                           (["--profile", "deploy"], {"AWS_CONFIG_FILE": self.aws_config})):
            out = self.slipway("history", "noregion", "--output", "json", *extra, **dict(keys, **env))
            self.assertEqual(out.returncode, 0, (extra, env, out.stderr))


if __name__ == "__main__":
    unittest.main()
