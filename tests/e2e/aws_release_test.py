"""End-to-end: a whole `slipway deploy` with `provider: aws` against moto, a second implementation
of the AWS APIs, with every request's signature checked against IAM (INITIAL_NO_AUTH_ACTION_COUNT=0)
and credentials from a profile's role_arn and source_profile (STS AssumeRole). Each service is
reached through its own AWS_ENDPOINT_URL_<SERVICE>.

What this covers: what slipway creates on AWS and how (the VPC read from the subnets, the security
group and its ingress, the load balancer's scheme and groups, the target group's VPC and target
type, the service's awsvpc networking and load balancer, the log group), and that the release
ends released. What it does not: moto runs no task and serves no load balancer, so the
environment has no `verify:` checks and nothing is requested over HTTP; moto reports the service's
deployment COMPLETED with MOTO_ECS_SERVICE_RUNNING tasks as soon as it is created."""
import json
import os
import subprocess
import tempfile
import unittest
import urllib.request

import boto3
import botocore.exceptions

from harness import Moto, SLIPWAY

ACCOUNT = "123456789012"
REGION = "us-east-1"

CONFIG = """app: shop
services:
  web:
    taskDefinition: web.json
    containerPort: 8080
    healthCheck: {path: /healthz, intervalSeconds: 10, timeoutSeconds: 5}
environments:
  prod:
    provider: aws
    region: us-east-1
    cluster: shop-prod
    pinImages: false  # moto serves no image registry
    subnets: [%(subnets)s]
    loadBalancer: {name: shop-prod, listenerPort: 80, scheme: internal}
    services:
      web: {desiredCount: 1}
    timeoutSeconds: 60
"""

TASK_DEFINITION = {
    "family": "shop-web", "requiresCompatibilities": ["FARGATE"], "networkMode": "awsvpc", "cpu": "256",
    "memory": "512", "executionRoleArn": "arn:aws:iam::%s:role/ecsTaskExecutionRole" % ACCOUNT,
    "containerDefinitions": [{
        "name": "web", "image": "registry.example/shop-web:1", "portMappings": [{"containerPort": 8080}],
        "logConfiguration": {"logDriver": "awslogs", "options": {
            "awslogs-group": "/ecs/shop-web", "awslogs-region": REGION, "awslogs-stream-prefix": "web"}}}]}

ADMIN = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}


class AwsReleaseTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.moto = Moto(INITIAL_NO_AUTH_ACTION_COUNT="0", MOTO_ECS_SERVICE_RUNNING="1")
        cls.endpoint = cls.moto.endpoint
        cls.dir = tempfile.mkdtemp(prefix="slipway-aws-release-")
        cls.bootstrap()

    @classmethod
    def tearDownClass(cls):
        cls.moto.stop()

    @classmethod
    def set_auth_after(cls, count):
        """moto checks signatures once `count` requests have passed since this call."""
        req = urllib.request.Request(cls.endpoint + "/moto-api/reset-auth", data=str(count).encode(), method="POST",
                                     headers={"Content-Type": "text/plain"})
        urllib.request.urlopen(req, timeout=5).read()

    @classmethod
    def bootstrap(cls):
        # With no IAM user yet, nobody could sign: the users, the role and the network are made
        # with checks off, which are then on for every request that follows.
        cls.set_auth_after("inf")
        anon = dict(endpoint_url=cls.endpoint, region_name=REGION, aws_access_key_id="AKIDBOOT",
                    aws_secret_access_key="x" * 40)
        iam = boto3.client("iam", **anon)
        iam.create_user(UserName="reader")
        iam.put_user_policy(UserName="reader", PolicyName="all", PolicyDocument=json.dumps(ADMIN))
        key = iam.create_access_key(UserName="reader")["AccessKey"]
        cls.reader = dict(endpoint_url=cls.endpoint, region_name=REGION, aws_access_key_id=key["AccessKeyId"],
                          aws_secret_access_key=key["SecretAccessKey"])
        # The deployer's own key may only assume the role; the role may do the release.
        iam.create_user(UserName="ci")
        iam.put_user_policy(UserName="ci", PolicyName="assume", PolicyDocument=json.dumps(
            {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*"}]}))
        ci = iam.create_access_key(UserName="ci")["AccessKey"]
        trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                         "Principal": {"AWS": "arn:aws:iam::%s:user/ci" % ACCOUNT}}]}
        iam.create_role(RoleName="deployer", AssumeRolePolicyDocument=json.dumps(trust))
        iam.put_role_policy(RoleName="deployer", PolicyName="release", PolicyDocument=json.dumps(ADMIN))
        ec2 = boto3.client("ec2", **anon)
        cls.vpc = ec2.create_vpc(CidrBlock="10.20.0.0/16")["Vpc"]["VpcId"]
        ec2.create_vpc(CidrBlock="10.30.0.0/16")  # another VPC, which nothing may land in
        cls.subnets = [ec2.create_subnet(VpcId=cls.vpc, CidrBlock="10.20.%d.0/24" % i,
                                         AvailabilityZone=REGION + az)["Subnet"]["SubnetId"]
                       for i, az in ((1, "a"), (2, "b"))]
        cls.set_auth_after(0)

        with open(os.path.join(cls.dir, "aws-config"), "w") as f:
            f.write("[profile deploy]\nrole_arn = arn:aws:iam::%s:role/deployer\nsource_profile = ci\n"
                    "role_session_name = release\n[profile ci]\naws_access_key_id = %s\naws_secret_access_key = %s\n"
                    % (ACCOUNT, ci["AccessKeyId"], ci["SecretAccessKey"]))
        cls.config = os.path.join(cls.dir, "slipway.yaml")
        with open(cls.config, "w") as f:
            f.write(CONFIG % {"subnets": ", ".join(cls.subnets)})
        with open(os.path.join(cls.dir, "web.json"), "w") as f:
            json.dump(TASK_DEFINITION, f)
        base = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        cls.env = dict(base, HOME=cls.dir, SLIPWAY_ACTOR="ci@example", AWS_EC2_METADATA_DISABLED="true",
                       AWS_CONFIG_FILE=os.path.join(cls.dir, "aws-config"),
                       AWS_SHARED_CREDENTIALS_FILE=os.path.join(cls.dir, "none"))
        for service in ("ECS", "ELASTIC_LOAD_BALANCING_V2", "CLOUDWATCH_LOGS", "ECR", "EC2", "STS"):
            cls.env["AWS_ENDPOINT_URL_" + service] = cls.endpoint

    def slipway(self, *args, config=None):
        return subprocess.run([SLIPWAY, *args, "--profile", "deploy", "--config", config or self.config], env=self.env,
                              capture_output=True, text=True, timeout=180, stdin=subprocess.DEVNULL)

    def client(self, name):
        return boto3.client(name, **self.reader)

    def test_0_moto_checks_every_signature(self):
        bogus = dict(self.reader, aws_access_key_id="AKIDNOTAUSER")
        with self.assertRaises(botocore.exceptions.ClientError) as caught:
            boto3.client("ecs", **bogus).list_clusters()
        self.assertEqual(caught.exception.response["ResponseMetadata"]["HTTPStatusCode"], 403)
        wrong_secret = dict(self.reader, aws_secret_access_key="y" * 40)
        with self.assertRaises(botocore.exceptions.ClientError) as caught:
            boto3.client("ec2", **wrong_secret).describe_subnets()
        self.assertEqual(caught.exception.response["Error"]["Code"], "AuthFailure")

    def test_1_a_release_creates_what_aws_needs_and_ends_released(self):
        # Before it: the plan lists the security group slipway would create, and render shows
        # where its id goes, without creating it.
        out = self.slipway("plan", "prod", "--detailed-exitcode")
        self.assertEqual(out.returncode, 10, out.stdout + out.stderr)
        self.assertIn("+ security group slipway-shop-prod", out.stdout)
        out = self.slipway("render", "prod")
        self.assertEqual(out.returncode, 0, out.stdout + out.stderr)
        network = json.loads(out.stdout)["services"]["web"]["networkConfiguration"]["awsvpcConfiguration"]
        self.assertEqual(network["securityGroups"], ["(created at release)"])
        self.assertEqual(self.client("ec2").describe_security_groups(
            Filters=[{"Name": "group-name", "Values": ["slipway-shop-prod"]}])["SecurityGroups"], [])

        out = self.slipway("deploy", "prod")
        self.assertEqual(out.returncode, 0, out.stdout + out.stderr)

        ec2, elb, ecs, logs = (self.client(n) for n in ("ec2", "elbv2", "ecs", "logs"))
        groups = ec2.describe_security_groups(Filters=[{"Name": "group-name", "Values": ["slipway-shop-prod"]}])
        self.assertEqual(len(groups["SecurityGroups"]), 1)
        group = groups["SecurityGroups"][0]
        self.assertEqual(group["VpcId"], self.vpc)
        ingress = {(p["IpProtocol"], p["FromPort"], p["ToPort"]): p for p in group["IpPermissions"]}
        self.assertEqual(set(ingress), {("tcp", 80, 80), ("tcp", 8080, 8080)})
        self.assertEqual([r["CidrIp"] for r in ingress[("tcp", 80, 80)]["IpRanges"]], ["0.0.0.0/0"])
        self.assertEqual([g["GroupId"] for g in ingress[("tcp", 8080, 8080)]["UserIdGroupPairs"]], [group["GroupId"]])
        out = self.slipway("render", "prod")
        self.assertEqual(out.returncode, 0, out.stdout + out.stderr)
        network = json.loads(out.stdout)["services"]["web"]["networkConfiguration"]["awsvpcConfiguration"]
        self.assertEqual(network["securityGroups"], [group["GroupId"]])

        lb = elb.describe_load_balancers(Names=["shop-prod"])["LoadBalancers"][0]
        self.assertEqual(lb["Scheme"], "internal")
        self.assertEqual(lb["VpcId"], self.vpc)
        self.assertEqual(lb["SecurityGroups"], [group["GroupId"]])
        self.assertEqual(sorted(az["SubnetId"] for az in lb["AvailabilityZones"]), sorted(self.subnets))

        tg = elb.describe_target_groups(Names=["shop-prod-web"])["TargetGroups"][0]
        self.assertEqual(tg["VpcId"], self.vpc)
        self.assertEqual(tg["TargetType"], "ip")
        self.assertEqual(tg["Port"], 8080)
        self.assertEqual(tg["HealthCheckPath"], "/healthz")
        listeners = elb.describe_listeners(LoadBalancerArn=lb["LoadBalancerArn"])["Listeners"]
        self.assertEqual([(l["Port"], l["DefaultActions"][0]["TargetGroupArn"]) for l in listeners],
                         [(80, tg["TargetGroupArn"])])

        service = ecs.describe_services(cluster="shop-prod", services=["shop-prod-web"])["services"][0]
        self.assertEqual(service["launchType"], "FARGATE")
        self.assertEqual(service["networkConfiguration"]["awsvpcConfiguration"],
                         {"subnets": self.subnets, "securityGroups": [group["GroupId"]], "assignPublicIp": "DISABLED"})
        self.assertEqual(service["loadBalancers"], [{"targetGroupArn": tg["TargetGroupArn"], "containerName": "web",
                                                     "containerPort": 8080}])
        td = ecs.describe_task_definition(taskDefinition=service["taskDefinition"], include=["TAGS"])
        self.assertEqual(td["taskDefinition"]["executionRoleArn"], TASK_DEFINITION["executionRoleArn"])
        self.assertIn({"key": "slipway:result", "value": "released"}, td["tags"])
        self.assertEqual([g["logGroupName"] for g in logs.describe_log_groups()["logGroups"]], ["/ecs/shop-web"])

        # A second release finds the group instead of making another, and changes no rule.
        out = self.slipway("deploy", "prod")
        self.assertEqual(out.returncode, 0, out.stdout + out.stderr)
        again = ec2.describe_security_groups(Filters=[{"Name": "group-name", "Values": ["slipway-shop-prod"]}])
        self.assertEqual([g["GroupId"] for g in again["SecurityGroups"]], [group["GroupId"]])
        self.assertEqual(len(again["SecurityGroups"][0]["IpPermissions"]), 2)

        # The listener narrowed by hand and the tasks' rule gone: the next release adds back only
        # the tasks' rule (EC2 would refuse a request repeating the listener's).
        ec2.revoke_security_group_ingress(GroupId=group["GroupId"], IpPermissions=[
            ingress[("tcp", 8080, 8080)], ingress[("tcp", 80, 80)]])
        ec2.authorize_security_group_ingress(GroupId=group["GroupId"], IpPermissions=[
            {"IpProtocol": "tcp", "FromPort": 80, "ToPort": 80, "IpRanges": [{"CidrIp": "10.0.0.0/8"}]}])
        out = self.slipway("deploy", "prod")
        self.assertEqual(out.returncode, 0, out.stdout + out.stderr)
        after = ec2.describe_security_groups(GroupIds=[group["GroupId"]])["SecurityGroups"][0]["IpPermissions"]
        after = {(p["IpProtocol"], p["FromPort"], p["ToPort"]): p for p in after}
        self.assertEqual(set(after), {("tcp", 80, 80), ("tcp", 8080, 8080)})
        self.assertEqual([r["CidrIp"] for r in after[("tcp", 80, 80)]["IpRanges"]], ["10.0.0.0/8"])
        self.assertEqual([g["GroupId"] for g in after[("tcp", 8080, 8080)]["UserIdGroupPairs"]], [group["GroupId"]])

    def test_2_what_aws_would_refuse_is_refused_before_anything_changes(self):
        # Without an execution role, Fargate could not ship awslogs output: exit 2, nothing made.
        no_role = dict(TASK_DEFINITION, family="shop-norole")
        del no_role["executionRoleArn"]
        with open(os.path.join(self.dir, "norole.json"), "w") as f:
            json.dump(no_role, f)
        config = os.path.join(self.dir, "norole.yaml")
        with open(config, "w") as f:
            f.write((CONFIG % {"subnets": ", ".join(self.subnets)}).replace("web.json", "norole.json")
                    .replace("shop-prod", "shop-norole"))
        out = self.slipway("deploy", "prod", config=config)
        self.assertEqual(out.returncode, 2, out.stdout + out.stderr)
        self.assertIn("container web uses the awslogs log driver", out.stderr)
        self.assertIn("executionRoleArn is not set", out.stderr)
        self.assertEqual(self.client("ecs").describe_clusters(clusters=["shop-norole"])["clusters"], [])

        # Subnets in two VPCs name both, before any load balancer exists.
        ec2 = self.client("ec2")
        other = [v["VpcId"] for v in ec2.describe_vpcs()["Vpcs"] if v["CidrBlock"] == "10.30.0.0/16"][0]
        stray = ec2.create_subnet(VpcId=other, CidrBlock="10.30.1.0/24", AvailabilityZone=REGION + "b")
        config = os.path.join(self.dir, "split.yaml")
        with open(config, "w") as f:
            f.write((CONFIG % {"subnets": "%s, %s" % (self.subnets[0], stray["Subnet"]["SubnetId"])})
                    .replace("shop-prod", "shop-split"))
        out = self.slipway("deploy", "prod", config=config)
        self.assertEqual(out.returncode, 1, out.stdout + out.stderr)
        self.assertIn("lie in more than one VPC", out.stderr)
        self.assertEqual(self.client("elbv2").describe_load_balancers()["LoadBalancers"][0]["LoadBalancerName"],
                         "shop-prod")

        # A config without subnets is refused naming file:line and the key.
        config = os.path.join(self.dir, "nosubnets.yaml")
        with open(config, "w") as f:
            f.write("\n".join(l for l in (CONFIG % {"subnets": ""}).splitlines() if "subnets:" not in l) + "\n")
        out = self.slipway("deploy", "prod", config=config)
        self.assertEqual(out.returncode, 2, out.stdout + out.stderr)
        self.assertRegex(out.stderr, r"nosubnets\.yaml:\d+: environments\.prod\.subnets: provider aws needs at least two")

    def test_3_named_security_groups_are_used_as_they_are_with_a_note(self):
        ec2 = self.client("ec2")
        closed = ec2.create_security_group(GroupName="closed", Description="admits nothing", VpcId=self.vpc)["GroupId"]
        config = os.path.join(self.dir, "named.yaml")
        with open(config, "w") as f:
            f.write((CONFIG % {"subnets": ", ".join(self.subnets)}).replace("shop-prod", "shop-named")
                    .replace("    loadBalancer:", "    securityGroups: [%s]\n    assignPublicIp: true\n    loadBalancer:" % closed))
        out = self.slipway("deploy", "prod", config=config)
        self.assertEqual(out.returncode, 0, out.stdout + out.stderr)
        self.assertIn("note: none of the security groups %s admits TCP port 80" % closed, out.stdout)
        self.assertEqual(ec2.describe_security_groups(GroupIds=[closed])["SecurityGroups"][0]["IpPermissions"], [])
        self.assertEqual(ec2.describe_security_groups(
            Filters=[{"Name": "group-name", "Values": ["slipway-shop-named"]}])["SecurityGroups"], [])
        lb = self.client("elbv2").describe_load_balancers(Names=["shop-named"])["LoadBalancers"][0]
        self.assertEqual(lb["SecurityGroups"], [closed])
        service = self.client("ecs").describe_services(cluster="shop-named", services=["shop-prod-web"])["services"][0]
        self.assertEqual(service["networkConfiguration"]["awsvpcConfiguration"],
                         {"subnets": self.subnets, "securityGroups": [closed], "assignPublicIp": "ENABLED"})


if __name__ == "__main__":
    unittest.main(verbosity=2)
