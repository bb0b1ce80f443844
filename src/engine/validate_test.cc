#include "engine/validate.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

namespace slipway::engine {
namespace {

using nlohmann::json;

const std::string kEcs = "AmazonEC2ContainerServiceV20141113";
const std::string kLogs = "Logs_20140328";
const std::string kSecrets = "secretsmanager";
const std::string kSsm = "AmazonSSM";

/// One request that must be refused: the code to answer with and text the message must hold.
struct RefusedJson {
  std::string prefix, op, body, code, message;
};

/// `levels` nested arrays (or objects: open = "{\"a\":", close = "}") around the number 1.
std::string Nested(int levels, const std::string& open = "[", const std::string& close = "]") {
  std::string out;
  for (int i = 0; i < levels; ++i) out += open;
  out += "1";
  for (int i = 0; i < levels; ++i) out += close;
  return out;
}

TEST(ValidateJson, RefusesEachBadInputWithTheAwsCodeAndNamesTheMember) {
  const std::string long_key(129, 'k');
  const std::vector<RefusedJson> cases = {
      // desiredCount: the width of a botocore integer, floats, strings and objects are not counts.
      {kEcs, "UpdateService", R"({"service":"web","desiredCount":1000000000000})",
       "SerializationException",
       "'desiredCount': Member must be an integer from -2147483648 to 2147483647, not the number "
       "1000000000000"},
      {kEcs, "UpdateService", R"({"service":"web","desiredCount":9223372036854775808})",
       "SerializationException", "'desiredCount'"},
      {kEcs, "UpdateService", R"({"service":"web","desiredCount":1.5})", "SerializationException",
       "'desiredCount'"},
      {kEcs, "UpdateService", R"({"service":"web","desiredCount":2.0})", "SerializationException",
       "'desiredCount'"},
      {kEcs, "UpdateService", R"({"service":"web","desiredCount":"3"})", "SerializationException",
       "'desiredCount': Member must be an integer from -2147483648 to 2147483647, not a string"},
      {kEcs, "UpdateService", R"({"service":"web","desiredCount":{}})", "SerializationException",
       "not an object"},
      {kEcs, "UpdateService", R"({"service":"web","desiredCount":-1})", "InvalidParameterException",
       "1 validation error detected: Value '-1' at 'desiredCount' failed to satisfy constraint: "
       "Member must have value greater than or equal to 0"},
      {kEcs, "CreateService", R"({"serviceName":"web","desiredCount":-1})",
       "InvalidParameterException", "at 'desiredCount'"},
      {kEcs, "UpdateService", R"({"desiredCount":1})", "InvalidParameterException",
       "Value null at 'service' failed to satisfy constraint: Member must not be null"},
      {kEcs, "UpdateService", R"({"service":"web","healthCheckGracePeriodSeconds":-5})",
       "InvalidParameterException", "at 'healthCheckGracePeriodSeconds'"},
      {kEcs, "UpdateService",
       R"({"service":"web","deploymentConfiguration":{"minimumHealthyPercent":101}})",
       "InvalidParameterException",
       "at 'deploymentConfiguration.minimumHealthyPercent' failed to satisfy constraint: "
       "Member must have value less than or equal to 100"},
      {kEcs, "CreateService",
       R"({"serviceName":"web","deploymentConfiguration":{"maximumPercent":99}})",
       "InvalidParameterException", "at 'deploymentConfiguration.maximumPercent'"},
      {kEcs, "CreateService", R"({"serviceName":"web","launchType":"MOON"})",
       "InvalidParameterException",
       "Value 'MOON' at 'launchType' failed to satisfy constraint: Member must satisfy enum value "
       "set: [EC2, FARGATE"},
      {kEcs, "CreateService", R"({"serviceName":"web app"})", "InvalidParameterException",
       "Value 'web app' at 'serviceName'"},
      {kEcs, "CreateService", "{\"serviceName\":\"" + std::string(256, 's') + "\"}",
       "InvalidParameterException", "at 'serviceName'"},
      {kEcs, "CreateCluster", R"({"clusterName":"a/b"})", "InvalidParameterException",
       "at 'clusterName'"},
      {kEcs, "RunTask", R"({"taskDefinition":"td","count":11})", "InvalidParameterException",
       "Value '11' at 'count' failed to satisfy constraint: Member must have value less than or "
       "equal to 10"},
      {kEcs, "RunTask", R"({"taskDefinition":"td","count":0})", "InvalidParameterException",
       "at 'count'"},
      // Task definitions: types, names and ports deep in the structure.
      {kEcs, "RegisterTaskDefinition", R"({"family":"f","containerDefinitions":"x"})",
       "SerializationException", "'containerDefinitions': Member must be a list, not a string"},
      {kEcs, "RegisterTaskDefinition", R"({"family":"f","containerDefinitions":[null]})",
       "SerializationException", "'containerDefinitions.1.member'"},
      {kEcs, "RegisterTaskDefinition", R"({"family":"my family","containerDefinitions":[]})",
       "InvalidParameterException", "at 'family'"},
      {kEcs, "RegisterTaskDefinition", R"({"family":"f","containerDefinitions":[{"name":"web!"}]})",
       "InvalidParameterException", "at 'containerDefinitions.1.member.name'"},
      {kEcs, "RegisterTaskDefinition",
       R"({"family":"f","containerDefinitions":[{"name":"a","image":"x"},{"name":"a","image":"y"}]})",
       "InvalidParameterException", "container names that are unique"},
      {kEcs, "RegisterTaskDefinition",
       R"({"family":"f","containerDefinitions":[{"name":"a"},{"name":"b"},{"name":"c"},{"name":"d"},{"name":"e"},)"
       R"({"name":"f"},{"name":"g"},{"name":"h"},{"name":"i"},{"name":"j"},{"name":"k"}]})",
       "InvalidParameterException", "at 'containerDefinitions' failed to satisfy constraint: Member must have length"},
      {kEcs, "RegisterTaskDefinition",
       R"({"family":"f","containerDefinitions":[{"name":"w","portMappings":[{"containerPort":80,"hostPort":70000}]}]})",
       "InvalidParameterException",
       "Value '70000' at 'containerDefinitions.1.member.portMappings.1.member.hostPort' failed to "
       "satisfy "
       "constraint: Member must have value less than or equal to 65535"},
      {kEcs, "RegisterTaskDefinition",
       R"({"family":"f","containerDefinitions":[{"name":"w","portMappings":[{"containerPort":-1}]}]})",
       "InvalidParameterException", "portMappings.1.member.containerPort"},
      {kEcs, "RegisterTaskDefinition",
       R"({"family":"f","containerDefinitions":[{"name":"w","essential":"yes"}]})",
       "SerializationException",
       "'containerDefinitions.1.member.essential': Member must be a boolean"},
      {kEcs, "RegisterTaskDefinition",
       "{\"family\":\"f\",\"containerDefinitions\":" + Nested(100000) + "}",
       "SerializationException", "deeper than 64 levels"},
      {kEcs, "RegisterTaskDefinition",
       "{\"family\":\"f\",\"containerDefinitions\":[],\"x\":" + Nested(64, "{\"a\":", "}") + "}",
       "SerializationException", "deeper than 64 levels"},
      // Tags: lengths and characters from the model.
      {kEcs, "TagResource",
       "{\"resourceArn\":\"a\",\"tags\":[{\"key\":\"" + long_key + "\",\"value\":\"v\"}]}",
       "InvalidParameterException",
       "at 'tags.1.member.key' failed to satisfy constraint: Member must have length less than or "
       "equal to 128"},
      {kEcs, "TagResource", R"j({"resourceArn":"a","tags":[{"key":"k","value":"a (b)"}]})j",
       "InvalidParameterException",
       "Value 'a (b)' at 'tags.1.member.value' failed to satisfy constraint: "
       "Member must satisfy regular expression pattern"},
      // Several violations are listed together, as AWS does.
      {kEcs, "RunTask", R"({"count":11})", "InvalidParameterException",
       "2 validation errors detected: "},
      // CloudWatch Logs.
      {kLogs, "CreateLogGroup", R"({"logGroupName":"bad name"})", "InvalidParameterException",
       "Value 'bad name' at 'logGroupName' failed to satisfy constraint: Member must satisfy "
       "regular expression "
       "pattern: [\\.\\-_/#A-Za-z0-9]+"},
      {kLogs, "CreateLogGroup", "{}", "InvalidParameterException", "Value null at 'logGroupName'"},
      {kLogs, "CreateLogStream", R"({"logGroupName":"g","logStreamName":"a:b"})",
       "InvalidParameterException", "at 'logStreamName'"},
      {kLogs, "GetLogEvents", R"({"logGroupName":"g","logStreamName":"s","limit":0})",
       "InvalidParameterException",
       "Value '0' at 'limit' failed to satisfy constraint: Member must have value greater than or "
       "equal to 1"},
      {kLogs, "GetLogEvents", R"({"logGroupName":"g","logStreamName":"s","limit":"5"})",
       "SerializationException", "'limit'"},
      {kLogs, "PutLogEvents", R"({"logGroupName":"g","logStreamName":"s","logEvents":[]})",
       "InvalidParameterException",
       "at 'logEvents' failed to satisfy constraint: Member must have length greater"},
      {kLogs, "PutLogEvents",
       R"({"logGroupName":"g","logStreamName":"s","logEvents":[{"timestamp":1,"message":7}]})",
       "SerializationException", "'logEvents.1.member.message'"},
      // Not JSON objects, and operations the engine does not serve.
      {kEcs, "ListServices", "[]", "SerializationException", "not a JSON object"},
      {kEcs, "ListServices", "{\"cluster\":", "SerializationException", "not a JSON object"},
      {kEcs, "DeleteCluster", "{}", "UnknownOperationException", "ECS operation DeleteCluster"},
      {"Nope_20200101", "DoIt", "{}", "UnknownOperationException", "Nope_20200101"},
  };
  for (const auto& c : cases) {
    auto got = ParseJsonRequest(c.prefix, c.op, c.body);
    const std::string what = c.op + " " + c.body.substr(0, 120);
    ASSERT_FALSE(got.has_value()) << what;
    EXPECT_EQ(got.error().code, c.code) << what << ": " << got.error().message;
    EXPECT_EQ(got.error().status, 400) << what;
    EXPECT_NE(got.error().message.find(c.message), std::string::npos)
        << what << ": " << got.error().message;
    EXPECT_EQ(got.error().message.find("json.exception"), std::string::npos) << what;
  }
}

TEST(ValidateJson, SecretsManagerAndSsmSayValidationExceptionAndNameMembersLowerCamel) {
  auto unnamed = ParseJsonRequest(kSecrets, "CreateSecret", "{}");
  ASSERT_FALSE(unnamed);
  EXPECT_EQ(unnamed.error().code, "ValidationException");
  EXPECT_EQ(unnamed.error().message,
            "1 validation error detected: Value null at 'name' failed to satisfy constraint: Member "
            "must not be null");
  auto bad_type = ParseJsonRequest(kSsm, "PutParameter", R"({"Name":"/a","Value":"v","Type":"Text"})");
  ASSERT_FALSE(bad_type);
  EXPECT_EQ(bad_type.error().code, "ValidationException");
  EXPECT_NE(bad_type.error().message.find(
                "Value 'Text' at 'type' failed to satisfy constraint: Member must satisfy enum value set"),
            std::string::npos)
      << bad_type.error().message;
  auto unknown = ParseJsonRequest(kSsm, "SendCommand", "{}");
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().message, "The engine does not implement SSM operation SendCommand.");
}

TEST(ValidateJson, ErrorsNameASensitiveMemberButNeverQuoteIt) {
  const std::string secret = "hunter2-" + std::string(65536, 'x');
  auto got = ParseJsonRequest(kSecrets, "CreateSecret",
                              json{{"Name", "db"}, {"SecretString", secret}}.dump());
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().message,
            "1 validation error detected: Value at 'secretString' failed to satisfy constraint: "
            "Member must have length less than or equal to 65536");
  auto wrong_type = ParseJsonRequest(kSecrets, "CreateSecret", R"({"Name":"db","SecretString":1234567})");
  ASSERT_FALSE(wrong_type);
  EXPECT_EQ(wrong_type.error().code, "SerializationException");
  EXPECT_EQ(wrong_type.error().message.find("1234567"), std::string::npos) << wrong_type.error().message;
}

