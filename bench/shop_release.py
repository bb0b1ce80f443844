#!/usr/bin/env python3
"""The shop example's release, stage by stage, on the container runtime, with load on / and
/api/stats during every release.

Three releases in one run: the first (images built and pushed to a fresh ECR), one with nothing
changed (every layer cached, every blob already in the registry), and one with a one-line change
to the backend (one new layer in the backend's image only). For each: slipway's own stage times
(build, push, images, provision, register, migrate, rollout, verify), the whole release, and the
load's requests and failures. The seed workflow (reference/seed-ecs-fargate-pipeline.txt) takes
about 15 minutes by hand.

Run after building (build/bin): python3 bench/shop_release.py"""
import json
import os
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "../tests/e2e"))
from harness import BIN, Engine, Load  # noqa: E402

SHOP = os.path.join(os.path.dirname(__file__), "../examples/shop")
STAGES = ("build", "push", "images", "provision", "register", "migrate", "rollout", "verify")


def setup(engine):
    """The shop with the backend built from a context of its own, holding a file that changes."""
    for name in os.listdir(SHOP):
        shutil.copy(os.path.join(SHOP, name), engine.dir)
    backend = os.path.join(engine.dir, "backend-context")
    os.mkdir(backend)
    shutil.copy(os.path.join(BIN, "slipway-demo-app-static"), backend)
    with open(os.path.join(backend, "change.txt"), "w") as f:
        f.write("change 0\n")
    with open(os.path.join(SHOP, "backend.Dockerfile")) as f:
        dockerfile = f.read().replace("COPY slipway-demo-app-static /app\n",
                                      "COPY slipway-demo-app-static /app\nCOPY change.txt /change.txt\n")
    with open(os.path.join(engine.dir, "backend.Dockerfile"), "w") as f:
        f.write(dockerfile)
    with open(os.path.join(SHOP, "slipway.yaml")) as f:
        text = f.read()
    parts = text.split("  backend:\n", 1)
    text = parts[0].replace("../../build/bin", os.path.abspath(BIN)) + "  backend:\n" + \
        parts[1].replace("context: ../../build/bin", "context: backend-context", 1)
    text = text.replace("listenerPort: 8080", "listenerPort: %d" % engine.listener_port)
    text = text.replace("listenerPort: 8090", "listenerPort: %d" % engine.prod_port)
    config = os.path.join(engine.dir, "slipway.yaml")
    with open(config, "w") as f:
        f.write(text)
    return config, os.path.join(backend, "change.txt")


def release(engine, config, version, label):
    with Load(engine.listener_port, path="/") as front, Load(engine.listener_port, path="/api/stats") as api:
        start = time.monotonic()
        out = engine.slipway("deploy", "dev", "--config", config, "--output", "json",
                             env=dict(APP_VERSION=version), timeout=900)
        seconds = time.monotonic() - start
    if out.returncode != 0:
        sys.exit("%s: deploy exited %d\n%s%s" % (label, out.returncode, out.stdout[-3000:], out.stderr[-3000:]))
    report = json.loads(out.stdout)
    stages = {s["stage"]: s["seconds"] for s in report["stages"]}
    return {"label": label, "seconds": seconds, "stages": stages,
            "requests": front.total + api.total, "failed": front.failed() + api.failed()}


def main():
    engine = Engine()
    engine.env["SLIPWAY_RUNTIME"] = "podman"
    engine.start()
    repositories = set()
    try:
        config, change = setup(engine)
        # The first release has nothing to serve yet; it is timed, without load on an empty listener.
        start = time.monotonic()
        out = engine.slipway("deploy", "dev", "--config", config, "--output", "json", env=dict(APP_VERSION="v1"),
                             timeout=900)
        if out.returncode != 0:
            sys.exit("first deploy exited %d\n%s%s" % (out.returncode, out.stdout[-3000:], out.stderr[-3000:]))
        first = json.loads(out.stdout)
        rows = [{"label": "first release (fresh ECR)", "seconds": time.monotonic() - start,
                 "stages": {s["stage"]: s["seconds"] for s in first["stages"]}, "requests": 0, "failed": 0}]
        rows.append(release(engine, config, "v1", "nothing changed"))
        with open(change, "w") as f:
            f.write("change 1\n")
        rows.append(release(engine, config, "v1", "one-line backend change"))
        ecs = engine.client("ecs")
        for svc in ecs.describe_services(cluster="shop-dev", services=["shop-dev-frontend", "shop-dev-backend"])["services"]:
            td = ecs.describe_task_definition(taskDefinition=svc["taskDefinition"])["taskDefinition"]
            repositories.add(td["containerDefinitions"][0]["image"].split("@")[0])
    finally:
        engine.slipway("engine", "stop", timeout=120)
        out = subprocess.run(["podman", "images", "--format", "{{.Repository}} {{.ID}}"], capture_output=True, text=True)
        ids = {l.split()[1] for l in out.stdout.splitlines() if l.split()[:1] and l.split()[0] in repositories}
        if ids:
            subprocess.run(["podman", "rmi", "-f", *sorted(ids)], capture_output=True)
        engine.stop()
    print("%-26s %7s " % ("release", "total") + " ".join("%9s" % s for s in STAGES) + " %9s %7s" % ("requests", "failed"))
    for r in rows:
        print("%-26s %6.1fs " % (r["label"], r["seconds"]) +
              " ".join("%8.1fs" % r["stages"][s] if s in r["stages"] else "%9s" % "-" for s in STAGES) +
              " %9d %7d" % (r["requests"], r["failed"]))
    print("seed workflow by hand: about 15 minutes (reference/seed-ecs-fargate-pipeline.txt)")


if __name__ == "__main__":
    main()
