#!/usr/bin/env python3
"""Extracts the input shapes of the operations the engine serves from botocore's service models.

Writes src/engine/shapes/api_shapes.json: for each service its protocol, JSON target prefix,
the input shape of each served operation, and every shape those reach, reduced to what input
validation reads (type, required, members, member/key/value, min, max, enum, pattern, document,
sensitive).
Documentation is dropped. One shape per line keeps a regeneration's diff readable.

    python3 scripts/gen_api_shapes.py            # rewrite the data file
    python3 scripts/gen_api_shapes.py --check    # exit 1 if it is out of date
    python3 scripts/gen_api_shapes.py --check-served  # exit 1 if a handler serves an operation
                                                      # the data file has no shape for (no botocore needed)

When the engine serves a new operation, add it to SERVED below and regenerate.
"""
import argparse
import gzip
import json
import os
import re
import sys

# Must match the operations the handlers dispatch: kOps in src/engine/ecs_api.cc, kActions in
# src/engine/elb_api.cc, LogService::Handle in src/engine/logs.cc, SecretStore's handlers in
# src/engine/secrets_manager_api.cc and src/engine/parameter_store_api.cc, kOps in
# src/engine/registry/ecr_api.cc, kOps in src/engine/metrics/cloudwatch_api.cc.
SERVED = {
    "cloudwatch": ("2010-08-01", [
        "PutDashboard", "GetDashboard", "ListDashboards", "DeleteDashboards", "ListMetrics",
        "GetMetricData",
    ]),
    "ecs": ("2014-11-13", [
        "CreateCluster", "DescribeClusters", "RegisterTaskDefinition", "DescribeTaskDefinition",
        "ListTaskDefinitions", "CreateService", "UpdateService", "DescribeServices", "ListServices",
        "ListTasks", "DescribeTasks", "StopTask", "RunTask", "TagResource", "UntagResource",
        "ListTagsForResource", "DeregisterTaskDefinition", "DeleteTaskDefinitions",
        "ListClusters", "ListServiceDeployments", "DescribeServiceDeployments", "DescribeServiceRevisions",
    ]),
    "elbv2": ("2015-12-01", [
        "CreateLoadBalancer", "DescribeLoadBalancers", "CreateTargetGroup", "DescribeTargetGroups",
        "ModifyTargetGroupAttributes", "DescribeTargetGroupAttributes", "CreateListener",
        "DescribeListeners", "CreateRule", "ModifyRule", "DeleteRule", "DescribeRules", "SetRulePriorities",
        "DescribeTargetHealth", "RegisterTargets", "DeregisterTargets",
    ]),
    "ecr": ("2015-09-21", [
        "CreateRepository", "DescribeRepositories", "DeleteRepository", "GetAuthorizationToken",
        "DescribeImages", "ListImages", "BatchGetImage", "BatchDeleteImage", "TagResource",
        "UntagResource", "ListTagsForResource",
    ]),
    "logs": ("2014-03-28", [
        "CreateLogGroup", "CreateLogStream", "DescribeLogGroups", "DescribeLogStreams", "PutLogEvents",
        "GetLogEvents", "FilterLogEvents", "PutRetentionPolicy", "DeleteRetentionPolicy",
    ]),
    "secretsmanager": ("2017-10-17", [
        "CreateSecret", "PutSecretValue", "GetSecretValue", "DescribeSecret", "ListSecrets", "DeleteSecret",
    ]),
    "ssm": ("2014-11-06", [
        "PutParameter", "GetParameter", "GetParameters", "GetParametersByPath", "DeleteParameter",
    ]),
}

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
OUT = os.path.join(ROOT, "src", "engine", "shapes", "api_shapes.json")
# Where each service's handlers name the operations they dispatch.
DISPATCH = {
    "ecs": ("src/engine/ecs_api.cc", r'\{"([A-Za-z]+)", &ControlPlane::'),
    "elbv2": ("src/engine/elb_api.cc", r'\{"([A-Za-z]+)", &LoadBalancing::'),
    "logs": ("src/engine/logs.cc", r'op == "([A-Za-z]+)"'),
    "secretsmanager": ("src/engine/secrets_manager_api.cc", r'op == "([A-Za-z]+)"'),
    "ssm": ("src/engine/parameter_store_api.cc", r'op == "([A-Za-z]+)"'),
    "ecr": ("src/engine/registry/ecr_api.cc", r'\{"([A-Za-z]+)", &EcrService::'),
    "cloudwatch": ("src/engine/metrics/cloudwatch_api.cc", r'\{"([A-Za-z]+)", &CloudWatchService::'),
}
# The member keys that change how a value is read; the rest (documentation, box, deprecated...) do not.
MEMBER_KEYS_IGNORED = {"shape", "documentation", "deprecated", "deprecatedMessage", "deprecatedSince", "box",
                       "idempotencyToken", "sensitive"}


