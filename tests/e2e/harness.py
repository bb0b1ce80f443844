"""Shared pieces of the end-to-end tests: a private engine, free ports, a load generator."""
import http.client
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.request

import boto3

BIN = os.environ.get("SLIPWAY_BIN_DIR", os.path.join(os.path.dirname(__file__), "../../build/bin"))
SLIPWAY = os.path.join(BIN, "slipway")
DEMO = os.path.join(os.path.dirname(__file__), "../../examples/demo")
AWS = "/usr/bin/aws" if os.path.exists("/usr/bin/aws") else "aws"  # Debian's awscli

# Nothing a test starts may ask EC2's instance metadata service (169.254.169.254) for credentials:
# slipway, the aws CLI and boto3 all read this, and every test environment starts from os.environ.
os.environ["AWS_EC2_METADATA_DISABLED"] = "true"


def process_gone(pid):
    """True once `pid` has fully exited: no longer running (or a zombie nobody reaped) and no thread
    of it left releasing its descriptors."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            if f.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X"):
                return False
        return len(os.listdir("/proc/%d/task" % pid)) <= 1
    except OSError:
        return True


_handed_out = set()


def free_port():
    """A loopback port nothing listens on, never the same one twice in this process. The kernel may
    hand the same free port to two bind(0) calls in a row (about once in 2,000 triples here), and
    an engine's listener port equal to another one of its ports makes a test fail for no reason."""
    while True:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port not in _handed_out:
            _handed_out.add(port)
            return port


class Moto:
    """moto's server on a free loopback port: a second implementation of the AWS APIs, for shapes the
    engine does not serve. `env` adds settings such as INITIAL_NO_AUTH_ACTION_COUNT."""

    def __init__(self, **env):
        self.endpoint = "http://127.0.0.1:%d" % free_port()
        self.proc = subprocess.Popen([sys.executable, "-m", "moto.server", "-p", self.endpoint.rsplit(":", 1)[1]],
                                     env=dict(os.environ, **env), stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        deadline = time.time() + 30
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError("moto.server exited with %d before it answered" % self.proc.returncode)
            try:
                urllib.request.urlopen(self.endpoint + "/moto-api/", timeout=1)
                return
            except Exception:
                if time.time() > deadline:
                    self.stop()
                    raise
                time.sleep(0.2)

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=10)


