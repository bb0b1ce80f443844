"""An engine's cgroups are its data dir's alone: a task's go when it ends, an engine killed with
SIGKILL has the leftovers of its tasks that no longer run removed by the next engine on the same
data dir (never another data dir's), and `slipway engine stop` leaves no cgroup of the engine."""
import os
import signal
import time
import unittest

from harness import Engine, process_gone

CGROUP_FS = "/sys/fs/cgroup"


def copies(relative):
    """The hierarchies (v1 controllers, or the v2 root) in which cgroup `relative` exists."""
    found = [h for h in os.listdir(CGROUP_FS) if os.path.isdir(os.path.join(CGROUP_FS, h, relative))]
    if os.path.isfile(os.path.join(CGROUP_FS, "cgroup.controllers")) and os.path.isdir(
            os.path.join(CGROUP_FS, relative)):
        found.append(".")
    return found


def memory_root():
    """Where the exec runtime makes its memory cgroups, or None without a writable controller."""
    if os.path.isfile(os.path.join(CGROUP_FS, "memory", "memory.limit_in_bytes")):
        return os.path.join(CGROUP_FS, "memory")
    if os.path.isfile(os.path.join(CGROUP_FS, "cgroup.controllers")):
        return CGROUP_FS
    return None


@unittest.skipUnless(os.geteuid() == 0 and memory_root(), "needs root and a cgroup memory controller")
class CgroupTest(unittest.TestCase):
    def setUp(self):
        self.engine = Engine()
        self.others = []
        try:
            self.engine.start()
        except BaseException:
            self.engine.stop()
            raise

    def tearDown(self):
        self.engine.stop()
        for path in self.others:
            if os.path.isdir(path):
                os.rmdir(path)

    def wait_for_engine_gone(self, pid):
        deadline = time.time() + 30
        while not process_gone(pid) and time.time() < deadline:
            time.sleep(0.05)
        self.assertTrue(process_gone(pid))

    def test_leftovers_of_this_data_dir_go_at_start_and_everything_at_stop(self):
        out = self.engine.deploy("v1")
        self.assertEqual(out.returncode, 0, out.stdout + out.stderr)
        with open(os.path.join(self.engine.data_dir, "podman", "engine-id")) as f:
            engine_id = f.read().strip()
        base = "slipway-exec-" + engine_id
        root = os.path.join(memory_root(), base)
        running = sorted(os.listdir(root)) if os.path.isdir(root) else []
        running = [c for c in running if os.path.isdir(os.path.join(root, c))]
        self.assertTrue(running, "the demo's tasks (memory 128 MiB) run in cgroups under " + root)

        # The engine dies without a word; a task that no longer exists left its cgroup behind, and
        # another engine (another data dir) has one of the same task name.
        pid = self.engine.pid
        os.kill(pid, signal.SIGKILL)
        self.wait_for_engine_gone(pid)
        gone_task = "0" * 32 + "-web"
        os.mkdir(os.path.join(root, gone_task))
        other = os.path.join(memory_root(), "slipway-exec-e2e%05d" % (os.getpid() % 100000))
        os.makedirs(os.path.join(other, gone_task), exist_ok=True)
        self.others += [os.path.join(other, gone_task), other]

        self.engine.start()
        self.assertFalse(os.path.exists(os.path.join(root, gone_task)),
                         "the next engine on the data dir removes the cgroup of a task that no longer runs")
        for c in running:
            self.assertTrue(os.path.isdir(os.path.join(root, c)), "an adopted task's cgroup %s was removed" % c)
        self.assertTrue(os.path.isdir(os.path.join(other, gone_task)), "another data dir's cgroup was removed")

        out = self.engine.slipway("engine", "stop")
        self.assertEqual(out.returncode, 0, out.stdout + out.stderr)
        self.assertEqual(copies(base), [], "engine stop leaves cgroups of the engine")
        self.assertTrue(os.path.isdir(os.path.join(other, gone_task)), "another data dir's cgroup was removed")


if __name__ == "__main__":
    unittest.main(verbosity=2)
