"""ECR on the engine: the aws CLI manages repositories, podman logs in and pushes, and the engine's
docker-registry serves, deletes and gives the space back; the registry lives and dies with the
engine, survives a planned restart and a killed engine without a second copy."""
import base64
import datetime
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(__file__))
from harness import AWS, Engine, process_gone  # noqa: E402

PODMAN = ["podman", "--runtime", "runc", "--cgroup-manager", "cgroupfs", "--events-backend", "file",
          "--network-backend", "netavark"]
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"


def run(args, **kw):
    out = subprocess.run(args, capture_output=True, text=True, timeout=300, **kw)
    assert out.returncode == 0, "%s failed (%d): %s%s" % (" ".join(args), out.returncode, out.stdout, out.stderr)
    return out.stdout


def dir_bytes(path):
    total = 0
    for root, _, files in os.walk(path):
        for f in files:
            try:
                total += os.lstat(os.path.join(root, f)).st_size
            except OSError:
                pass
    return total


@unittest.skipUnless(shutil.which("docker-registry") and shutil.which("podman") and shutil.which("buildah")
                     and shutil.which("gcc"), "needs docker-registry, podman, buildah and gcc")
class EcrTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.engine = Engine()
        cls.work = tempfile.mkdtemp(prefix="slipway-ecr-")
        cls.unique = "slipway-e2e-ecr-%d-%d" % (os.getpid(), int(time.time()))
        cls.local_images = []
        cls.env = dict(os.environ, REGISTRY_AUTH_FILE=os.path.join(cls.work, "auth.json"))
        try:
            cls.engine.start()
        except BaseException:
            cls.engine.stop()
            raise

    @classmethod
    def tearDownClass(cls):
        for image in cls.local_images:
            subprocess.run(PODMAN + ["rmi", "-f", image], capture_output=True)
        cls.engine.stop()
        shutil.rmtree(cls.work, ignore_errors=True)

    # --- helpers ---------------------------------------------------------------------------------

    def aws_fails(self, *args):
        out = subprocess.run([AWS, "--endpoint-url", self.engine.endpoint, "--output", "json", *args],
                             env=self.engine.env, capture_output=True, text=True, timeout=120)
        self.assertNotEqual(out.returncode, 0, out.stdout)
        return out.stderr

    def registry_record(self):
        with open(os.path.join(self.engine.data_dir, "registry", "process.json")) as f:
            return json.load(f)

    def build_image(self, name, greeting):
        """A FROM-scratch image holding one static binary that prints `greeting`."""
        ctx = os.path.join(self.work, name)
        os.makedirs(ctx)
        with open(os.path.join(ctx, "hello.c"), "w") as f:
            f.write('#include <stdio.h>\nint main(void) { puts("%s"); return 0; }\n' % greeting)
        run(["gcc", "-static", "-Os", "-o", os.path.join(ctx, "hello"), os.path.join(ctx, "hello.c")])
        with open(os.path.join(ctx, "Containerfile"), "w") as f:
            f.write('FROM scratch\nCOPY hello /hello\nENTRYPOINT ["/hello"]\n')
        image = "localhost/%s-%s:latest" % (self.unique, name)
        self.local_images.append(image)
        run(["buildah", "build", "--isolation", "chroot", "-f", os.path.join(ctx, "Containerfile"), "-t", image,
             ctx], env=self.env)
        return image

    def push(self, image, destination):
        digest_file = os.path.join(self.work, "digest-%d" % len(os.listdir(self.work)))
        run(PODMAN + ["push", "--tls-verify=false", "--digestfile", digest_file, image, destination], env=self.env)
        with open(digest_file) as f:
            return f.read().strip()

    def registry(self, method, url, token, body=None, headers=None):
        """One request to the registry as a pusher makes it: (status, headers, body)."""
        if url.startswith("/"):
            url = "http://%s%s" % (self.host, url)
        req = urllib.request.Request(url, data=body, method=method,
                                     headers=dict(headers or {}, Authorization="Basic " + token))
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                return r.status, r.headers, r.read()
        except urllib.error.HTTPError as e:
            return e.code, e.headers, e.read()

    def upload_blob(self, repo, token, data):
        """A blob pushed as `podman push` does before its manifest; returns its descriptor."""
        status, headers, _ = self.registry("POST", "/v2/%s/blobs/uploads/" % repo, token)
        self.assertEqual(status, 202)
        location = headers["Location"]
        digest = "sha256:" + hashlib.sha256(data).hexdigest()
        status, _, body = self.registry("PUT", location + ("&" if "?" in location else "?") + "digest=" + digest,
                                        token, data, {"Content-Type": "application/octet-stream"})
        self.assertEqual(status, 201, body)
        return {"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": digest, "size": len(data)}

    def get_v2(self, token, path="/v2/"):
        req = urllib.request.Request("http://%s%s" % (self.host, path),
                                     headers={"Authorization": "Basic " + token})
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                return r.status
        except urllib.error.HTTPError as e:
            return e.code
        except urllib.error.URLError:
            return 0  # nothing listens

    # --- the scenario ----------------------------------------------------------------------------

    def test_repository_push_describe_delete_reclaim_and_lifecycle(self):
        engine = self.engine
        repo = self.unique + "/app"

        # Repositories.
        created = engine.aws("ecr", "create-repository", "--repository-name", repo,
                             "--tags", "Key=team,Value=qa", "--image-tag-mutability", "MUTABLE")["repository"]
        self.host = created["repositoryUri"].split("/")[0]
        self.assertRegex(self.host, r"^127\.0\.0\.1:\d+$")
        self.assertEqual(created["repositoryUri"], self.host + "/" + repo)
        self.assertEqual(created["repositoryArn"], "arn:aws:ecr:us-east-1:000000000000:repository/" + repo)
        self.assertEqual(created["registryId"], "000000000000")
        self.assertIn("RepositoryAlreadyExistsException",
                      self.aws_fails("ecr", "create-repository", "--repository-name", repo))
        self.assertIn("InvalidParameterException",
                      self.aws_fails("ecr", "create-repository", "--repository-name", "../etc"))
        described = engine.aws("ecr", "describe-repositories", "--repository-names", repo)["repositories"]
        self.assertEqual([r["repositoryName"] for r in described], [repo])
        self.assertIn("RepositoryNotFoundException",
                      self.aws_fails("ecr", "describe-repositories", "--repository-names", self.unique + "/nope"))
        arn = created["repositoryArn"]
        engine.aws("ecr", "tag-resource", "--resource-arn", arn, "--tags", "Key=env,Value=dev")
        engine.aws("ecr", "untag-resource", "--resource-arn", arn, "--tag-keys", "team")
        self.assertEqual(engine.aws("ecr", "list-tags-for-resource", "--resource-arn", arn)["tags"],
                         [{"Key": "env", "Value": "dev"}])

        # Tokens: base64 "AWS:<password>", 12 hours, and an earlier one stays valid.
        before = time.time()
        auth = engine.aws("ecr", "get-authorization-token")["authorizationData"][0]
        self.assertEqual(auth["proxyEndpoint"], "http://" + self.host)
        user, password = base64.b64decode(auth["authorizationToken"]).decode().split(":", 1)
        self.assertEqual(user, "AWS")
        expires = auth["expiresAt"]
        if isinstance(expires, str):  # the CLI prints timestamps as ISO 8601 or as epoch seconds
            expires = datetime.datetime.fromisoformat(expires).timestamp()
        self.assertAlmostEqual(float(expires), before + 12 * 3600, delta=120)
        login_password = subprocess.run([AWS, "--endpoint-url", engine.endpoint, "ecr", "get-login-password"],
                                        env=engine.env, capture_output=True, text=True, timeout=60)
        self.assertEqual(login_password.returncode, 0, login_password.stderr)
        self.assertEqual(login_password.stdout.strip(), password)
        run(PODMAN + ["login", "--tls-verify=false", "--username", "AWS", "--password-stdin", self.host],
            input=password, env=self.env)

        # Push two images, one of them under two tags.
        first = self.build_image("one", "hello from one")
        second = self.build_image("two", "hello from two")
        digest1 = self.push(first, "%s/%s:v1" % (self.host, repo))
        self.assertEqual(self.push(first, "%s/%s:v2" % (self.host, repo)), digest1)
        digest2 = self.push(second, "%s/%s:other" % (self.host, repo))
        self.assertNotEqual(digest1, digest2)

        ids = engine.aws("ecr", "list-images", "--repository-name", repo)["imageIds"]
        self.assertEqual(sorted((i["imageDigest"], i.get("imageTag")) for i in ids),
                         sorted([(digest1, "v1"), (digest1, "v2"), (digest2, "other")]))
        details = engine.aws("ecr", "describe-images", "--repository-name", repo)["imageDetails"]
        by_digest = {d["imageDigest"]: d for d in details}
        self.assertEqual(set(by_digest), {digest1, digest2})
        self.assertEqual(sorted(by_digest[digest1]["imageTags"]), ["v1", "v2"])
        self.assertIn(by_digest[digest1]["imageManifestMediaType"], (OCI_MANIFEST, DOCKER_MANIFEST))
        self.assertGreater(by_digest[digest1]["imageSizeInBytes"], 100_000)  # a static binary, compressed
        self.assertIn("imagePushedAt", by_digest[digest1])
        one = engine.aws("ecr", "describe-images", "--repository-name", repo, "--image-ids", "imageTag=other")
        self.assertEqual([d["imageDigest"] for d in one["imageDetails"]], [digest2])
        self.assertIn("ImageNotFoundException", self.aws_fails("ecr", "describe-images", "--repository-name", repo,
                                                               "--image-ids", "imageTag=missing"))

        got = engine.aws("ecr", "batch-get-image", "--repository-name", repo, "--image-ids", "imageTag=v1")
        self.assertEqual(got["failures"], [])
        manifest = got["images"][0]["imageManifest"]
        self.assertEqual("sha256:" + hashlib.sha256(manifest.encode()).hexdigest(), digest1)
        media_type = got["images"][0]["imageManifestMediaType"]
        other_type = DOCKER_MANIFEST if media_type == OCI_MANIFEST else OCI_MANIFEST
        refused = engine.aws("ecr", "batch-get-image", "--repository-name", repo, "--image-ids", "imageTag=v1",
                             "--accepted-media-types", other_type)
        self.assertEqual(refused["images"], [])
        self.assertEqual(len(refused["failures"]), 1)

        self.assertIn("RepositoryNotEmptyException",
                      self.aws_fails("ecr", "delete-repository", "--repository-name", repo))

        # A planned restart hands the registry over; a killed engine's registry is adopted.
        pid = self.registry_record()["pid"]
        out = engine.slipway("engine", "restart")
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertEqual(self.registry_record()["pid"], pid)
        os.kill(engine.pid, signal.SIGKILL)
        time.sleep(0.5)
        self.assertFalse(process_gone(pid), "the registry died with a killed engine")
        engine.start()
        self.assertEqual(self.registry_record()["pid"], pid)
        registries = [p for p in os.listdir("/proc") if p.isdigit() and self._is_our_registry(int(p))]
        self.assertEqual(registries, [str(pid)])

        # A push in flight when the collection starts: its blobs are up, its manifest not yet.
        token = auth["authorizationToken"]
        config = self.upload_blob(repo, token, json.dumps({"architecture": "amd64", "os": "linux"}).encode())
        config["mediaType"] = "application/vnd.oci.image.config.v1+json"
        layer = self.upload_blob(repo, token, os.urandom(4096))

        # Deletes: a tag of an image with two only untags it; its last tag deletes it; so does a digest.
        blobs = os.path.join(engine.data_dir, "registry", "storage", "docker", "registry", "v2", "blobs")
        full = dir_bytes(blobs)
        deleted = engine.aws("ecr", "batch-delete-image", "--repository-name", repo, "--image-ids", "imageTag=v2")
        self.assertEqual(deleted["imageIds"], [{"imageDigest": digest1, "imageTag": "v2"}])
        ids = engine.aws("ecr", "list-images", "--repository-name", repo)["imageIds"]
        self.assertIn({"imageDigest": digest1, "imageTag": "v1"}, ids)
        deleted = engine.aws("ecr", "batch-delete-image", "--repository-name", repo,
                             "--image-ids", "imageTag=v1", "imageDigest=" + digest2, "imageTag=missing")
        self.assertEqual(sorted(i["imageDigest"] for i in deleted["imageIds"]), sorted([digest1, digest2]))
        self.assertEqual([(f["imageId"], f["failureCode"]) for f in deleted["failures"]],
                         [({"imageTag": "missing"}, "ImageNotFound")])
        self.assertEqual(engine.aws("ecr", "list-images", "--repository-name", repo)["imageIds"], [])

        # The space comes back after the background garbage collection.
        deadline = time.time() + 60
        while dir_bytes(blobs) > full // 10 and time.time() < deadline:
            time.sleep(0.2)
        self.assertLess(dir_bytes(blobs), full // 10, "blobs: %d bytes before, %d after" % (full, dir_bytes(blobs)))

        # The collection removed the in-flight push's blobs, so finishing it fails loudly, not silently.
        manifest = json.dumps({"schemaVersion": 2, "mediaType": OCI_MANIFEST, "config": config,
                               "layers": [layer]}).encode()
        status, _, body = self.registry("PUT", "/v2/%s/manifests/inflight" % repo, token, manifest,
                                        {"Content-Type": OCI_MANIFEST})
        self.assertEqual(status, 400, body)
        self.assertIn(b"BLOB_UNKNOWN", body)
        self.assertEqual(engine.aws("ecr", "list-images", "--repository-name", repo)["imageIds"], [])

        # After maintenance the registry takes pushes again, and the first token still works.
        second_auth = engine.aws("ecr", "get-authorization-token")["authorizationData"][0]
        self.assertEqual(self.get_v2(auth["authorizationToken"]), 200)
        self.assertEqual(self.get_v2(second_auth["authorizationToken"]), 200)
        self.assertEqual(self.get_v2(base64.b64encode(b"AWS:wrong").decode()), 401)
        self.push(first, "%s/%s:again" % (self.host, repo))
        engine.aws("ecr", "delete-repository", "--repository-name", repo, "--force")
        self.assertIn("RepositoryNotFoundException",
                      self.aws_fails("ecr", "list-images", "--repository-name", repo))

        # The registry stops with the engine.
        pid = self.registry_record()["pid"]
        out = engine.slipway("engine", "stop")
        self.assertEqual(out.returncode, 0, out.stderr)
        deadline = time.time() + 10
        while not process_gone(pid) and time.time() < deadline:
            time.sleep(0.1)
        self.assertTrue(process_gone(pid))
        self.assertNotEqual(self.get_v2(auth["authorizationToken"]), 200)

    def test_without_docker_registry_the_engine_serves_and_ecr_says_what_to_install(self):
        engine = Engine()
        try:
            out = engine.slipway("engine", "start", "--listen", "127.0.0.1:%d" % engine.api_port,
                                 env={"PATH": "/nonexistent"})
            self.assertEqual(out.returncode, 0, out.stderr + out.stdout)
            started = time.time()
            err = subprocess.run([AWS, "--endpoint-url", engine.endpoint, "ecr", "describe-repositories"],
                                 env=engine.env, capture_output=True, text=True, timeout=120)
            self.assertNotEqual(err.returncode, 0)
            self.assertIn("docker-registry is not installed", err.stderr)
            self.assertIn("apt-get install docker-registry", err.stderr)
            self.assertLess(time.time() - started, 8, "the CLI retried a permanent error")
            engine.aws("logs", "describe-log-groups")  # the rest of the engine serves
        finally:
            engine.stop()

    def _is_our_registry(self, pid):
        try:
            with open("/proc/%d/cmdline" % pid, "rb") as f:
                args = f.read().split(b"\0")
        except OSError:
            return False
        return (len(args) > 2 and args[0].endswith(b"docker-registry") and args[1] == b"serve"
                and args[2].startswith(os.path.join(self.engine.data_dir, "registry").encode()))


if __name__ == "__main__":
    unittest.main(verbosity=2)
