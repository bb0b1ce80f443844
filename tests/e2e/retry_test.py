"""End-to-end: releases through a proxy that fails calls (500s, throttling, replies lost after the
engine applied the call) still succeed with AWS_MAX_ATTEMPTS=6, and create nothing twice."""
import unittest

from fault_proxy import DROP, SERVER_ERROR, THROTTLE, FaultProxy
from harness import EngineTest

MIGRATION_STARTED_BY = "slipway-migrate"


class FaultyEndpointTest(EngineTest):
    @classmethod
    def setUpEngine(cls):
        cls.ecs = cls.engine.client("ecs")
        cls.elb = cls.engine.client("elbv2")

    def deploy_through(self, proxy, version):
        return self.engine.deploy(version, SLIPWAY_ENGINE_ENDPOINT=proxy.url, AWS_MAX_ATTEMPTS="6")

    def revisions(self):
        return self.ecs.list_task_definitions(familyPrefix="demo-web")["taskDefinitionArns"]

    def migration_tasks(self):
        arns = []
        for status in ("RUNNING", "STOPPED"):
            arns += self.ecs.list_tasks(cluster="demo-dev", startedBy=MIGRATION_STARTED_BY,
                                        desiredStatus=status)["taskArns"]
        return set(arns)

    def assert_one_of_each(self):
        services = self.ecs.list_services(cluster="demo-dev")["serviceArns"]
        self.assertEqual(len(services), 1, services)
        self.assertEqual([c["status"] for c in self.ecs.describe_clusters(clusters=["demo-dev"])["clusters"]],
                         ["ACTIVE"])
        self.assertEqual([lb["LoadBalancerName"] for lb in self.elb.describe_load_balancers()["LoadBalancers"]],
                         ["demo-dev"])
        groups = self.elb.describe_target_groups()["TargetGroups"]
        self.assertEqual([g["TargetGroupName"] for g in groups], ["demo-dev-web"])
        lb_arn = self.elb.describe_load_balancers()["LoadBalancers"][0]["LoadBalancerArn"]
        self.assertEqual(len(self.elb.describe_listeners(LoadBalancerArn=lb_arn)["Listeners"]), 1)

    def test_releases_succeed_through_faults_without_duplicates(self):
        injected = {SERVER_ERROR: 0, THROTTLE: 0, DROP: 0}
        # Given a proxy that, besides its random faults, loses the reply of the first call of each
        # creating operation (and fails a first read of each kind): v1 creates everything.
        first = {op: DROP for op in ("CreateCluster", "CreateLoadBalancer", "CreateTargetGroup", "CreateListener",
                                     "CreateLogGroup", "RegisterTaskDefinition", "RunTask", "CreateService")}
        first.update(DescribeClusters=SERVER_ERROR, DescribeLoadBalancers=THROTTLE)
        with FaultProxy(self.engine.api_port, seed=20261130, first=first) as proxy:
            out = self.deploy_through(proxy, "v1")
        self.assertEqual(out.returncode, 0, out.stdout + out.stderr)
        self.assertIn("released dev", out.stdout)
        self.assertFalse(proxy.first, "every creating call was made: %s" % proxy.first)
        for kind in injected:
            injected[kind] += proxy.injected[kind]
        print("v1: injected %s, lost replies of %s" % (proxy.injected, proxy.dropped_ops))
        # Then there is one of everything, one revision, and the migration ran once.
        self.assert_one_of_each()
        self.assertEqual(len(self.revisions()), 1)
        self.assertEqual(len(self.migration_tasks()), 1)
        svc = self.ecs.describe_services(cluster="demo-dev", services=["demo-dev-web"])["services"][0]
        self.assertEqual(len(svc["deployments"]), 1)

        # Given the same for a release that updates: v2.
        first = {op: DROP for op in ("RegisterTaskDefinition", "RunTask", "UpdateService", "TagResource")}
        first.update(DescribeServices=THROTTLE, ListTaskDefinitions=SERVER_ERROR)
        with FaultProxy(self.engine.api_port, seed=20261201, first=first) as proxy:
            out = self.deploy_through(proxy, "v2")
        self.assertEqual(out.returncode, 0, out.stdout + out.stderr)
        self.assertFalse(proxy.first, "every updating call was made: %s" % proxy.first)
        for kind in injected:
            injected[kind] += proxy.injected[kind]
        print("v2: injected %s, lost replies of %s" % (proxy.injected, proxy.dropped_ops))
        # Then one new revision, one more migration, and the service on the new revision.
        self.assert_one_of_each()
        revisions = self.revisions()
        self.assertEqual(len(revisions), 2, revisions)
        self.assertEqual(len(self.migration_tasks()), 2)
        svc = self.ecs.describe_services(cluster="demo-dev", services=["demo-dev-web"])["services"][0]
        self.assertEqual(svc["taskDefinition"], max(revisions, key=lambda a: int(a.rsplit(":", 1)[1])))
        self.assertEqual(len(svc["deployments"]), 1)
        # And the proxy did inject every kind of fault, so this proved something.
        for kind, count in injected.items():
            self.assertGreater(count, 0, "no %s was injected: %s" % (kind, injected))


if __name__ == "__main__":
    unittest.main()
