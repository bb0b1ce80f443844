"""End-to-end: on a terminal, `deploy` and `rollback` draw one live line per service; without
one (a pipe, CI, --output json) the output is plain lines with no escape sequences."""
import fcntl
import json
import os
import pty
import re
import select
import signal
import struct
import subprocess
import termios
import time
import unittest

from harness import SLIPWAY, EngineTest

ESC = "\x1b"
# A service's live line: name, revision, phase, running/desired (and health, elapsed, event).
LIVE_LINE = re.compile(r"demo-dev-web\s+demo-web:\d+\s+(\S+(?: \S+)?)\s+(\d+)/(\d+) running")


def run_on_terminal(engine, args, env=None, columns=160, timeout=300, interrupt_when=None):
    """Runs slipway with stdout and stderr on a pseudo-terminal `columns` wide; returns
    (exit code, everything it wrote). Once the output matches the regex `interrupt_when`, slipway
    gets one SIGINT, as from Ctrl-C."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 50, columns, 0, 0))
    e = dict(engine.env, TERM="xterm-256color")
    e.update(env or {})
    if not (env and "CI" in env):
        e.pop("CI", None)
    proc = subprocess.Popen([SLIPWAY, *args], env=e, stdin=subprocess.DEVNULL, stdout=slave, stderr=slave,
                            close_fds=True)
    os.close(slave)
    out = b""
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 1.0)
            if ready:
                try:
                    chunk = os.read(master, 65536)
                except OSError:  # EIO: every writer of the terminal is gone
                    break
                if not chunk:
                    break
                out += chunk
                if interrupt_when and re.search(interrupt_when, out.decode("utf-8", "replace")):
                    proc.send_signal(signal.SIGINT)
                    interrupt_when = None
            elif proc.poll() is not None:
                break
        code = proc.wait(timeout=max(1, deadline - time.monotonic()))
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(master)
    return code, out.decode("utf-8", "replace")


def frames(text):
    """The live lines of the service, in the order they were drawn."""
    return [m for m in LIVE_LINE.finditer(text)]


class LiveProgressTest(EngineTest):
    def deploy_args(self, *extra):
        return ["deploy", "dev", "--config", self.engine.config, *extra]

    def test_1_a_release_on_a_terminal_redraws_one_line_per_service(self):
        code, out = run_on_terminal(self.engine, self.deploy_args(), env=dict(APP_VERSION="v1"))
        self.assertEqual(code, 0, out)
        # The block is redrawn in place: cursor up over it, then clear to the end of the screen.
        self.assertRegex(out, re.escape(ESC) + r"\[1A" + re.escape(ESC) + r"\[J")
        seen = frames(out)
        self.assertGreater(len(seen), 1, out)
        # It went from fewer than the desired tasks to all of them, with the targets' health.
        self.assertLess(int(seen[0].group(2)), 2, out)
        self.assertEqual(seen[-1].group(1), "completed", out)
        self.assertEqual((seen[-1].group(2), seen[-1].group(3)), ("2", "2"))
        self.assertRegex(out, r"demo-dev-web .*\d+/\d+ healthy")
        # The progress lines still scroll above the block, and the report follows the final frame.
        self.assertIn("rolling out demo-dev-web", out)
        self.assertGreater(out.index("released dev"), seen[-1].start())
        self.assertNotIn(ESC, out[out.index("released dev"):])

    def test_2_lines_are_cut_to_a_narrow_terminal(self):
        code, out = run_on_terminal(self.engine, self.deploy_args(), env=dict(APP_VERSION="v2"), columns=50)
        self.assertEqual(code, 0, out)
        last_frame = out.rindex(ESC + "[J")
        drawn = out[:out.index("\r\n", last_frame)]  # the report after the last frame has lines of its own
        live = [l for l in re.split(r"\r\n|" + re.escape(ESC) + r"\[J", drawn) if l.startswith("  demo-dev-web")]
        self.assertTrue(live, out)
        for line in live:
            self.assertLessEqual(len(line), 49, line)
        self.assertTrue(any(line.endswith("…") for line in live), live)

    def test_3_without_a_terminal_the_output_has_no_escape_sequences(self):
        out = self.engine.deploy("v3")
        self.assertEqual(out.returncode, 0, out.stdout + out.stderr)
        self.assertIn("released dev", out.stdout)
        self.assertIn("rolling out demo-dev-web", out.stdout)
        self.assertNotIn(ESC, out.stdout + out.stderr)
        self.assertEqual(frames(out.stdout), [])

    def test_4_ci_and_json_get_plain_output_even_on_a_terminal(self):
        code, out = run_on_terminal(self.engine, self.deploy_args(), env=dict(APP_VERSION="v4", CI="true"))
        self.assertEqual(code, 0, out)
        self.assertNotIn(ESC, out)
        self.assertIn("released dev", out)
        code, out = run_on_terminal(self.engine, self.deploy_args("--output", "json"), env=dict(APP_VERSION="v5"))
        self.assertEqual(code, 0, out)
        self.assertNotIn(ESC, out)
        report = json.loads(out[out.index("{"):].replace("\r\n", "\n"))
        self.assertEqual(report["result"], "released")
        code, out = run_on_terminal(self.engine, self.deploy_args(), env=dict(APP_VERSION="v6", TERM="dumb"))
        self.assertEqual(code, 0, out)
        self.assertNotIn(ESC, out)

    def test_5_a_rollback_on_a_terminal_shows_its_live_line_too(self):
        code, out = run_on_terminal(self.engine, ["rollback", "dev", "--config", self.engine.config])
        self.assertEqual(code, 0, out)
        seen = frames(out)
        self.assertTrue(seen, out)
        self.assertEqual(seen[-1].group(1), "rolled back", out)
        self.assertEqual((seen[-1].group(2), seen[-1].group(3)), ("2", "2"))
        self.assertIn(ESC + "[J", out)


    def test_6_a_failed_release_leaves_its_last_frame_and_the_reason_under_it(self):
        code, out = run_on_terminal(self.engine, self.deploy_args(), env=dict(APP_VERSION="v7", DEMO_FAIL="crash"))
        self.assertEqual(code, 1, out)
        phases = [m.group(1) for m in frames(out)]
        self.assertIn("failed", phases, out)
        self.assertEqual(phases[-1], "rolled back", out)
        # The report and its reason come under the final frame, as plain text.
        failed = out.rindex("\nrelease failed:")
        self.assertGreater(failed, frames(out)[-1].start())
        self.assertNotIn(ESC, out[failed:])

    def test_7_ctrl_c_leaves_the_line_interrupted_under_the_handlers_message(self):
        # Tasks that never pass the health check keep the rollout going until it is interrupted.
        code, out = run_on_terminal(self.engine, self.deploy_args(), env=dict(APP_VERSION="v8", DEMO_FAIL="unhealthy"),
                                    interrupt_when=r"rolling out\s+\d/2 running")
        self.assertEqual(code, 130, out)
        handler = out.index("interrupted: stopping at the next safe point")
        after = [m for m in frames(out) if m.start() > handler]
        self.assertTrue(after, out)
        self.assertEqual(after[-1].group(1), "interrupted", out)
        # The frame after the handler's message is drawn under it, not over it.
        self.assertNotIn(ESC + "[1A", out[handler:after[0].start()])
        self.assertIn("still in flight:", out[after[-1].end():])


if __name__ == "__main__":
    unittest.main()
