"""README.md's slipway.yaml examples are what slipway accepts: every ```yaml block is checked by
`slipway validate`, next to stub files for the templates and build contexts it names."""
import json
import os
import re
import subprocess
import tempfile
import unittest

from harness import SLIPWAY

README = os.path.join(os.path.dirname(__file__), "../../README.md")


def yaml_blocks():
    with open(README) as f:
        return re.findall(r"^```yaml\n(.*?)^```", f.read(), re.S | re.M)


def write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)


def stub_files(block, directory):
    """Templates with every container the block names (each mapping every containerPort it names),
    and a Dockerfile in every build context."""
    names = set(re.findall(r"^\s*container:\s*([\w-]+)", block, re.M))
    names |= set(re.findall(r"^\s{4,6}([\w-]+):\s*\{build:", block, re.M))
    names |= set(re.findall(r"^  ([\w-]+):\n\s+taskDefinition:", block, re.M))
    ports = [int(p) for p in re.findall(r"containerPort:\s*(\d+)", block)] or [80]
    containers = [{"name": n, "image": "example/%s:1" % n, "essential": True,
                   "portMappings": [{"containerPort": p} for p in ports]} for n in sorted(names)]
    for template in re.findall(r"taskDefinition:\s*([^\s#]+)", block):
        write(os.path.join(directory, template), json.dumps({"containerDefinitions": containers}))
    for context in re.findall(r"context:\s*([^\s,}#]+)", block):
        write(os.path.join(directory, context, "Dockerfile"), "FROM scratch\n")


class ReadmeTest(unittest.TestCase):
    def test_there_are_yaml_examples(self):
        self.assertTrue(yaml_blocks())

    def test_every_yaml_example_is_a_valid_slipway_yaml(self):
        for i, block in enumerate(yaml_blocks()):
            with self.subTest(block=i), tempfile.TemporaryDirectory(prefix="slipway-readme-") as d:
                stub_files(block, d)
                config = os.path.join(d, "slipway.yaml")
                write(config, block)
                env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "SLIPWAY_"))}
                out = subprocess.run([SLIPWAY, "validate", "--config", config], env=env, capture_output=True,
                                     text=True, timeout=60, stdin=subprocess.DEVNULL)
                self.assertEqual(out.returncode, 0, "README yaml block %d:\n%s%s" % (i, out.stderr, out.stdout))


if __name__ == "__main__":
    unittest.main()