class Engine:
    """A slipway engine on free loopback ports with its own data dir, and a demo config for it."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="slipway-e2e-")
        self.data_dir = os.path.join(self.dir, "data")
        self.api_port = free_port()
        self.listener_port = free_port()
        self.prod_port = free_port()
        shutil.copy(os.path.join(DEMO, "web.taskdef.json"), self.dir)
        with open(os.path.join(DEMO, "slipway.yaml")) as f:
            text = f.read()
        text = text.replace("listenerPort: 8080", "listenerPort: %d" % self.listener_port)
        text = text.replace("listenerPort: 8090", "listenerPort: %d" % self.prod_port)
        text = text.replace("deregistrationDelaySeconds: 3", "deregistrationDelaySeconds: 2")
        self.config = os.path.join(self.dir, "slipway.yaml")
        with open(self.config, "w") as f:
            f.write(text)
        self.env = dict(os.environ, SLIPWAY_DATA_DIR=self.data_dir,
                        AWS_SHARED_CREDENTIALS_FILE=os.path.join(self.data_dir, "credentials"),
                        AWS_PROFILE="slipway-local", AWS_DEFAULT_REGION="us-east-1",
                        AWS_CONFIG_FILE=os.devnull, AWS_PAGER="", SLIPWAY_RUNTIME="exec")
        for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "APP_VERSION", "DEMO_FAIL",
                  "DATABASE_URL", "DEMO_MARKER"):
            self.env.pop(k, None)

    @property
    def pid(self):
        """The running engine's pid, from its engine.json."""
        with open(os.path.join(self.data_dir, "engine.json")) as f:
            return json.load(f)["pid"]

    @property
    def endpoint(self):
        return "http://127.0.0.1:%d" % self.api_port

    def start(self, *args):
        """`slipway engine start` on the API port, with `args` added (e.g. "--region", "eu-west-1")."""
        out = self.slipway("engine", "start", "--listen", "127.0.0.1:%d" % self.api_port, *args)
        assert out.returncode == 0, out.stderr + out.stdout

    def stop(self):
        self.slipway("engine", "stop")
        shutil.rmtree(self.dir, ignore_errors=True)

    def slipway(self, *args, env=None, timeout=300):
        """Runs slipway without a terminal (stdin is /dev/null), as CI does."""
        e = dict(self.env, **(env or {}))
        return subprocess.run([SLIPWAY, *args], env=e, capture_output=True, text=True, timeout=timeout,
                              stdin=subprocess.DEVNULL)

    def deploy(self, version, *args, environment="dev", config=None, **extra):
        return self.slipway("deploy", environment, "--config", config or self.config, *args,
                            env=dict(APP_VERSION=version, **extra))

    def variant_config(self, name, replacements):
        """A copy of the demo config with textual replacements, e.g. another cluster."""
        with open(self.config) as f:
            text = f.read()
        for old, new in replacements.items():
            assert old in text, old
            text = text.replace(old, new)
        path = os.path.join(self.dir, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    def fresh_environment_config(self, name):
        """A copy of the demo config whose dev environment is a fresh one: cluster and load balancer
        `name`, on a listener port of its own. Returns (path, listener port)."""
        port = free_port()
        return self.variant_config(name + ".yaml", {
            "cluster: demo-dev": "cluster: " + name, "name: demo-dev": "name: " + name,
            "listenerPort: %d" % self.listener_port: "listenerPort: %d" % port}), port

    def cluster_lock_tags(self, cluster):
        """The slipway:lock:… tags on `cluster` (none when it does not exist)."""
        ecs = self.client("ecs")
        found = ecs.describe_clusters(clusters=[cluster])["clusters"]
        if not found:
            return []
        tags = ecs.list_tags_for_resource(resourceArn=found[0]["clusterArn"])["tags"]
        return [t for t in tags if t["key"].startswith("slipway:lock:")]

    def client(self, service, config=None):
        """A boto3 client for `service` signed with the engine's key pair."""
        with open(self.env["AWS_SHARED_CREDENTIALS_FILE"]) as f:
            creds = f.read().split()
        return boto3.client(service, endpoint_url=self.endpoint, region_name="us-east-1",
                            aws_access_key_id=creds[creds.index("aws_access_key_id") + 2],
                            aws_secret_access_key=creds[creds.index("aws_secret_access_key") + 2], config=config)

    def aws(self, *args):
        out = subprocess.run([AWS, "--endpoint-url", self.endpoint, "--output", "json", *args], env=self.env,
                             capture_output=True, text=True, timeout=120)
        assert out.returncode == 0, "aws %s failed: %s" % (" ".join(args), out.stderr)
        return json.loads(out.stdout) if out.stdout.strip() else {}


class EngineTest(unittest.TestCase):
    """Tests sharing one private engine, `cls.engine`: started before the first test (with
    `engine_args` added to `slipway engine start`) and stopped after the last. What the tests share
    besides is made in setUpEngine(), with the engine running; when starting or that fails, the
    engine is stopped before the error goes on (tearDownClass does not run when setUpClass fails)."""

    engine_args = ()

    @classmethod
    def setUpClass(cls):
        cls.engine = Engine()
        try:
            cls.engine.start(*cls.engine_args)
            cls.setUpEngine()
        except BaseException:
            cls.engine.stop()
            raise

    @classmethod
    def setUpEngine(cls):
        pass

    @classmethod
    def tearDownClass(cls):
        cls.engine.stop()


class ReleasedEngineTest(EngineTest):
    """Tests sharing one engine on which the demo's v1 is released to dev (`ecs` is a client)."""

    @classmethod
    def setUpEngine(cls):
        out = cls.engine.deploy("v1")
        assert out.returncode == 0, out.stdout + out.stderr
        cls.ecs = cls.engine.client("ecs")


class Load:
    """Continuous GETs on the listener from several keep-alive clients and one reconnecting client."""

    def __init__(self, port, keepalive_clients=4, path="/"):
        self.port = port
        self.path = path
        self.stop_flag = threading.Event()
        self.lock = threading.Lock()
        self.codes = {}
        self.errors = []
        self.bodies = []
        self.threads = [threading.Thread(target=self._run, args=(True,)) for _ in range(keepalive_clients)]
        self.threads.append(threading.Thread(target=self._run, args=(False,)))

    def _record(self, code, body, err=None):
        with self.lock:
            if err is not None:
                self.errors.append(err)
            else:
                self.codes[code] = self.codes.get(code, 0) + 1
                self.bodies.append(body)

    def _run(self, keepalive):
        conn = None
        while not self.stop_flag.is_set():
            try:
                if conn is None:
                    conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
                conn.request("GET", self.path)
                resp = conn.getresponse()
                body = resp.read().decode()
                self._record(resp.status, body)
                if not keepalive or resp.getheader("Connection", "").lower() == "close":
                    conn.close()
                    conn = None
            except Exception as e:  # any socket error is a failed request
                self._record(None, None, repr(e))
                if conn:
                    conn.close()
                conn = None
        if conn:
            conn.close()

    def __enter__(self):
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc):
        self.stop_flag.set()
        for t in self.threads:
            t.join()

    @property
    def total(self):
        return sum(self.codes.values()) + len(self.errors)

    def failed(self):
        return len(self.errors) + sum(n for code, n in self.codes.items() if not 200 <= code < 300)