TEST(ValidateJson, BlobBoundsCountDecodedBytesAndRefuseWhatIsNotBase64) {
  const std::string at_limit(65536, '\x01');
  std::string encoded;  // base64 of 65536 bytes of 0x01: "AQEB" per 3 bytes, then "AQ=="
  for (size_t i = 0; i + 3 <= at_limit.size(); i += 3) encoded += "AQEB";
  encoded += "AQ==";
  EXPECT_TRUE(ParseJsonRequest(kSecrets, "CreateSecret", json{{"Name", "b"}, {"SecretBinary", encoded}}.dump()));
  auto over = ParseJsonRequest(kSecrets, "CreateSecret",
                               json{{"Name", "b"}, {"SecretBinary", encoded.substr(0, encoded.size() - 4) + "AQE="}}.dump());
  ASSERT_FALSE(over);
  EXPECT_NE(over.error().message.find("Value at 'secretBinary'"), std::string::npos) << over.error().message;
  auto not_base64 = ParseJsonRequest(kSecrets, "CreateSecret", R"({"Name":"b","SecretBinary":"no!"})");
  ASSERT_FALSE(not_base64);
  EXPECT_EQ(not_base64.error().code, "SerializationException");
}

TEST(ValidateJson, AcceptsTheDemoTaskDefinitionAsTheDeployerSendsIt) {
  std::ifstream in(std::string(SLIPWAY_SOURCE_DIR) + "/examples/demo/web.taskdef.json");
  std::stringstream text;
  text << in.rdbuf();
  json td = json::parse(text.str());
  td["tags"] = json::array({{{"key", "slipway:release"}, {"value", "r-20261129-1"}},
                            {{"key", "slipway:by"}, {"value", "ci@build-host"}},
                            {{"key", "slipway:started"}, {"value", "2026-11-29T10:00:00Z"}}});
  auto got = ParseJsonRequest(kEcs, "RegisterTaskDefinition", td.dump());
  ASSERT_TRUE(got.has_value()) << got.error().message;
  EXPECT_EQ(*got, td);
}

