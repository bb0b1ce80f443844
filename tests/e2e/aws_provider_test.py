"""End-to-end: slipway with `provider: aws` against moto's ECS, a second implementation of the AWS
API. The release records (task-definition tags) and the lock read the same shapes there."""
import json
import os
import subprocess
import tempfile
import time
import unittest

import boto3

from harness import Moto, SLIPWAY

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
    pinImages: false  # moto serves no image registry
    loadBalancer: {name: shop-prod, listenerPort: 80}
    services:
      web: {desiredCount: 1}
    timeoutSeconds: 10
  stage:
    provider: aws
    subnets: [subnet-a, subnet-b]
    region: us-east-1
    cluster: shop-stage
    pinImages: false
    loadBalancer: {name: shop-stage, listenerPort: 80}
    services:
      web: {desiredCount: 1}
"""

TASK_DEFINITION = {"family": "shop-web", "containerDefinitions": [
    {"name": "web", "image": "registry.example/shop-web@sha256:" + "a" * 64, "memory": 256,
     "portMappings": [{"containerPort": 8080}]}]}


class AwsProviderTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.moto = Moto()
        cls.endpoint = cls.moto.endpoint
        cls.dir = tempfile.mkdtemp(prefix="slipway-moto-")
        with open(os.path.join(cls.dir, "slipway.yaml"), "w") as f:
            f.write(CONFIG)
        with open(os.path.join(cls.dir, "web.json"), "w") as f:
            json.dump(TASK_DEFINITION, f)
        cls.env = dict(os.environ, AWS_ACCESS_KEY_ID="AKIDMOTO", AWS_SECRET_ACCESS_KEY="x" * 40,
                       SLIPWAY_ENDPOINT_URL=cls.endpoint, SLIPWAY_ACTOR="ci@example")
        cls.ecs = boto3.client("ecs", endpoint_url=cls.endpoint, region_name="us-east-1",
                               aws_access_key_id="AKIDMOTO", aws_secret_access_key="x" * 40)
        cls.ecr = boto3.client("ecr", endpoint_url=cls.endpoint, region_name="us-east-1",
                               aws_access_key_id="AKIDMOTO", aws_secret_access_key="x" * 40)

    @classmethod
    def tearDownClass(cls):
        cls.moto.stop()

    def slipway(self, *args):
        return subprocess.run([SLIPWAY, *args, "--config", os.path.join(self.dir, "slipway.yaml")], env=self.env,
                              capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)

    def register(self, result, started):
        tags = [{"key": "slipway:service", "value": "web"}, {"key": "slipway:target", "value": "shop-prod/shop-prod-web"},
                {"key": "slipway:result", "value": result}, {"key": "slipway:started", "value": started},
                {"key": "slipway:by", "value": "alice@laptop"}]
        return self.ecs.register_task_definition(tags=tags, **TASK_DEFINITION)["taskDefinition"]["taskDefinitionArn"]

    def test_history_and_lock_read_moto_ecs(self):
        # A family whose name extends ours is not ours.
        self.ecs.register_task_definition(family="shop-web-worker", containerDefinitions=[
            {"name": "worker", "image": "registry.example/worker:1", "memory": 128}])
        good = self.register("released", "2026-11-01T10:00:00.000Z")
        bad = self.register("failed", "2026-11-02T10:00:00.000Z")
        self.ecs.create_cluster(clusterName="shop-prod")
        # moto keeps a new deployment IN_PROGRESS, as ECS does while a rollout runs.
        deployment = self.ecs.create_service(cluster="shop-prod", serviceName="shop-prod-web", taskDefinition=good,
                                             desiredCount=1)["service"]["deployments"][0]["id"]

        out = self.slipway("history", "prod", "--output", "json")
        self.assertEqual(out.returncode, 0, out.stderr)
        rows = json.loads(out.stdout)
        self.assertEqual([r["revision"] for r in rows], ["shop-web:2", "shop-web:1"])
        self.assertEqual([r["result"] for r in rows], ["failed", "released"])
        self.assertEqual([r["current"] for r in rows], [False, True])
        self.assertEqual(rows[1]["by"], "alice@laptop")
        self.assertEqual(rows[1]["images"], [TASK_DEFINITION["containerDefinitions"][0]["image"]])
        self.assertEqual(bad.rsplit("/", 1)[1], "shop-web:2")

        # A release refuses to start while that deployment is in flight, and registers nothing.
        out = self.slipway("deploy", "prod")
        self.assertEqual(out.returncode, 5, out.stdout + out.stderr)
        self.assertIn("has deployment %s in flight" % deployment, out.stderr)
        self.assertEqual(len(self.ecs.list_task_definitions(familyPrefix="shop-web")["taskDefinitionArns"]), 2)

        # A config error still names file:line and the key, whatever the provider.
        with open(os.path.join(self.dir, "slipway.yaml")) as f:
            text = f.read()
        with open(os.path.join(self.dir, "slipway.yaml"), "w") as f:
            f.write(text.replace("timeoutSeconds: 10", "timeoutSeconds: 5"))
        out = self.slipway("deploy", "prod")
        self.assertEqual(out.returncode, 2)
        self.assertRegex(out.stderr, r"slipway\.yaml:\d+: environments\.prod\.timeoutSeconds: must be between 10 and")
        with open(os.path.join(self.dir, "slipway.yaml"), "w") as f:
            f.write(text)


    def test_later_cleanup_deregisters_deletes_and_keeps_on_moto(self):
        # Stage's releases share the family with prod's; only stage's own revisions may go.
        proxy = self.ecr.get_authorization_token()["authorizationData"][0]["proxyEndpoint"].split("://")[1]
        self.ecr.create_repository(repositoryName="shop/web")
        digests = []
        for i in range(3):
            manifest = {"schemaVersion": 2, "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
                        "config": {"mediaType": "application/vnd.docker.container.image.v1+json", "size": 7,
                                   "digest": "sha256:%064x" % (i + 1)},
                        # moto derives an image's digest from its layers' digests alone.
                        "layers": [{"mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip", "size": 1,
                                    "digest": "sha256:%064x" % (i + 11)}]}
            put = self.ecr.put_image(repositoryName="shop/web", imageManifest=json.dumps(manifest), imageTag="s%d" % i)
            digests.append(put["image"]["imageId"]["imageDigest"])
        arns = []
        for i, result in enumerate(["released", "released", "failed"]):
            td = dict(TASK_DEFINITION, containerDefinitions=[dict(TASK_DEFINITION["containerDefinitions"][0],
                                                                  image="%s/shop/web@%s" % (proxy, digests[i]))])
            tags = [{"key": "slipway:target", "value": "shop-stage/shop-stage-web"}, {"key": "slipway:environment", "value": "stage"},
                    {"key": "slipway:release", "value": "s%d" % i}, {"key": "slipway:result", "value": result}]
            arns.append(self.ecs.register_task_definition(tags=tags, **td)["taskDefinition"]["taskDefinitionArn"])
            time.sleep(1.1)  # registeredAt orders the releases
        before = set(self.ecs.list_task_definitions(familyPrefix="shop-web")["taskDefinitionArns"])

        out = self.slipway("cleanup", "stage", "--keep", "1", "--output", "json")
        self.assertEqual(out.returncode, 0, out.stdout + out.stderr)
        report = json.loads(out.stdout)
        # s2 is the newest release, s1 the known-good; s0 goes with the image only it names.
        self.assertEqual([r["taskDefinitionArn"] for r in report["deregistered"]], [arns[0]])
        self.assertEqual([i["imageDigest"] for i in report["deletedImages"]], [digests[0]])
        self.assertEqual(report["errors"], [])
        self.assertEqual(set(self.ecs.list_task_definitions(familyPrefix="shop-web")["taskDefinitionArns"]),
                         before - {arns[0]})
        left = {d["imageDigest"] for d in self.ecr.describe_images(repositoryName="shop/web")["imageDetails"]}
        self.assertEqual(left, set(digests[1:]))


if __name__ == "__main__":
    unittest.main(verbosity=2)
