#include "engine/secret_store.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <thread>

#include "base/strings.h"

namespace slipway::engine {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

constexpr const char* kPlain = "correct-horse-battery-staple";
constexpr const char* kAsmFailure =
    "ResourceInitializationError: unable to pull secrets or registry auth: execution resource "
    "retrieval failed: unable to retrieve secret from asm: service call has been retried 1 "
    "time(s): "
    "failed to fetch secret ";

class SecretStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("slipway-secrets-" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    Reopen();
  }
  void TearDown() override {
    store_.reset();
    fs::remove_all(dir_);
  }
  void Reopen() {
    store_.reset();
    auto opened = SecretStore::Open(DbPath(), KeyPath(), "us-east-1", clock_);
    ASSERT_TRUE(opened) << opened.error().message;
    store_ = std::move(*opened);
  }
  std::string DbPath() const { return (dir_ / "secrets.db").string(); }
  std::string KeyPath() const { return (dir_ / "secrets.key").string(); }

  json Sm(const std::string& op, const json& r) {
    auto out = store_->HandleSecretsManager(op, r);
    EXPECT_TRUE(out) << op << ": " << (out ? "" : out.error().code + " " + out.error().message);
    return out ? *out : json();
  }
  ApiError SmError(const std::string& op, const json& r) {
    auto out = store_->HandleSecretsManager(op, r);
    EXPECT_FALSE(out) << op << " succeeded: " << (out ? out->dump() : "");
    return out ? ApiError{} : out.error();
  }
  json Ssm(const std::string& op, const json& r) {
    auto out = store_->HandleSsm(op, r);
    EXPECT_TRUE(out) << op << ": " << (out ? "" : out.error().code + " " + out.error().message);
    return out ? *out : json();
  }
  ApiError SsmError(const std::string& op, const json& r) {
    auto out = store_->HandleSsm(op, r);
    EXPECT_FALSE(out) << op << " succeeded: " << (out ? out->dump() : "");
    return out ? ApiError{} : out.error();
  }
  /// Every byte of every file in the data dir, so a test can look for plain text at rest.
  std::string AllBytesAtRest() const {
    std::string all;
    for (const auto& entry : fs::recursive_directory_iterator(dir_)) {
      if (!entry.is_regular_file()) continue;
      std::ifstream in(entry.path(), std::ios::binary);
      std::stringstream ss;
      ss << in.rdbuf();
      all += ss.str();
    }
    return all;
  }

  fs::path dir_;
  FakeClock clock_;
  std::unique_ptr<SecretStore> store_;
};

TEST_F(SecretStoreTest, ASecretGetsAnAwsShapedArnAndIsFoundByNameFullArnOrPartialArn) {
  json created = Sm("CreateSecret", {{"Name", "app/db"}, {"SecretString", kPlain}});
  const std::string arn = created["ARN"];
  EXPECT_TRUE(std::regex_match(
      arn,
      std::regex("arn:aws:secretsmanager:us-east-1:000000000000:secret:app/db-[A-Za-z0-9]{6}")))
      << arn;
  EXPECT_EQ(created["Name"], "app/db");
  EXPECT_TRUE(std::regex_match(
      created["VersionId"].get<std::string>(),
      std::regex("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")));
  for (const std::string& id :
       {std::string("app/db"), arn,
        std::string("arn:aws:secretsmanager:us-east-1:000000000000:secret:app/db")}) {
    json got = Sm("GetSecretValue", {{"SecretId", id}});
    EXPECT_EQ(got["SecretString"], kPlain) << id;
    EXPECT_EQ(got["ARN"], arn);
    EXPECT_EQ(got["VersionStages"], json::array({"AWSCURRENT"}));
    EXPECT_EQ(got["VersionId"], created["VersionId"]);
  }
}