def load_model(service, version):
    import botocore  # only generating needs it; --check-served does not
    base = os.path.join(os.path.dirname(botocore.__file__), "data", service, version, "service-2.json")
    if os.path.exists(base):
        with open(base) as f:
            return json.load(f)
    with gzip.open(base + ".gz") as f:
        return json.load(f)


def reduce_shape(name, shape):
    out = {"type": shape["type"]}
    if shape.get("document"):
        out["document"] = True
    if shape.get("sensitive"):  # errors must not quote the value
        out["sensitive"] = True
    if "required" in shape:
        out["required"] = shape["required"]
    if "members" in shape:
        members = {}
        for member, ref in shape["members"].items():
            unknown = set(ref) - MEMBER_KEYS_IGNORED
            if unknown:  # e.g. locationName or flattened: the validator would read the wire wrongly
                sys.exit("%s.%s has %s, which the validator does not handle" % (name, member, sorted(unknown)))
            members[member] = ref["shape"]
        out["members"] = members
    for key in ("member", "key", "value"):
        if key in shape:
            unknown = set(shape[key]) - {"shape", "documentation"}
            if unknown:
                sys.exit("%s.%s has %s, which the validator does not handle" % (name, key, sorted(unknown)))
            out[key] = shape[key]["shape"]
    for key in ("min", "max"):
        if key in shape:
            if shape[key] != int(shape[key]):
                sys.exit("%s has a fractional %s" % (name, key))
            out[key] = int(shape[key])
    if "enum" in shape:
        out["enum"] = shape["enum"]
    if "pattern" in shape:
        out["pattern"] = shape["pattern"]
    return out


def service_shapes(service, version, operations):
    model = load_model(service, version)
    shapes = {}

    def walk(name):
        if name in shapes:
            return
        shape = model["shapes"][name]
        shapes[name] = reduce_shape(name, shape)
        for key in ("member", "key", "value"):
            if key in shape:
                walk(shape[key]["shape"])
        for ref in shape.get("members", {}).values():
            walk(ref["shape"])

    inputs = {}
    for op in operations:
        inputs[op] = model["operations"][op]["input"]["shape"]
        walk(inputs[op])
    meta = model["metadata"]
    head = {"protocol": meta["protocol"], "targetPrefix": meta.get("targetPrefix", ""), "operations": inputs}
    return head, shapes


def check_served(path):
    """Exits 1 unless the data file has a shape for exactly the operations the handlers dispatch."""
    with open(path) as f:
        services = json.load(f)["services"]
    problems = []
    for service, (source, pattern) in sorted(DISPATCH.items()):
        with open(os.path.join(ROOT, source)) as f:
            handled = set(re.findall(pattern, f.read()))
        shaped = set(services.get(service, {}).get("operations", {}))
        if handled - shaped:
            problems.append("%s serves %s without an input shape" % (source, sorted(handled - shaped)))
        if shaped - handled:
            problems.append("%s has shapes for %s, which %s does not serve" % (path, sorted(shaped - handled), source))
    if problems:
        sys.exit("\n".join(problems) + "\nadd the operations to SERVED in scripts/gen_api_shapes.py and run it")
    print("every served operation has an input shape")


def render():
    import botocore
    lines = ["{", '"botocore": %s,' % json.dumps(botocore.__version__), '"services": {']
    for i, (service, (version, operations)) in enumerate(sorted(SERVED.items())):
        head, shapes = service_shapes(service, version, operations)
        lines.append('%s: {"apiVersion": %s, "protocol": %s, "targetPrefix": %s,' % (
            json.dumps(service), json.dumps(version), json.dumps(head["protocol"]), json.dumps(head["targetPrefix"])))
        lines.append('"operations": %s,' % json.dumps(head["operations"], sort_keys=True))
        lines.append('"shapes": {')
        names = sorted(shapes)
        for j, name in enumerate(names):
            comma = "," if j + 1 < len(names) else ""
            lines.append("%s: %s%s" % (json.dumps(name), json.dumps(shapes[name], sort_keys=True), comma))
        lines.append("}}" + ("," if i + 1 < len(SERVED) else ""))
    lines += ["}}", ""]
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if the data file is out of date")
    parser.add_argument("--check-served", action="store_true",
                        help="exit 1 unless the data file covers exactly the operations the handlers serve")
    parser.add_argument("--output", default=OUT)
    args = parser.parse_args()
    if args.check_served:
        return check_served(args.output)
    text = render()
    json.loads(text)  # the hand-assembled layout must still be one JSON document
    if args.check:
        with open(args.output) as f:
            if f.read() != text:
                sys.exit("%s is out of date: run scripts/gen_api_shapes.py" % args.output)
        return
    os.makedirs(os.path.dirname(args.output), exist_ok=True)
    with open(args.output, "w") as f:
        f.write(text)
    print("wrote %s (%d bytes)" % (os.path.relpath(args.output), len(text)))


if __name__ == "__main__":
    main()
