"""End-to-end: how the CLI finds, starts (or does not start) the local engine: the listen address
from slipway.yaml and $SLIPWAY_ENGINE_LISTEN, read-only commands that never start an engine, and
`engine start` asked for an address other than the running engine's."""
import json
import os
import socket
import unittest

from harness import Engine, free_port

READ_ONLY = (["status", "dev"], ["history", "dev"], ["logs", "dev", "web"], ["diagnose", "dev"])


def listening(port):
    with socket.socket() as s:
        s.settimeout(2)
        return s.connect_ex(("127.0.0.1", port)) == 0


class CliEngineTest(unittest.TestCase):
    def setUp(self):
        self.engine = Engine()  # not started: each test decides how an engine comes up

    def tearDown(self):
        self.engine.stop()

    def engine_json(self):
        with open(os.path.join(self.engine.data_dir, "engine.json")) as f:
            return json.load(f)

    def config_listening_on(self, port):
        return self.engine.variant_config("listen.yaml", {
            "app: demo": "app: demo\nengine:\n  listen: \"127.0.0.1:%d\"" % port})

    def test_1_an_engine_started_for_a_command_listens_where_slipway_yaml_says(self):
        config = self.config_listening_on(self.engine.api_port)
        out = self.engine.slipway("unlock", "dev", "--config", config)
        self.assertEqual(out.returncode, 0, out.stdout + out.stderr)
        self.assertIn("starting the local engine on 127.0.0.1:%d" % self.engine.api_port, out.stderr)
        self.assertEqual(self.engine_json()["endpoint"], self.engine.endpoint)
        self.assertTrue(listening(self.engine.api_port))
        self.assertEqual(self.engine.aws("ecs", "list-clusters")["clusterArns"], [])

    def test_2_slipway_engine_listen_overrides_slipway_yaml(self):
        config = self.config_listening_on(free_port())
        out = self.engine.slipway("unlock", "dev", "--config", config,
                                  env={"SLIPWAY_ENGINE_LISTEN": "127.0.0.1:%d" % self.engine.api_port})
        self.assertEqual(out.returncode, 0, out.stdout + out.stderr)
        self.assertEqual(self.engine_json()["endpoint"], self.engine.endpoint)
        self.engine.slipway("engine", "stop")
        # `engine start` reads it too when --listen is not given.
        port = free_port()
        out = self.engine.slipway("engine", "start", env={"SLIPWAY_ENGINE_LISTEN": "127.0.0.1:%d" % port})
        self.assertEqual(out.returncode, 0, out.stdout + out.stderr)
        self.assertEqual(self.engine_json()["endpoint"], "http://127.0.0.1:%d" % port)
        bad = self.engine.slipway("engine", "run", env={"SLIPWAY_ENGINE_LISTEN": "127.0.0.1"})
        self.assertEqual(bad.returncode, 2, bad.stdout + bad.stderr)
        self.assertIn("SLIPWAY_ENGINE_LISTEN", bad.stderr)

    def test_3_read_only_commands_never_start_an_engine(self):
        for args in READ_ONLY:
            with self.subTest(command=args[0]):
                out = self.engine.slipway(*args, "--config", self.engine.config)
                self.assertEqual(out.returncode, 7, out.stdout + out.stderr)
                self.assertIn("no local engine is running (data dir %s)" % self.engine.data_dir, out.stderr)
                self.assertNotIn("starting the local engine", out.stderr)
                as_json = self.engine.slipway(*args, "--config", self.engine.config, "--output", "json")
                self.assertEqual(as_json.returncode, 7, as_json.stdout + as_json.stderr)
                report = json.loads(as_json.stdout)
                self.assertEqual((report["environment"], report["engineRunning"], report["dataDir"]),
                                 ("dev", False, self.engine.data_dir))
                self.assertIn("no local engine is running", report["error"])
                self.assertFalse(os.path.exists(os.path.join(self.engine.data_dir, "engine.json")))
        # With an engine running they read it as before.
        self.engine.start()
        out = self.engine.slipway("history", "dev", "--config", self.engine.config, "--output", "json")
        self.assertEqual(out.returncode, 0, out.stdout + out.stderr)
        self.assertEqual(json.loads(out.stdout), [])

    def test_4_engine_start_elsewhere_while_one_runs_names_the_running_engine(self):
        self.engine.start()
        other = free_port()
        out = self.engine.slipway("engine", "start", "--listen", "127.0.0.1:%d" % other)
        self.assertEqual(out.returncode, 1, out.stdout + out.stderr)
        self.assertIn("already runs at %s (pid %d), not at 127.0.0.1:%d" % (self.engine.endpoint, self.engine.pid, other),
                      out.stderr)
        self.assertFalse(listening(other))
        out = self.engine.slipway("engine", "start", env={"SLIPWAY_ENGINE_LISTEN": "127.0.0.1:%d" % other})
        self.assertEqual(out.returncode, 1, out.stdout + out.stderr)
        self.assertIn("already runs at %s" % self.engine.endpoint, out.stderr)
        # The same address again, or none asked for: it is already running.
        for args in (["--listen", "127.0.0.1:%d" % self.engine.api_port], []):
            out = self.engine.slipway("engine", "start", *args)
            self.assertEqual(out.returncode, 0, out.stdout + out.stderr)
            self.assertIn("engine already running at %s" % self.engine.endpoint, out.stdout)
        self.assertEqual(self.engine_json()["endpoint"], self.engine.endpoint)


if __name__ == "__main__":
    unittest.main()