TEST_F(SecretStoreTest, PuttingAValueMovesAwsCurrentAndLeavesAwsPreviousOnTheOldVersion) {
  json v1 = Sm("CreateSecret", {{"Name", "token"}, {"SecretString", "one"}});
  json v2 = Sm("PutSecretValue", {{"SecretId", "token"}, {"SecretString", "two"}});
  EXPECT_EQ(v2["VersionStages"], json::array({"AWSCURRENT"}));
  EXPECT_NE(v2["VersionId"], v1["VersionId"]);
  EXPECT_EQ(Sm("GetSecretValue", {{"SecretId", "token"}})["SecretString"], "two");
  json previous = Sm("GetSecretValue", {{"SecretId", "token"}, {"VersionStage", "AWSPREVIOUS"}});
  EXPECT_EQ(previous["SecretString"], "one");
  EXPECT_EQ(previous["VersionId"], v1["VersionId"]);
  EXPECT_EQ(
      Sm("GetSecretValue", {{"SecretId", "token"}, {"VersionId", v1["VersionId"]}})["SecretString"],
      "one");
  json described = Sm("DescribeSecret", {{"SecretId", "token"}});
  EXPECT_EQ(described["VersionIdsToStages"][v1["VersionId"].get<std::string>()],
            json::array({"AWSPREVIOUS"}));
  EXPECT_EQ(described["VersionIdsToStages"][v2["VersionId"].get<std::string>()],
            json::array({"AWSCURRENT"}));

  ApiError mismatch = SmError(
      "GetSecretValue",
      {{"SecretId", "token"}, {"VersionId", v1["VersionId"]}, {"VersionStage", "AWSCURRENT"}});
  EXPECT_EQ(mismatch.code, "InvalidRequestException");
  ApiError no_stage =
      SmError("GetSecretValue", {{"SecretId", "token"}, {"VersionStage", "AWSPENDING"}});
  EXPECT_EQ(no_stage.code, "ResourceNotFoundException");
  EXPECT_EQ(no_stage.message,
            "Secrets Manager can't find the specified secret value for staging label: AWSPENDING");
}

TEST_F(SecretStoreTest, ErrorsAreWordedAsSecretsManagerWordsThem) {
  ApiError missing = SmError("GetSecretValue", {{"SecretId", "nope"}});
  EXPECT_EQ(missing.code, "ResourceNotFoundException");
  EXPECT_EQ(missing.message, "Secrets Manager can't find the specified secret.");
  Sm("CreateSecret", {{"Name", "dup"}, {"SecretString", "x"}});
  ApiError exists = SmError("CreateSecret", {{"Name", "dup"}, {"SecretString", "y"}});
  EXPECT_EQ(exists.code, "ResourceExistsException");
  EXPECT_EQ(exists.message, "The operation failed because the secret dup already exists.");
  EXPECT_EQ(
      SmError("CreateSecret", {{"Name", "both"}, {"SecretString", "x"}, {"SecretBinary", "eA=="}})
          .code,
      "InvalidParameterException");
  EXPECT_EQ(SmError("CreateSecret", {{"Name", "bad:name"}}).code, "ValidationException");
  EXPECT_EQ(SmError("PutSecretValue", {{"SecretId", "dup"}}).code, "InvalidParameterException");
  ApiError window = SmError("DeleteSecret", {{"SecretId", "dup"}, {"RecoveryWindowInDays", 3}});
  EXPECT_EQ(window.message,
            "The RecoveryWindowInDays value must be between 7 and 30 days (inclusive).");
  EXPECT_EQ(SmError("DeleteSecret", {{"SecretId", "dup"},
                                     {"RecoveryWindowInDays", 7},
                                     {"ForceDeleteWithoutRecovery", true}})
                .code,
            "InvalidParameterException");
}