class RawConnection:
    """A raw client connection to a listener, reading responses as bytes."""

    def __init__(self, port, timeout=30):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.pending = b""

    def close(self):
        self.sock.close()

    def send(self, data):
        self.sock.sendall(data)

    def more(self):
        chunk = self.sock.recv(1 << 20)
        self.pending += chunk
        return bool(chunk)

    def take(self, n):
        while len(self.pending) < n:
            if not self.more():
                raise EOFError("closed after %d of %d bytes" % (len(self.pending), n))
        data, self.pending = self.pending[:n], self.pending[n:]
        return data

    def head(self):
        """(status, headers with lowercase names) of the next response."""
        while b"\r\n\r\n" not in self.pending:
            if not self.more():
                raise EOFError("the connection closed with %r unanswered" % self.pending)
        head, self.pending = self.pending.split(b"\r\n\r\n", 1)
        lines = head.decode("latin-1").split("\r\n")
        headers = {}
        for line in lines[1:]:
            name, value = line.split(":", 1)
            headers[name.strip().lower()] = value.strip()
        return int(lines[0].split(" ")[1]), headers

    def line(self):
        while b"\r\n" not in self.pending:
            if not self.more():
                raise EOFError("closed in a chunk header")
        line, self.pending = self.pending.split(b"\r\n", 1)
        return line

    def chunk(self):
        """The next chunk's data; b"" for the last (trailers skipped)."""
        size = int(self.line().split(b";")[0], 16)
        if size == 0:
            while self.line():
                pass
            return b""
        data = self.take(size)
        self.take(2)
        return data

    def response(self):
        """(status, headers, body) of the next response, by Content-Length or chunked."""
        status, headers = self.head()
        if headers.get("transfer-encoding", "").lower() == "chunked":
            body = b""
            while True:
                c = self.chunk()
                if not c:
                    return status, headers, body
                body += c
        return status, headers, self.take(int(headers.get("content-length", "0")))

    def closed(self):
        """Whether the server closes the connection (EOF or reset) with nothing more sent."""
        try:
            return not self.more() and self.pending == b""
        except ConnectionResetError:
            return self.pending == b""
