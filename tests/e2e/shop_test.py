"""The shop example end to end on the container runtime: `slipway deploy` builds both images with
the installed builder, pushes them to the engine's ECR, pins them by digest, migrates the backend
and rolls both services out together; a v2 goes out under load with no failed request; a frontend
without BACKEND_URL brings both services back to known-good.

Needs rootful podman and buildah (scripts/install-deps.sh); fails, never skips, without them."""
import json
import os
import re
import shutil
import unittest

from harness import BIN, Engine, Load
from container_test import get, run, stop_engine

SHOP = os.path.join(os.path.dirname(__file__), "../../examples/shop")
CLUSTER = "shop-dev"
SERVICES = ("shop-dev-frontend", "shop-dev-backend")
DIGEST = re.compile(r"@sha256:[0-9a-f]{64}$")


class ShopTest(unittest.TestCase):
    repositories = set()  # registry/repository of every image slipway built here

    @classmethod
    def setUpClass(cls):
        cls.engine = Engine()
        cls.engine.env["SLIPWAY_RUNTIME"] = "podman"
        for name in os.listdir(SHOP):
            shutil.copy(os.path.join(SHOP, name), cls.engine.dir)
        cls.config = os.path.join(cls.engine.dir, "shop.yaml")
        with open(os.path.join(SHOP, "slipway.yaml")) as f:
            text = f.read()
        text = text.replace("../../build/bin", os.path.abspath(BIN))
        text = text.replace("listenerPort: 8080", "listenerPort: %d" % cls.engine.listener_port)
        text = text.replace("listenerPort: 8090", "listenerPort: %d" % cls.engine.prod_port)
        with open(cls.config, "w") as f:
            f.write(text)
        try:
            cls.engine.start()
            with open(os.path.join(cls.engine.data_dir, "engine.json")) as f:
                assert json.load(f)["runtime"] == "podman", "the engine did not choose podman"
        except BaseException:
            stop_engine(cls.engine)
            raise
        cls.ecs = cls.engine.client("ecs")

    @classmethod
    def tearDownClass(cls):
        stop_engine(cls.engine)
        # The images slipway built stay in the host's image store: remove them.
        out = run("podman", "images", "--format", "{{.Repository}} {{.ID}}", check=False)
        ids = {line.split()[1] for line in out.stdout.splitlines() if line.split()[:1] and line.split()[0] in cls.repositories}
        if ids:
            run("podman", "rmi", "-f", *sorted(ids), check=False)

    def variant(self, name, old, new):
        """A copy of the shop's config with `old` replaced by `new`."""
        with open(self.config) as f:
            text = f.read()
        assert old in text, old
        path = os.path.join(self.engine.dir, name)
        with open(path, "w") as f:
            f.write(text.replace(old, new))
        return path

    def labelled(self, label):
        """A copy of the shop's config whose images carry LABEL shop.build=<label>, so they get
        digests of their own."""
        config = self.config
        for service in ("frontend", "backend"):
            with open(os.path.join(self.engine.dir, service + ".Dockerfile")) as f:
                text = f.read()
            with open(os.path.join(self.engine.dir, "%s-%s.Dockerfile" % (service, label)), "w") as f:
                f.write(text + "LABEL shop.build=%s\n" % label)
            with open(config) as f:
                text = f.read()
            config = os.path.join(self.engine.dir, "labelled-%s.yaml" % label)
            with open(config, "w") as f:
                f.write(text.replace("dockerfile: %s.Dockerfile" % service, "dockerfile: %s-%s.Dockerfile" % (service, label)))
        return config

    def deploy(self, version, config=None, **env):
        return self.engine.slipway("deploy", "dev", "--config", config or self.config,
                                   env=dict(APP_VERSION=version, **env), timeout=900)

    def running_images(self):
        services = self.ecs.describe_services(cluster=CLUSTER, services=list(SERVICES))["services"]
        images = {}
        for s in services:
            td = self.ecs.describe_task_definition(taskDefinition=s["taskDefinition"])["taskDefinition"]
            images[s["serviceName"]] = (s["taskDefinition"], td["containerDefinitions"][0]["image"])
        return images

    def test_0_a_failed_build_stops_the_release_before_anything_changes(self):
        with open(os.path.join(self.engine.dir, "broken.Dockerfile"), "w") as f:
            f.write("FROM scratch\nCOPY no-such-file /app\n")
        broken = self.variant("broken-build.yaml", "dockerfile: backend.Dockerfile", "dockerfile: broken.Dockerfile")
        out = self.deploy("v0", config=broken)
        self.assertEqual(out.returncode, 1, out.stdout + out.stderr)
        self.assertIn("building backend/backend failed", out.stderr)
        self.assertIn("no-such-file", out.stderr)  # the builder's own last lines
        self.assertIn("no service was changed", out.stderr)
        self.assertEqual(self.ecs.list_task_definitions()["taskDefinitionArns"], [])
        self.assertEqual(self.ecs.describe_clusters(clusters=[CLUSTER])["clusters"], [])

    def test_1_one_deploy_builds_pushes_pins_and_releases_both_services(self):
        # v1's images are built with a label of their own, so their digests differ from v2's.
        out = self.deploy("v1", config=self.labelled("v1"))
        self.assertEqual(out.returncode, 0, out.stdout + out.stderr)
        self.assertIn("building 2 image(s) with", out.stdout)
        self.assertIn("  frontend/frontend | ", out.stdout)  # the builder's own output, prefixed
        self.assertIn("applying 0002_add_price ... ok", out.stdout)  # the backend's migration ran
        status, body = get(self.engine.listener_port, "/")
        self.assertEqual(status, 200, body)
        self.assertTrue(body.startswith("shop frontend v1\nbackend: {\"service\":\"backend\",\"version\":\"v1\""), body)
        self.assertEqual(get(self.engine.listener_port, "/api/stats")[0], 200)
        repo_uri = {}
        for service, (_, image) in self.running_images().items():
            self.assertRegex(image, DIGEST)
            repo_uri[service] = image.split("@")[0]
            ShopTest.repositories.add(repo_uri[service])
        registry = self.engine.aws("ecr", "describe-repositories")["repositories"][0]["repositoryUri"].split("/")[0]
        ecr = self.engine.aws("ecr", "describe-images", "--repository-name", "shop/backend")["imageDetails"]
        tags = {t for d in ecr for t in d.get("imageTags", [])}
        self.assertIn("v1", tags)
        self.assertTrue(any(t.startswith("r") for t in tags if t != "v1"), tags)  # the release id
        self.assertEqual(repo_uri["shop-dev-backend"], registry + "/shop/backend")
        self.assertEqual(repo_uri["shop-dev-frontend"], registry + "/shop/frontend")
        history = self.engine.slipway("history", "dev", "--config", self.config)
        for _, image in self.running_images().values():
            self.assertIn(image.split("@")[1], history.stdout)

    def test_2_a_v2_release_under_load_on_both_paths_fails_no_request(self):
        with Load(self.engine.listener_port, path="/") as front, \
                Load(self.engine.listener_port, path="/api/stats") as api:
            out = self.deploy("v2")
        self.assertEqual(out.returncode, 0, out.stdout + out.stderr)
        for load in (front, api):
            self.assertGreater(load.total, 50)
            self.assertEqual(load.failed(), 0, "%s: codes %s errors %s" % (load.path, load.codes, load.errors[:5]))
        self.assertTrue(get(self.engine.listener_port, "/")[1].startswith("shop frontend v2\n"))

    def test_3_a_frontend_without_backend_url_brings_both_services_back(self):
        before = self.running_images()
        with open(os.path.join(self.engine.dir, "frontend.taskdef.json")) as f:
            td = json.load(f)
        env = td["containerDefinitions"][0]["environment"]
        td["containerDefinitions"][0]["environment"] = [e for e in env if e["name"] != "BACKEND_URL"]
        with open(os.path.join(self.engine.dir, "frontend-broken.taskdef.json"), "w") as f:
            json.dump(td, f)
        # Its images carry a label of their own, so the release has digests no other names.
        with open(self.labelled("v3")) as f:
            text = f.read()
        broken = os.path.join(self.engine.dir, "broken.yaml")
        with open(broken, "w") as f:
            f.write(text.replace("taskDefinition: frontend.taskdef.json", "taskDefinition: frontend-broken.taskdef.json"))
        out = self.deploy("v3", config=broken)
        self.assertEqual(out.returncode, 1, out.stdout + out.stderr)
        self.assertIn("the app needs environment variable BACKEND_URL", out.stdout + out.stderr)
        # All or nothing: the backend, whose own rollout went well, is back on known-good too.
        self.assertEqual(self.running_images(), before)
        self.assertTrue(get(self.engine.listener_port, "/")[1].startswith("shop frontend v2\n"))


    def ecr_digests(self, repository):
        return {d["imageDigest"] for d in self.engine.aws("ecr", "describe-images", "--repository-name", repository)["imageDetails"]}

    def test_4_cleanup_keeps_the_newest_two_releases_and_the_known_good_and_their_images_only(self):
        # Releases so far: 1 released, 2 released (known-good, running), 3 failed (its own digests).
        # Two more failed releases make five; the newest two are then both failures.
        for version in ("v4", "v5"):
            out = self.deploy(version, BACKEND_FAIL="crash")
            self.assertEqual(out.returncode, 1, out.stdout + out.stderr)
        families = ("shop-frontend", "shop-backend")
        revisions = {f: self.ecs.list_task_definitions(familyPrefix=f)["taskDefinitionArns"] for f in families}
        for family, arns in revisions.items():
            self.assertEqual([int(a.rsplit(":", 1)[1]) for a in arns], [1, 2, 3, 4, 5], family)
        described = {a: self.ecs.describe_task_definition(taskDefinition=a, include=["TAGS"])
                     for arns in revisions.values() for a in arns}
        image = {a: d["taskDefinition"]["containerDefinitions"][0]["image"] for a, d in described.items()}
        result = {a: {t["key"]: t["value"] for t in d["tags"]}["slipway:result"] for a, d in described.items()}
        for family, arns in revisions.items():
            self.assertEqual([result[a] == "released" for a in arns], [True, True, False, False, False], family)
        # 1 is where `slipway rollback` returns, 2 the known-good, 4 and 5 the newest two.
        kept = {f: [arns[0], arns[1], arns[3], arns[4]] for f, arns in revisions.items()}
        gone = {f: [arns[2]] for f, arns in revisions.items()}
        repository = {"shop-frontend": "shop/frontend", "shop-backend": "shop/backend"}
        digest_of = lambda arn: image[arn].split("@")[1]
        for family in families:
            # Release 3's images are its own, so they go with it.
            self.assertNotIn(digest_of(gone[family][0]), {digest_of(a) for a in kept[family]})
            self.assertEqual(self.ecr_digests(repository[family]),
                             {digest_of(a) for a in revisions[family]})
        services_before = self.running_images()

        # A release in flight (its lock on a service) stops cleanup before it changes anything.
        service_arn = self.ecs.describe_services(cluster=CLUSTER, services=[SERVICES[0]])["services"][0]["serviceArn"]
        self.ecs.tag_resource(resourceArn=service_arn, tags=[
            {"key": "slipway:lock", "value": "r20990101000000-abcd 2099-01-01T00:00:00Z 4070908800 someone@elsewhere"}])
        try:
            out = self.engine.slipway("cleanup", "dev", "--config", self.config, "--keep", "2")
        finally:
            self.ecs.untag_resource(resourceArn=service_arn, tagKeys=["slipway:lock"])
        self.assertEqual(out.returncode, 5, out.stdout + out.stderr)
        self.assertIn("someone@elsewhere", out.stderr)
        for family in families:
            self.assertEqual(self.ecr_digests(repository[family]), {digest_of(a) for a in revisions[family]})

        dry = self.engine.slipway("cleanup", "dev", "--config", self.config, "--keep", "2", "--dry-run",
                                  "--output", "json")
        self.assertEqual(dry.returncode, 0, dry.stdout + dry.stderr)
        plan = json.loads(dry.stdout)
        self.assertTrue(plan["dryRun"])
        self.assertEqual(sorted(r["taskDefinitionArn"] for r in plan["deregistered"]),
                         sorted(gone["shop-frontend"] + gone["shop-backend"]))
        self.assertEqual({i["imageDigest"] for i in plan["deletedImages"]},
                         {digest_of(gone[f][0]) for f in families})
        for family in families:
            self.assertEqual(self.ecs.list_task_definitions(familyPrefix=family)["taskDefinitionArns"], revisions[family],
                             "--dry-run changed something")
            self.assertEqual(self.ecr_digests(repository[family]), {digest_of(a) for a in revisions[family]},
                             "--dry-run deleted an image")

        out = self.engine.slipway("cleanup", "dev", "--config", self.config, "--keep", "2")
        self.assertEqual(out.returncode, 0, out.stdout + out.stderr)
        for family in families:
            target = "%s/shop-dev-%s" % (CLUSTER, family.split("-")[1])
            self.assertIn("kept %s  in use by service %s; known-good for %s\n" % (
                kept[family][1].rsplit("/", 1)[1], target, target), out.stdout)
            self.assertIn("kept %s  where slipway rollback returns for %s\n" % (
                kept[family][0].rsplit("/", 1)[1], target), out.stdout)
            self.assertEqual(self.ecs.list_task_definitions(familyPrefix=family)["taskDefinitionArns"], kept[family])
            self.assertEqual(self.ecs.list_task_definitions(familyPrefix=family, status="DELETE_IN_PROGRESS")
                             ["taskDefinitionArns"], gone[family])
            # Exactly the kept revisions' digests remain: release 3's are deleted.
            self.assertEqual(self.ecr_digests(repository[family]), {digest_of(a) for a in kept[family]})
            self.assertRegex(out.stdout, r"deleted image \S+/%s@%s\n" % (re.escape(repository[family]),
                                                                           digest_of(gone[family][0])))
        self.assertEqual(self.running_images(), services_before)
        self.assertTrue(get(self.engine.listener_port, "/")[1].startswith("shop frontend v2\n"))
        # Nothing more to do the second time.
        again = self.engine.slipway("cleanup", "dev", "--config", self.config, "--keep", "2", "--output", "json")
        self.assertEqual(again.returncode, 0, again.stdout + again.stderr)
        self.assertEqual(json.loads(again.stdout)["deregistered"], [])


if __name__ == "__main__":
    unittest.main(verbosity=2)