TEST_F(SecretStoreTest, ARetriedCreateWithTheSameTokenAndValueAnswersAsTheFirst) {
  const std::string token = "11111111-2222-4333-8444-555555555555";
  json first =
      Sm("CreateSecret", {{"Name", "idem"}, {"SecretString", "v"}, {"ClientRequestToken", token}});
  json again =
      Sm("CreateSecret", {{"Name", "idem"}, {"SecretString", "v"}, {"ClientRequestToken", token}});
  EXPECT_EQ(again["ARN"], first["ARN"]);
  EXPECT_EQ(again["VersionId"], token);
  EXPECT_EQ(SmError("CreateSecret",
                    {{"Name", "idem"}, {"SecretString", "other"}, {"ClientRequestToken", token}})
                .code,
            "ResourceExistsException");
}

TEST_F(SecretStoreTest, BinarySecretsRoundTripAsBase64) {
  std::string bytes;
  for (int c = 0; c < 256; ++c) bytes += static_cast<char>(c);
  Sm("CreateSecret", {{"Name", "bin"}, {"SecretBinary", Base64Encode(bytes)}});
  json got = Sm("GetSecretValue", {{"SecretId", "bin"}});
  EXPECT_EQ(got["SecretBinary"], Base64Encode(bytes));
  EXPECT_FALSE(got.contains("SecretString"));
}

TEST_F(SecretStoreTest, ADeletedSecretIsMarkedForDeletionUntilItsWindowEnds) {
  json created = Sm("CreateSecret", {{"Name", "old"}, {"SecretString", "x"}});
  json deleted = Sm("DeleteSecret", {{"SecretId", "old"}, {"RecoveryWindowInDays", 7}});
  const double now = EpochSeconds(clock_.WallNow());
  EXPECT_NEAR(deleted["DeletionDate"].get<double>(), now + 7 * 86400, 1);
  ApiError marked = SmError("GetSecretValue", {{"SecretId", "old"}});
  EXPECT_EQ(marked.code, "InvalidRequestException");
  EXPECT_EQ(marked.message,
            "You can't perform this operation on the secret because it was marked for deletion.");
  EXPECT_TRUE(Sm("DescribeSecret", {{"SecretId", "old"}}).contains("DeletedDate"));
  EXPECT_TRUE(Sm("ListSecrets", json::object())["SecretList"].empty());
  EXPECT_EQ(Sm("ListSecrets", {{"IncludePlannedDeletion", true}})["SecretList"].size(), 1u);
  EXPECT_EQ(SmError("CreateSecret", {{"Name", "old"}, {"SecretString", "y"}}).code,
            "InvalidRequestException");
  auto resolved = store_->Resolve(created["ARN"]);
  ASSERT_FALSE(resolved);
  EXPECT_NE(resolved.error().message.find("marked for deletion"), std::string::npos);

  clock_.Advance(std::chrono::hours(24 * 7) + std::chrono::seconds(1));
  EXPECT_EQ(SmError("GetSecretValue", {{"SecretId", "old"}}).code, "ResourceNotFoundException");
  Sm("CreateSecret", {{"Name", "old"}, {"SecretString", "new"}});
  EXPECT_EQ(Sm("GetSecretValue", {{"SecretId", "old"}})["SecretString"], "new");
  Sm("DeleteSecret", {{"SecretId", "old"}, {"ForceDeleteWithoutRecovery", true}});
  EXPECT_EQ(SmError("DescribeSecret", {{"SecretId", "old"}}).code, "ResourceNotFoundException");
}

