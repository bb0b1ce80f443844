"""Warnings fail the build only where asked (scripts and CI): a user's own configuration, e.g.
`cmake -DCMAKE_BUILD_TYPE=Release`, must not turn a compiler's false positive into a failed build.
Configures the tree twice into scratch directories and reads the compile commands CMake wrote."""
import json
import os
import shutil
import subprocess
import tempfile
import unittest

SOURCE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "../..")


def compile_flags(*options):
    """The compile command of every translation unit slipway builds, for a configure with `options`."""
    build = tempfile.mkdtemp(prefix="slipway-configure-")
    try:
        out = subprocess.run(["cmake", "-S", SOURCE, "-B", build, "-G", "Ninja", "-DCMAKE_EXPORT_COMPILE_COMMANDS=ON",
                              *options], capture_output=True, text=True, timeout=300)
        if out.returncode != 0:
            raise AssertionError("cmake failed: " + out.stdout + out.stderr)
        with open(os.path.join(build, "compile_commands.json")) as f:
            return [entry["command"] for entry in json.load(f) if "/src/" in entry["file"]]
    finally:
        shutil.rmtree(build, ignore_errors=True)


class BuildOptionsTest(unittest.TestCase):
    def test_a_release_build_warns_without_failing(self):
        commands = compile_flags("-DCMAKE_BUILD_TYPE=Release")
        self.assertGreater(len(commands), 50)
        for command in commands:
            self.assertIn("-Wall", command.split())
            self.assertNotIn("-Werror", command.split(), command)

    def test_scripts_ask_for_warnings_as_errors(self):
        commands = compile_flags("-DCMAKE_BUILD_TYPE=RelWithDebInfo", "-DSLIPWAY_WERROR=ON")
        self.assertGreater(len(commands), 50)
        for command in commands:
            self.assertIn("-Werror", command.split(), command)
        with open(os.path.join(SOURCE, "scripts/build.sh")) as f:
            self.assertIn("-DSLIPWAY_WERROR=ON", f.read())


if __name__ == "__main__":
    unittest.main(verbosity=2)
