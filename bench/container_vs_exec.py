#!/usr/bin/env python3
"""Task start latency and release duration, the podman runtime against the exec runtime, side by
side on one machine in one run.

For each runtime: 20 standalone tasks (RunTask) started one after another, each timed from the
RunTask call until DescribeTasks says RUNNING (the image is pushed to the engine's ECR, pinned by
digest and pulled once before, so every start finds it cached); then the demo released as v1 and
the time of a 2-task release of v2 (`slipway deploy`, health checks and verify included).

Run after building (build/bin): python3 bench/container_vs_exec.py [--starts N]"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "../tests/e2e"))
from harness import AWS, BIN, Engine  # noqa: E402

STATIC_APP = os.path.join(BIN, "slipway-demo-app-static")


def run(*argv, **kw):
    out = subprocess.run(list(argv), capture_output=True, text=True, timeout=300, **kw)
    if out.returncode != 0:
        sys.exit("%s failed: %s%s" % (" ".join(argv), out.stdout, out.stderr))
    return out.stdout


def push_image(engine):
    """Builds the demo image and pushes it to the engine's ECR; returns repository@digest."""
    ctx = tempfile.mkdtemp(dir=engine.dir)
    shutil.copy(STATIC_APP, os.path.join(ctx, "app"))
    with open(os.path.join(ctx, "Containerfile"), "w") as f:
        f.write('FROM scratch\nCOPY app /app\nENV DEMO_ANY_ADDR=1\nENTRYPOINT ["/app"]\n')
    local = "localhost/slipway-bench/demo:%d" % os.getpid()
    run("buildah", "build", "--isolation", "chroot", "--quiet", "-t", local, ctx)
    repo = engine.aws("ecr", "create-repository", "--repository-name", "bench")["repository"]["repositoryUri"]
    password = run(AWS, "--endpoint-url", engine.endpoint, "ecr", "get-login-password", env=engine.env).strip()
    authfile = os.path.join(engine.dir, "auth.json")
    run("podman", "login", "--authfile", authfile, "--tls-verify=false", "--username", "AWS", "--password-stdin",
        repo.split("/")[0], input=password)
    digest_file = os.path.join(engine.dir, "digest")
    run("podman", "push", "--authfile", authfile, "--tls-verify=false", "--digestfile", digest_file, local, repo + ":v1")
    run("podman", "rmi", "-f", local)
    with open(digest_file) as f:
        return "%s@%s" % (repo, f.read().strip())


def start_latencies(engine, container, starts):
    ecs = engine.client("ecs")
    ecs.create_cluster(clusterName="bench")
    td = ecs.register_task_definition(
        family="bench", networkMode="awsvpc", requiresCompatibilities=["FARGATE"], cpu="256", memory="512",
        containerDefinitions=[container])["taskDefinition"]["taskDefinitionArn"]
    # One start first, so the image is pulled and cached (podman) as it is for every later start.
    samples = []
    for i in range(starts + 1):
        began = time.monotonic()
        arn = ecs.run_task(cluster="bench", taskDefinition=td)["tasks"][0]["taskArn"]
        while True:
            task = ecs.describe_tasks(cluster="bench", tasks=[arn])["tasks"][0]
            if task["lastStatus"] in ("RUNNING", "STOPPED"):
                break
            time.sleep(0.01)
        if task["lastStatus"] != "RUNNING":
            sys.exit("task stopped: %s" % task.get("stoppedReason"))
        if i > 0:
            samples.append(time.monotonic() - began)
        ecs.stop_task(cluster="bench", task=arn)
    return samples


def release_seconds(engine, config, version_env):
    first = engine.slipway("deploy", "dev", "--config", config, env=dict(version_env, APP_VERSION="v1"), timeout=600)
    if first.returncode != 0:
        sys.exit("v1 release failed: " + first.stdout + first.stderr)
    began = time.monotonic()
    second = engine.slipway("deploy", "dev", "--config", config, env=dict(version_env, APP_VERSION="v2"), timeout=600)
    if second.returncode != 0:
        sys.exit("v2 release failed: " + second.stdout + second.stderr)
    return time.monotonic() - began


def measure(runtime, starts):
    engine = Engine()
    engine.env["SLIPWAY_RUNTIME"] = runtime
    try:
        engine.start()
        if runtime == "podman":
            image = push_image(engine)
            container = {"name": "web", "image": image, "portMappings": [{"containerPort": 8080}]}
            td = {"family": "demo-web", "networkMode": "awsvpc", "requiresCompatibilities": ["FARGATE"],
                  "cpu": "256", "memory": "512", "containerDefinitions": [{
                      "name": "web", "image": image, "essential": True,
                      "portMappings": [{"containerPort": 8080}], "stopTimeout": 10,
                      "environment": [{"name": "APP_VERSION", "value": "${APP_VERSION:-v1}"}]}]}
            with open(os.path.join(engine.dir, "bench.taskdef.json"), "w") as f:
                json.dump(td, f)
            config = engine.variant_config("bench.yaml", {"taskDefinition: web.taskdef.json":
                                                          "taskDefinition: bench.taskdef.json"})
        else:
            container = {"name": "web", "image": "slipway/demo-web:v1", "entryPoint": [STATIC_APP],
                         "portMappings": [{"containerPort": 8080}]}
            config = engine.config
        samples = start_latencies(engine, container, starts)
        release = release_seconds(engine, config, {"SLIPWAY_BIN_DIR": BIN})
        return samples, release
    finally:
        engine.stop()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--starts", type=int, default=20)
    args = parser.parse_args()
    results = {}
    for runtime in ("exec", "podman"):
        samples, release = measure(runtime, args.starts)
        q = statistics.quantiles(samples, n=20)
        results[runtime] = (statistics.median(samples), q[18], release)
        print("%-6s task start (%d starts, cached image): p50 %.0f ms, p95 %.0f ms; 2-task release of v2: %.1f s"
              % (runtime, len(samples), results[runtime][0] * 1000, results[runtime][1] * 1000, release), flush=True)
    e, p = results["exec"], results["podman"]
    print("podman / exec: start p50 %.1fx, p95 %.1fx, release %.2fx" % (p[0] / e[0], p[1] / e[1], p[2] / e[2]))


if __name__ == "__main__":
    main()