TEST(ValidateJson, AcceptsGoodRequestsAtTheirLimits) {
  const std::vector<std::pair<std::string, std::string>> good = {
      {"CreateService",
       R"({"cluster":"demo-dev","serviceName":"demo-dev_web-1","taskDefinition":"demo-web:3","desiredCount":0,
           "launchType":"FARGATE","healthCheckGracePeriodSeconds":0,
           "loadBalancers":[{"targetGroupArn":"arn:tg","containerName":"web","containerPort":8080}],
           "networkConfiguration":{"awsvpcConfiguration":{"subnets":["subnet-local"],"assignPublicIp":"DISABLED"}},
           "deploymentConfiguration":{"maximumPercent":200,"minimumHealthyPercent":0,
             "deploymentCircuitBreaker":{"enable":true,"rollback":true}}})"},
      {"UpdateService", R"({"service":"web","desiredCount":2147483647,"forceNewDeployment":true})"},
      {"UpdateService",
       R"({"service":"web","deploymentConfiguration":{"maximumPercent":100,"minimumHealthyPercent":100}})"},
      {"RunTask",
       R"({"taskDefinition":"td","count":10,"overrides":{"containerOverrides":[{"name":"web","command":["migrate"]}]}})"},
      {"RunTask", R"({"taskDefinition":"td","count":1})"},
      {"TagResource",
       R"({"resourceArn":"a","tags":[{"key":"café","value":"naïve = 1 + 1 @ 10:00/x"}]})"},
      {"RegisterTaskDefinition",
       R"({"family":"f","containerDefinitions":[{"name":"w","portMappings":[{"containerPort":0,"hostPort":65535}]}]})"},
      {"ListServices", ""},
      {"RegisterTaskDefinition",
       "{\"family\":\"f\",\"containerDefinitions\":[],\"x\":" + Nested(63, "{\"a\":", "}") + "}"},
  };
  for (const auto& [op, body] : good) {
    auto got = ParseJsonRequest(kEcs, op, body);
    EXPECT_TRUE(got.has_value()) << op << " " << body << ": " << (got ? "" : got.error().message);
  }
}

