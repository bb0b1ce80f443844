"""End-to-end: the engine serves Secrets Manager and SSM Parameter Store to boto3 and the aws CLI
with AWS's shapes and errors, and its data dir never holds a secret value in clear text."""
import base64
import json
import os
import re
import stat
import subprocess
import unittest
import unittest.mock
import uuid

from botocore.exceptions import ClientError

from harness import AWS, EngineTest

# Unique values, so finding one in the data dir can only mean it was stored in clear.
MARK = uuid.uuid4().hex
DB_PASSWORD = "pw-" + MARK
API_TOKEN = "token-" + MARK
BINARY = b"\x00\xffbin-" + MARK.encode()
SECURE = "secure-" + MARK
PLAIN_PARAM = "plain-" + MARK


class SecretsTest(EngineTest):
    @classmethod
    def setUpEngine(cls):
        cls.sm = cls.engine.client("secretsmanager")
        cls.ssm = cls.engine.client("ssm")

    def assertClientError(self, call, code, message=None, **kwargs):
        with self.assertRaises(ClientError) as caught:
            call(**kwargs)
        error = caught.exception.response["Error"]
        self.assertEqual(error["Code"], code, error)
        if message is not None:
            self.assertEqual(error["Message"], message)
        return error

    def aws_fails(self, *args):
        """Runs the aws CLI expecting failure; returns its stderr."""
        out = subprocess.run([AWS, "--endpoint-url", self.engine.endpoint, "--output", "json", *args],
                             env=self.engine.env, capture_output=True, text=True, timeout=120)
        self.assertNotEqual(out.returncode, 0, out.stdout)
        return out.stderr

    def test_01_a_secret_has_versions_and_staging_labels(self):
        created = self.sm.create_secret(Name="e2e/db", Description="database",
                                        SecretString=json.dumps({"user": "app", "password": DB_PASSWORD}))
        self.assertRegex(created["ARN"], r"^arn:aws:secretsmanager:us-east-1:000000000000:secret:e2e/db-[A-Za-z0-9]{6}$")
        self.assertEqual(created["Name"], "e2e/db")
        first = self.sm.get_secret_value(SecretId="e2e/db")
        self.assertEqual(json.loads(first["SecretString"])["password"], DB_PASSWORD)
        self.assertEqual(first["VersionStages"], ["AWSCURRENT"])
        self.assertEqual(first["VersionId"], created["VersionId"])
        self.assertIn("CreatedDate", first)

        put = self.sm.put_secret_value(SecretId=created["ARN"], SecretString=API_TOKEN)
        self.assertEqual(put["VersionStages"], ["AWSCURRENT"])
        self.assertEqual(self.sm.get_secret_value(SecretId=created["ARN"])["SecretString"], API_TOKEN)
        previous = self.sm.get_secret_value(SecretId="e2e/db", VersionStage="AWSPREVIOUS")
        self.assertEqual(previous["VersionId"], created["VersionId"])

        described = self.sm.describe_secret(SecretId="e2e/db")
        self.assertEqual(described["Description"], "database")
        self.assertEqual(described["VersionIdsToStages"],
                         {created["VersionId"]: ["AWSPREVIOUS"], put["VersionId"]: ["AWSCURRENT"]})
        listed = [s for s in self.sm.list_secrets()["SecretList"] if s["Name"] == "e2e/db"]
        self.assertEqual(len(listed), 1)
        self.assertEqual(listed[0]["ARN"], created["ARN"])

    def test_02_binary_secrets_come_back_as_bytes(self):
        self.sm.create_secret(Name="e2e/binary", SecretBinary=BINARY)
        got = self.sm.get_secret_value(SecretId="e2e/binary")
        self.assertEqual(got["SecretBinary"], BINARY)
        self.assertNotIn("SecretString", got)

    def test_03_errors_are_aws_shaped(self):
        self.assertClientError(self.sm.get_secret_value, "ResourceNotFoundException",
                               "Secrets Manager can't find the specified secret.", SecretId="e2e/none")
        self.sm.create_secret(Name="e2e/dup", SecretString="x")
        self.assertClientError(self.sm.create_secret, "ResourceExistsException",
                               "The operation failed because the secret e2e/dup already exists.",
                               Name="e2e/dup", SecretString="y")
        self.assertClientError(self.sm.create_secret, "InvalidParameterException",
                               Name="e2e/both", SecretString="x", SecretBinary=b"y")
        too_long = "x" * 65537
        error = self.assertClientError(self.sm.create_secret, "ValidationException", Name="e2e/long",
                                       SecretString=too_long)
        self.assertIn("Value at 'secretString' failed to satisfy constraint", error["Message"])
        self.assertNotIn("xxxx", error["Message"])
        self.assertClientError(self.sm.delete_secret, "InvalidParameterException",
                               "The RecoveryWindowInDays value must be between 7 and 30 days (inclusive).",
                               SecretId="e2e/dup", RecoveryWindowInDays=1)

    def test_04_a_deleted_secret_is_marked_for_deletion(self):
        self.sm.create_secret(Name="e2e/old", SecretString="x")
        deleted = self.sm.delete_secret(SecretId="e2e/old", RecoveryWindowInDays=7)
        self.assertEqual(deleted["Name"], "e2e/old")
        self.assertIn("DeletionDate", deleted)
        self.assertClientError(
            self.sm.get_secret_value, "InvalidRequestException",
            "You can't perform this operation on the secret because it was marked for deletion.",
            SecretId="e2e/old")
        self.assertIn("DeletedDate", self.sm.describe_secret(SecretId="e2e/old"))
        names = [s["Name"] for s in self.sm.list_secrets()["SecretList"]]
        self.assertNotIn("e2e/old", names)
        names = [s["Name"] for s in self.sm.list_secrets(IncludePlannedDeletion=True)["SecretList"]]
        self.assertIn("e2e/old", names)
        self.sm.delete_secret(SecretId="e2e/old", ForceDeleteWithoutRecovery=True)
        self.assertClientError(self.sm.describe_secret, "ResourceNotFoundException", SecretId="e2e/old")

    def test_05_parameters_of_each_type(self):
        self.assertEqual(self.ssm.put_parameter(Name="/e2e/app/url", Value=PLAIN_PARAM, Type="String"),
                         {"Version": 1, "Tier": "Standard", "ResponseMetadata": unittest.mock.ANY})
        self.ssm.put_parameter(Name="/e2e/app/hosts", Value="a,b,c", Type="StringList")
        self.ssm.put_parameter(Name="/e2e/app/secret/password", Value=SECURE, Type="SecureString")
        p = self.ssm.get_parameter(Name="/e2e/app/url")["Parameter"]
        self.assertEqual((p["Name"], p["Type"], p["Value"], p["Version"], p["DataType"]),
                         ("/e2e/app/url", "String", PLAIN_PARAM, 1, "text"))
        self.assertEqual(p["ARN"], "arn:aws:ssm:us-east-1:000000000000:parameter/e2e/app/url")
        self.assertIn("LastModifiedDate", p)

        opaque = self.ssm.get_parameter(Name="/e2e/app/secret/password")["Parameter"]["Value"]
        self.assertNotIn(MARK, opaque)
        decrypted = self.ssm.get_parameter(Name="/e2e/app/secret/password", WithDecryption=True)
        self.assertEqual(decrypted["Parameter"]["Value"], SECURE)

        self.assertClientError(self.ssm.put_parameter, "ParameterAlreadyExists", Name="/e2e/app/url",
                               Value="other", Type="String")
        self.assertEqual(self.ssm.put_parameter(Name="/e2e/app/url", Value=PLAIN_PARAM + "2", Overwrite=True)
                         ["Version"], 2)
        got = self.ssm.get_parameters(Names=["/e2e/app/url", "/e2e/none"], WithDecryption=True)
        self.assertEqual([x["Value"] for x in got["Parameters"]], [PLAIN_PARAM + "2"])
        self.assertEqual(got["InvalidParameters"], ["/e2e/none"])
        self.assertClientError(self.ssm.put_parameter, "ValidationException", Name="/e2e/big", Value="v" * 4097,
                               Type="String")

    def test_06_parameters_by_path_page_through_the_hierarchy(self):
        for i in range(5):
            self.ssm.put_parameter(Name="/e2e/tree/p%d" % i, Value=str(i), Type="String")
        self.ssm.put_parameter(Name="/e2e/tree/sub/deep", Value="deep", Type="String")
        paginator = self.ssm.get_paginator("get_parameters_by_path")
        one_level = [p["Name"] for page in paginator.paginate(Path="/e2e/tree", PaginationConfig={"PageSize": 2})
                     for p in page["Parameters"]]
        self.assertEqual(one_level, ["/e2e/tree/p%d" % i for i in range(5)])
        recursive = [p["Name"] for page in paginator.paginate(Path="/e2e/tree", Recursive=True,
                                                                PaginationConfig={"PageSize": 2})
                     for p in page["Parameters"]]
        self.assertEqual(recursive[-1], "/e2e/tree/sub/deep")
        self.assertEqual(len(recursive), 6)
        self.ssm.delete_parameter(Name="/e2e/tree/p0")
        self.assertClientError(self.ssm.delete_parameter, "ParameterNotFound", Name="/e2e/tree/p0")
        self.assertClientError(self.ssm.get_parameter, "ParameterNotFound", Name="/e2e/tree/p0")

    def test_07_the_aws_cli_reads_and_writes_both_stores(self):
        self.engine.aws("secretsmanager", "create-secret", "--name", "e2e/cli", "--secret-string", "cli-" + MARK)
        got = self.engine.aws("secretsmanager", "get-secret-value", "--secret-id", "e2e/cli")
        self.assertEqual(got["SecretString"], "cli-" + MARK)
        self.assertIn("ResourceNotFoundException", self.aws_fails("secretsmanager", "get-secret-value",
                                                                  "--secret-id", "e2e/cli-none"))
        self.engine.aws("ssm", "put-parameter", "--name", "/e2e/cli", "--value", "cli-" + MARK,
                        "--type", "SecureString")
        got = self.engine.aws("ssm", "get-parameter", "--name", "/e2e/cli", "--with-decryption")
        self.assertEqual(got["Parameter"]["Value"], "cli-" + MARK)
        self.assertIn("ParameterNotFound", self.aws_fails("ssm", "get-parameter", "--name", "/e2e/cli-none"))

    def test_99_the_data_dir_holds_no_value_in_clear_text(self):
        data_dir = self.engine.data_dir
        key = os.path.join(data_dir, "secrets.key")
        self.assertEqual(stat.S_IMODE(os.stat(key).st_mode), 0o600)
        self.assertEqual(os.path.getsize(key), 32)
        found_db = False
        for root, _, files in os.walk(data_dir):
            for name in files:
                path = os.path.join(root, name)
                if not os.path.isfile(path) or os.path.islink(path):
                    continue
                found_db = found_db or name.startswith("secrets.db")
                with open(path, "rb") as f:
                    data = f.read()
                for value in (MARK.encode(), base64.b64encode(BINARY)):
                    self.assertNotIn(value, data, "%s holds a value in clear text" % path)
        self.assertTrue(found_db, os.listdir(data_dir))
        # The names are there, so the scan did read the store's files.
        with open(os.path.join(data_dir, "secrets.db"), "rb") as f:
            db = f.read()
        wal = os.path.join(data_dir, "secrets.db-wal")
        if os.path.exists(wal):
            with open(wal, "rb") as f:
                db += f.read()
        self.assertIn(b"/e2e/app/secret/password", db)


if __name__ == "__main__":
    unittest.main(verbosity=2)