TEST_F(SecretStoreTest, ListSecretsFiltersByNamePrefixAndPages) {
  for (const char* name : {"app/a", "app/b", "app/c", "other"})
    Sm("CreateSecret", {{"Name", name}, {"SecretString", "x"}});
  json filters = json::array({{{"Key", "name"}, {"Values", {"app/"}}}});
  json page =
      Sm("ListSecrets",
         {{"Filters", filters}, {"MaxResults", 2}, {"SortBy", "name"}, {"SortOrder", "asc"}});
  ASSERT_EQ(page["SecretList"].size(), 2u);
  EXPECT_EQ(page["SecretList"][0]["Name"], "app/a");
  ASSERT_TRUE(page.contains("NextToken"));
  json rest = Sm("ListSecrets", {{"Filters", filters},
                                 {"MaxResults", 2},
                                 {"SortBy", "name"},
                                 {"SortOrder", "asc"},
                                 {"NextToken", page["NextToken"]}});
  ASSERT_EQ(rest["SecretList"].size(), 1u);
  EXPECT_EQ(rest["SecretList"][0]["Name"], "app/c");
  EXPECT_FALSE(rest.contains("NextToken"));
  json negated =
      Sm("ListSecrets", {{"Filters", json::array({{{"Key", "name"}, {"Values", {"!app/"}}}})}});
  ASSERT_EQ(negated["SecretList"].size(), 1u);
  EXPECT_EQ(negated["SecretList"][0]["Name"], "other");
  EXPECT_EQ(SmError("ListSecrets", {{"NextToken", "garbage"}}).code, "InvalidNextTokenException");
}

TEST_F(SecretStoreTest, ParametersKeepVersionsAndRefuseASecondCreate) {
  EXPECT_EQ(Ssm("PutParameter", {{"Name", "/app/url"}, {"Value", "http://a"}, {"Type", "String"}}),
            json({{"Version", 1}, {"Tier", "Standard"}}));
  ApiError exists =
      SsmError("PutParameter", {{"Name", "/app/url"}, {"Value", "http://b"}, {"Type", "String"}});
  EXPECT_EQ(exists.code, "ParameterAlreadyExists");
  EXPECT_EQ(Ssm("PutParameter",
                {{"Name", "/app/url"}, {"Value", "http://b"}, {"Overwrite", true}})["Version"],
            2);
  json p = Ssm("GetParameter", {{"Name", "/app/url"}})["Parameter"];
  EXPECT_EQ(p["Value"], "http://b");
  EXPECT_EQ(p["Version"], 2);
  EXPECT_EQ(p["Type"], "String");
  EXPECT_EQ(p["ARN"], "arn:aws:ssm:us-east-1:000000000000:parameter/app/url");
  EXPECT_EQ(p["DataType"], "text");
  EXPECT_EQ(Ssm("GetParameter", {{"Name", "/app/url:2"}})["Parameter"]["Selector"], ":2");
  EXPECT_EQ(SsmError("GetParameter", {{"Name", "/app/url:1"}}).code, "ParameterVersionNotFound");
  EXPECT_EQ(Ssm("GetParameter", {{"Name", p["ARN"]}})["Parameter"]["Value"], "http://b");
  EXPECT_EQ(SsmError("PutParameter", {{"Name", "/new"}, {"Value", "v"}}).message,
            "A parameter type is required when you create a parameter.");
  EXPECT_EQ(SsmError("PutParameter", {{"Name", "/aws/x"}, {"Value", "v"}, {"Type", "String"}}).code,
            "ValidationException");
  EXPECT_EQ(SsmError("PutParameter", {{"Name", "a/b"}, {"Value", "v"}, {"Type", "String"}}).code,
            "ValidationException");
}