/// Ten violations the shape checker counts before it stops looking, then `tail`: a value of the
/// wrong type it never reaches, where a semantic rule expects another type.
std::string TenViolationsThen(const std::string& list, const std::string& item, const std::string& tail) {
  std::string body = "\"" + list + "\":[";
  for (int i = 0; i < 10; ++i) body += item + ",";
  return body + tail + "]";
}

TEST(ValidateJson, AWrongTypePastTheTenthViolationIsRefusedNotThrown) {
  const std::string metric = R"({"Namespace":"n","MetricName":"m"})";
  const std::string queries = TenViolationsThen(
      "MetricDataQueries", R"({"Id":""})",
      R"({"Id":"q","MetricStat":{"Metric":)" + metric + R"(,"Period":"x","Stat":"Sum"}})");
  const std::vector<std::pair<std::string, std::string>> requests = {
      {"GraniteServiceVersion20100801.GetMetricData",
       R"({"StartTime":1,"EndTime":2,)" + queries + "}"},
      {kEcs + ".CreateService",
       R"({"serviceName":123,"taskDefinition":"x",)" +
           TenViolationsThen("placementConstraints", R"({"type":"bad"})", R"({"type":"bad"})") + "}"},
  };
  for (const auto& [target, body] : requests) {
    const size_t dot = target.rfind('.');
    tl::expected<json, ApiError> got;
    ASSERT_NO_THROW(got = ParseJsonRequest(target.substr(0, dot), target.substr(dot + 1), body)) << target;
    ASSERT_FALSE(got.has_value()) << target;
    EXPECT_EQ(got.error().status, 400) << target;
    EXPECT_NE(got.error().message.find("10 validation errors detected"), std::string::npos)
        << target << ": " << got.error().message;
  }
}

TEST(ValidateJson, DropsMembersTheModelDoesNotNameAndNullMembers) {
  auto got =
      ParseJsonRequest(kEcs, "DescribeServices",
                       R"({"cluster":"c","services":["a"],"bogus":{"deep":[1,2]},"include":null})");
  ASSERT_TRUE(got.has_value()) << got.error().message;
  EXPECT_EQ(*got, json::parse(R"({"cluster":"c","services":["a"]})"));
}

}  // namespace
}  // namespace slipway::engine
