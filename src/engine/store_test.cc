// The row store: commits what changed, deletes what went, restores it all, and converts the
// single-document state older engines wrote.
#include "engine/store.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

namespace slipway::engine {
namespace {

namespace fs = std::filesystem;

class StoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("slipway-store-" + std::to_string(::getpid()));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string Path() const { return (dir_ / "engine.db").string(); }

  fs::path dir_;
};

State Sample() {
  State s;
  s.clusters["c"] = Cluster{"arn:c", "c", "ACTIVE"};
  s.task_definitions["web"] = {nlohmann::json{{"family", "web"}, {"revision", 1}},
                               nlohmann::json{{"family", "web"}, {"revision", 2}}};
  Task t;
  t.id = "t1";
  t.last_status = "RUNNING";
  s.tasks["t1"] = t;
  TargetGroup tg;
  tg.arn = "arn:tg";
  tg.name = "tg";
  Target target;
  target.id = "127.0.0.1";
  target.port = 20001;
  target.task_id = "t1";
  target.state = "healthy";
  tg.targets["127.0.0.1:20001"] = target;
  s.target_groups["arn:tg"] = tg;
  s.tags["arn:c"] = nlohmann::json::array({{{"key", "k"}, {"value", "v"}}});
  return s;
}

TEST_F(StoreTest, WhatIsCommittedIsWhatALaterOpenLoads) {
  State s = Sample();
  {
    auto store = Store::Open(Path());
    ASSERT_TRUE(store) << store.error().message;
    const auto all = AllObjects(s);
    ASSERT_TRUE((*store)->Commit(s, std::set<ObjectRef>(all.begin(), all.end())));
  }
  auto store = Store::Open(Path());
  ASSERT_TRUE(store);
  bool migrated = true;
  auto loaded = (*store)->Load(&migrated);
  ASSERT_TRUE(loaded) << loaded.error().message;
  EXPECT_FALSE(migrated);
  EXPECT_EQ(loaded->clusters.at("c").arn, "arn:c");
  ASSERT_EQ(loaded->task_definitions.at("web").size(), 2u);
  EXPECT_EQ(loaded->task_definitions.at("web")[1]["revision"], 2);
  EXPECT_EQ(loaded->tasks.at("t1").last_status, "RUNNING");
  const Target& t = loaded->target_groups.at("arn:tg").targets.at("127.0.0.1:20001");
  EXPECT_EQ(t.task_id, "t1");
  EXPECT_EQ(t.state, "healthy");
  EXPECT_EQ(loaded->tags.at("arn:c")[0]["value"], "v");
}

TEST_F(StoreTest, AnObjectThatCannotBeWrittenFailsItsCommitAndTheNextOneStillWorks) {
  State s = Sample();
  s.load_balancers["arn:lb"] = LoadBalancer{.arn = "arn:lb", .name = "\xff\xfe"};
  auto store = Store::Open(Path());
  ASSERT_TRUE(store);
  auto failed = (*store)->Commit(s, {{ObjectKind::kLoadBalancer, "arn:lb"}});
  ASSERT_FALSE(failed);
  EXPECT_NE(failed.error().message.find("arn:lb"), std::string::npos) << failed.error().message;
  auto next = (*store)->Commit(s, {{ObjectKind::kCluster, "c"}});
  EXPECT_TRUE(next) << next.error().message;
}

TEST_F(StoreTest, OnlyTouchedObjectsAreWrittenAndRemovedOnesAreDeleted) {
  State s = Sample();
  auto store = Store::Open(Path());
  ASSERT_TRUE(store);
  const auto all = AllObjects(s);
  ASSERT_TRUE((*store)->Commit(s, std::set<ObjectRef>(all.begin(), all.end())));
  // Changed in memory but not touched: not written.
  s.clusters["c"].status = "INACTIVE";
  // Removed and touched: deleted.
  s.tasks.erase("t1");
  ASSERT_TRUE((*store)->Commit(s, {{ObjectKind::kTask, "t1"}}));
  bool migrated = false;
  auto loaded = (*store)->Load(&migrated);
  ASSERT_TRUE(loaded);
  EXPECT_EQ(loaded->clusters.at("c").status, "ACTIVE");
  EXPECT_EQ(loaded->tasks.count("t1"), 0u);
}

TEST_F(StoreTest, AnOlderEnginesSingleDocumentIsConvertedToRows) {
  {
    auto db = OpenDatabase(Path(), "CREATE TABLE documents (key TEXT PRIMARY KEY, body TEXT NOT NULL);");
    ASSERT_TRUE(db);
    auto insert = Prepare(db->get(), "INSERT INTO documents(key, body) VALUES('state', ?1)");
    ASSERT_TRUE(insert);
    Bind(insert->get(), 1,
         std::string(R"({"clusters": {"c": {"arn": "arn:c", "name": "c", "status": "ACTIVE"}},)"
                     R"( "tasks": {"t1": {"id": "t1", "last_status": "RUNNING"}},)"
                     R"( "target_groups": {"arn:tg": {"arn": "arn:tg", "name": "tg", "targets": {"127.0.0.1:5": )"
                     R"({"id": "127.0.0.1", "port": 5, "state": "healthy", "checked_once": true}}}}})"));
    ASSERT_EQ(sqlite3_step(insert->get()), SQLITE_DONE);
  }
  {
    auto store = Store::Open(Path());
    ASSERT_TRUE(store) << store.error().message;
    bool migrated = false;
    auto loaded = (*store)->Load(&migrated);
    ASSERT_TRUE(loaded) << loaded.error().message;
    EXPECT_TRUE(migrated);
    EXPECT_EQ(loaded->tasks.at("t1").last_status, "RUNNING");
    EXPECT_EQ(loaded->target_groups.at("arn:tg").targets.at("127.0.0.1:5").state, "healthy");
  }
  // The second open reads the rows; the document is gone.
  auto store = Store::Open(Path());
  ASSERT_TRUE(store);
  bool migrated = true;
  auto loaded = (*store)->Load(&migrated);
  ASSERT_TRUE(loaded);
  EXPECT_FALSE(migrated);
  EXPECT_EQ(loaded->clusters.at("c").name, "c");
}

TEST_F(StoreTest, AFileFromANewerSlipwayIsRefusedWithTheResetCommand) {
  {
    auto store = Store::Open(Path());
    ASSERT_TRUE(store);
    auto db = OpenDatabase(Path(), "");
    ASSERT_TRUE(db);
    ASSERT_EQ(sqlite3_exec(db->get(), "INSERT INTO meta(key, value) VALUES('schema', '99')", nullptr, nullptr, nullptr),
              SQLITE_OK);
  }
  auto store = Store::Open(Path());
  ASSERT_FALSE(store);
  EXPECT_NE(store.error().message.find("newer slipway"), std::string::npos) << store.error().message;
  EXPECT_NE(store.error().message.find("rm -rf " + dir_.string()), std::string::npos) << store.error().message;
}

}  // namespace
}  // namespace slipway::engine