TEST_F(SecretStoreTest, ParameterValuesAreBoundedByTheirTier) {
  const std::string standard_max(4096, 'v');
  Ssm("PutParameter", {{"Name", "big"}, {"Value", standard_max}, {"Type", "String"}});
  ApiError too_big = SsmError(
      "PutParameter", {{"Name", "bigger"}, {"Value", standard_max + "v"}, {"Type", "String"}});
  EXPECT_EQ(too_big.code, "ValidationException");
  EXPECT_NE(too_big.message.find("4096"), std::string::npos);
  EXPECT_EQ(Ssm("PutParameter", {{"Name", "adv"},
                                 {"Value", std::string(8192, 'v')},
                                 {"Type", "String"},
                                 {"Tier", "Advanced"}})["Tier"],
            "Advanced");
  EXPECT_EQ(SsmError("PutParameter", {{"Name", "adv2"},
                                      {"Value", std::string(8193, 'v')},
                                      {"Type", "String"},
                                      {"Tier", "Advanced"}})
                .code,
            "ValidationException");
  EXPECT_EQ(Ssm("PutParameter", {{"Name", "it"},
                                 {"Value", standard_max + "v"},
                                 {"Type", "String"},
                                 {"Tier", "Intelligent-Tiering"}})["Tier"],
            "Advanced");
  EXPECT_EQ(SsmError("PutParameter", {{"Name", "empty"}, {"Value", ""}, {"Type", "String"}}).code,
            "ValidationException");
  EXPECT_EQ(
      SsmError(
          "PutParameter",
          {{"Name", "pat"}, {"Value", "abc"}, {"Type", "String"}, {"AllowedPattern", "^\\d+$"}})
          .code,
      "ParameterPatternMismatchException");
}

TEST_F(SecretStoreTest, ASecureStringIsOpaqueWithoutDecryption) {
  Ssm("PutParameter", {{"Name", "/app/password"}, {"Value", kPlain}, {"Type", "SecureString"}});
  json opaque = Ssm("GetParameter", {{"Name", "/app/password"}})["Parameter"];
  EXPECT_EQ(opaque["Type"], "SecureString");
  EXPECT_NE(opaque["Value"], kPlain);
  EXPECT_EQ(opaque["Value"].get<std::string>().find("horse"), std::string::npos);
  EXPECT_TRUE(Base64Decode(opaque["Value"].get<std::string>()).has_value());
  EXPECT_EQ(Ssm("GetParameter",
                {{"Name", "/app/password"}, {"WithDecryption", true}})["Parameter"]["Value"],
            kPlain);
}

TEST_F(SecretStoreTest, GetParametersListsTheNamesItCannotFind) {
  Ssm("PutParameter", {{"Name", "/a"}, {"Value", "1"}, {"Type", "String"}});
  json got = Ssm("GetParameters", {{"Names", {"/a", "/missing", "/a"}}});
  ASSERT_EQ(got["Parameters"].size(), 1u);
  EXPECT_EQ(got["Parameters"][0]["Value"], "1");
  EXPECT_EQ(got["InvalidParameters"], json::array({"/missing"}));
  ApiError gone = SsmError("DeleteParameter", {{"Name", "/missing"}});
  EXPECT_EQ(gone.code, "ParameterNotFound");
  Ssm("DeleteParameter", {{"Name", "/a"}});
  EXPECT_EQ(SsmError("GetParameter", {{"Name", "/a"}}).code, "ParameterNotFound");
}

TEST_F(SecretStoreTest, GetParametersByPathReadsOneLevelOrAllAndPages) {
  for (const char* name : {"/app/a", "/app/b", "/app/c", "/app/deep/d", "/apple", "/other/x"}) {
    Ssm("PutParameter", {{"Name", name}, {"Value", name}, {"Type", "String"}});
  }
  auto names = [](const json& page) {
    std::vector<std::string> out;
    for (const auto& p : page["Parameters"]) out.push_back(p["Name"]);
    return out;
  };
  EXPECT_EQ(names(Ssm("GetParametersByPath", {{"Path", "/app"}})),
            (std::vector<std::string>{"/app/a", "/app/b", "/app/c"}));
  json first =
      Ssm("GetParametersByPath", {{"Path", "/app/"}, {"Recursive", true}, {"MaxResults", 3}});
  EXPECT_EQ(names(first), (std::vector<std::string>{"/app/a", "/app/b", "/app/c"}));
  ASSERT_TRUE(first.contains("NextToken"));
  json second = Ssm("GetParametersByPath", {{"Path", "/app/"},
                                            {"Recursive", true},
                                            {"MaxResults", 3},
                                            {"NextToken", first["NextToken"]}});
  EXPECT_EQ(names(second), (std::vector<std::string>{"/app/deep/d"}));
  EXPECT_FALSE(second.contains("NextToken"));
  EXPECT_EQ(SsmError("GetParametersByPath", {{"Path", "/app"}, {"NextToken", "!!"}}).code,
            "InvalidNextToken");
  EXPECT_EQ(SsmError("GetParametersByPath", {{"Path", "app"}}).code, "ValidationException");
}

TEST_F(SecretStoreTest, NoValueIsStoredInClearTextAndTheKeyFileIsPrivate) {
  Sm("CreateSecret", {{"Name", "s"}, {"SecretString", std::string("string:") + kPlain}});
  Sm("CreateSecret",
     {{"Name", "b"}, {"SecretBinary", Base64Encode(std::string("binary:") + kPlain)}});
  Ssm("PutParameter",
      {{"Name", "/p/plain"}, {"Value", std::string("param:") + kPlain}, {"Type", "String"}});
  Ssm("PutParameter", {{"Name", "/p/secure"},
                       {"Value", std::string("secure:") + kPlain},
                       {"Type", "SecureString"}});
  const std::string before_close = AllBytesAtRest();  // the WAL holds the writes at this point
  store_.reset();
  const std::string after_close = AllBytesAtRest();
  for (const std::string& bytes : {before_close, after_close}) {
    EXPECT_EQ(bytes.find("horse-battery"), std::string::npos);
  }
  EXPECT_NE(after_close.find("/p/secure"), std::string::npos)
      << "names are metadata, kept in clear";
  struct stat st {};
  ASSERT_EQ(::stat(KeyPath().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_EQ(st.st_size, 32);
  Reopen();
  EXPECT_EQ(Sm("GetSecretValue", {{"SecretId", "s"}})["SecretString"],
            std::string("string:") + kPlain);
}

TEST_F(SecretStoreTest, AStoreWithValuesRefusesToStartWithoutItsKeyAndAnotherKeyCannotOpenThem) {
  Sm("CreateSecret", {{"Name", "s"}, {"SecretString", kPlain}});
  store_.reset();
  const std::string key_backup = KeyPath() + ".bak";
  fs::rename(KeyPath(), key_backup);
  auto without_key = SecretStore::Open(DbPath(), KeyPath(), "us-east-1", clock_);
  ASSERT_FALSE(without_key);
  EXPECT_NE(without_key.error().message.find("is missing"), std::string::npos);
  {
    std::ofstream other(KeyPath(), std::ios::binary);
    other << std::string(32, 'k');
  }
  fs::permissions(KeyPath(), fs::perms::owner_read | fs::perms::owner_write);
  Reopen();
  EXPECT_EQ(SmError("GetSecretValue", {{"SecretId", "s"}}).code, "DecryptionFailure");
  store_.reset();
  fs::permissions(KeyPath(), fs::perms::others_read, fs::perm_options::add);
  EXPECT_FALSE(SecretStore::Open(DbPath(), KeyPath(), "us-east-1", clock_));
}

TEST_F(SecretStoreTest, ResolvesSecretsByArnJsonKeyStageAndVersion) {
  json created =
      Sm("CreateSecret",
         {{"Name", "db"}, {"SecretString", R"({"user":"app","password":"p1","port":5432})"}});
  const std::string arn = created["ARN"];
  EXPECT_EQ(store_->Resolve(arn), R"({"user":"app","password":"p1","port":5432})");
  EXPECT_EQ(store_->Resolve(arn + ":password::"), "p1");
  EXPECT_EQ(store_->Resolve(arn + ":password:AWSCURRENT:"), "p1");
  EXPECT_EQ(store_->Resolve(arn + ":port::"), "5432");
  json v2 = Sm("PutSecretValue", {{"SecretId", arn}, {"SecretString", R"({"password":"p2"})"}});
  EXPECT_EQ(store_->Resolve(arn + ":password::"), "p2");
  EXPECT_EQ(store_->Resolve(arn + ":password:AWSPREVIOUS:"), "p1");
  EXPECT_EQ(store_->Resolve(arn + ":password::" + created["VersionId"].get<std::string>()), "p1");
  // The ARN without its random suffix names the secret too.
  EXPECT_EQ(store_->Resolve("arn:aws:secretsmanager:us-east-1:000000000000:secret:db:password::"),
            "p2");
}

TEST_F(SecretStoreTest, AFailedResolveSaysWhatEcsSaysInTheStoppedReason) {
  const std::string missing = "arn:aws:secretsmanager:us-east-1:000000000000:secret:nope-AbCdEf";
  auto not_found = store_->Resolve(missing + ":password::");
  ASSERT_FALSE(not_found);
  EXPECT_EQ(not_found.error().message, std::string(kAsmFailure) + missing +
                                           " from secrets manager: ResourceNotFoundException: "
                                           "Secrets Manager can't find the specified secret.");
  json created = Sm("CreateSecret", {{"Name", "db"}, {"SecretString", R"({"user":"app"})"}});
  auto no_key = store_->Resolve(created["ARN"].get<std::string>() + ":password::");
  ASSERT_FALSE(no_key);
  EXPECT_EQ(no_key.error().message,
            std::string(kAsmFailure) + created["ARN"].get<std::string>() +
                " from secrets manager: retrieved secret from Secrets Manager did not "
                "contain json key password");
  auto no_param = store_->Resolve("/app/missing");
  ASSERT_FALSE(no_param);
  EXPECT_EQ(no_param.error().message,
            "ResourceInitializationError: unable to pull secrets or registry auth: execution "
            "resource retrieval "
            "failed: unable to retrieve secrets from ssm: service call has been retried 1 time(s): "
            "invalid ssm "
            "parameters: /app/missing");
}

TEST_F(SecretStoreTest, ResolvesParametersByNameOrArnDecrypted) {
  Ssm("PutParameter", {{"Name", "/app/db-password"}, {"Value", kPlain}, {"Type", "SecureString"}});
  Ssm("PutParameter", {{"Name", "plain"}, {"Value", "a,b"}, {"Type", "StringList"}});
  EXPECT_EQ(store_->Resolve("/app/db-password"), kPlain);
  EXPECT_EQ(store_->Resolve("arn:aws:ssm:us-east-1:000000000000:parameter/app/db-password"),
            kPlain);
  EXPECT_EQ(store_->Resolve("plain"), "a,b");
  EXPECT_EQ(store_->Resolve("arn:aws:ssm:us-east-1:000000000000:parameter/plain"), "a,b");
  EXPECT_FALSE(store_->Resolve("arn:aws:ssm:eu-west-1:000000000000:parameter/plain"));
}

TEST_F(SecretStoreTest, ConcurrentWritersAndResolversSeeWholeValues) {
  json created = Sm("CreateSecret", {{"Name", "hot"}, {"SecretString", "0"}});
  const std::string arn = created["ARN"];
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 2; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 1; i <= 50; ++i) {
        if (!store_->HandleSecretsManager(
                "PutSecretValue",
                {{"SecretId", "hot"}, {"SecretString", std::to_string(t * 1000 + i)}})) {
          ++failures;
        }
        if (!store_->HandleSsm("PutParameter", {{"Name", "/hot/" + std::to_string(t)},
                                                {"Value", std::to_string(i)},
                                                {"Type", "SecureString"},
                                                {"Overwrite", true}})) {
          ++failures;
        }
      }
    });
    threads.emplace_back([&] {
      for (int i = 0; i < 100; ++i) {
        auto v = store_->Resolve(arn);
        if (!v || v->empty() || v->find_first_not_of("0123456789") != std::string::npos) ++failures;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures, 0);
  EXPECT_EQ(store_->Resolve("/hot/1"), "50");
}

}  // namespace
}  // namespace slipway::engine
