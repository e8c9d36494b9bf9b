#include "cluster/config/config_watcher.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "cluster/config/config_test_util.h"

namespace tessera::cluster::config {
namespace {

using namespace std::chrono_literals;

// Records what the watcher applied, from its worker thread.
class Applier {
 public:
  ConfigWatcher::ApplyFn fn() {
    return [this](const std::string& name, const SettingValue& value) -> Status {
      std::lock_guard<std::mutex> lock(mu_);
      if (name == refuse_) return Status::FailedPrecondition("cannot apply " + name + " now");
      applied_.emplace_back(name, value.canonical);
      return Status::Ok();
    };
  }
  std::vector<std::pair<std::string, std::string>> applied() {
    std::lock_guard<std::mutex> lock(mu_);
    return applied_;
  }
  void Refuse(std::string name) {
    std::lock_guard<std::mutex> lock(mu_);
    refuse_ = std::move(name);
  }

 private:
  std::mutex mu_;
  std::string refuse_;
  std::vector<std::pair<std::string, std::string>> applied_;
};

class ConfigWatcherTest : public EtcdTest {
 protected:
  void SetUp() override {
    EtcdTest::SetUp();
    if (client_) store_ = std::make_unique<ConfigStore>(client_.get(), root_);
  }
  std::unique_ptr<ConfigWatcher> Start(const std::string& id) {
    ConfigWatcherOptions options;
    options.retry_delay = 100ms;
    Result<std::unique_ptr<ConfigWatcher>> w =
        ConfigWatcher::Create(client_.get(), root_, id, applier_.fn(), options);
    EXPECT_TRUE(w.ok()) << w.status().ToString();
    return w.ok() ? std::move(w).value() : nullptr;
  }
  // Waits until feedback/<id> in etcd reports an update revision >= `rev`.
  nlohmann::json WaitFeedback(const std::string& id, int64_t rev,
                              std::chrono::milliseconds timeout = 3000ms) {
    nlohmann::json found;
    WaitFor(
        [&] {
          Result<GetResult> got = client_->Get(root_ + "/feedback/" + id);
          if (!got.ok() || !got->kv) return false;
          nlohmann::json j = nlohmann::json::parse(got->kv->value, nullptr, false);
          if (j.is_discarded() || j.value("update_revision", int64_t{0}) < rev) return false;
          found = j;
          return true;
        },
        timeout);
    return found;
  }
  static std::vector<std::string> List(const nlohmann::json& j, const char* field) {
    return j.at(field).get<std::vector<std::string>>();
  }

  Applier applier_;
  std::unique_ptr<ConfigStore> store_;
};

TEST_F(ConfigWatcherTest, AppliesALiveChangeAndReportsIt) {
  ASSERT_TRUE(store_->Set("max_file_size", "1T").ok());
  auto w = Start("3");
  ASSERT_NE(w, nullptr);
  EXPECT_EQ(w->initial().values.at("max_file_size").value.canonical, "1099511627776");

  // Writing a setting alone does nothing: nodes act on the update key only.
  ASSERT_TRUE(store_->Set("max_file_size", "2T").ok());
  std::this_thread::sleep_for(300ms);
  EXPECT_TRUE(applier_.applied().empty());

  auto t0 = std::chrono::steady_clock::now();
  Result<int64_t> rev = store_->Apply();
  ASSERT_TRUE(rev.ok());
  nlohmann::json fb = WaitFeedback("3", *rev);
  ASSERT_FALSE(fb.is_null()) << "no feedback for update " << *rev;
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 2s);
  EXPECT_EQ(fb["array_id"], "3");
  EXPECT_EQ(fb["update_revision"], *rev);
  EXPECT_EQ(List(fb, "applied"), std::vector<std::string>{"max_file_size"});
  EXPECT_TRUE(List(fb, "pending_restart").empty());
  EXPECT_TRUE(List(fb, "ignored_immutable").empty());
  EXPECT_TRUE(List(fb, "errors").empty());
  auto applied = applier_.applied();
  ASSERT_EQ(applied.size(), 1u);
  EXPECT_EQ(applied[0],
            std::make_pair(std::string("max_file_size"), std::to_string(2 * (int64_t{1} << 40))));
  EXPECT_EQ(w->running().at("max_file_size").number, 2 * (int64_t{1} << 40));

  // A second apply with nothing changed applies nothing again.
  rev = store_->Apply();
  ASSERT_TRUE(rev.ok());
  fb = WaitFeedback("3", *rev);
  ASSERT_FALSE(fb.is_null());
  EXPECT_TRUE(List(fb, "applied").empty());
  EXPECT_EQ(applier_.applied().size(), 1u);
}

TEST_F(ConfigWatcherTest, HostOverridesOnlyReachTheirNode) {
  auto w3 = Start("3");
  Applier other;
  Result<std::unique_ptr<ConfigWatcher>> w4 =
      ConfigWatcher::Create(client_.get(), root_, "4", other.fn());
  ASSERT_TRUE(w3 && w4.ok());
  ASSERT_TRUE(store_->Set("compact_interval_seconds", "5m", "4").ok());
  Result<int64_t> rev = store_->Apply();
  ASSERT_TRUE(rev.ok());
  nlohmann::json fb3 = WaitFeedback("3", *rev);
  nlohmann::json fb4 = WaitFeedback("4", *rev);
  ASSERT_FALSE(fb3.is_null() || fb4.is_null());
  EXPECT_TRUE(List(fb3, "applied").empty());
  EXPECT_EQ(List(fb4, "applied"), std::vector<std::string>{"compact_interval_seconds"});
  EXPECT_EQ((*w4)->running().at("compact_interval_seconds").number, 300);
}

TEST_F(ConfigWatcherTest, RestartAndImmutableChangesAreReportedNotApplied) {
  auto w = Start("3");
  ASSERT_NE(w, nullptr);
  ASSERT_TRUE(store_->Set("segment_size", "128M").ok());
  ASSERT_TRUE(store_->Set("cluster_name", "renamed").ok());
  ASSERT_TRUE(store_->Set("debug_logging", "true").ok());
  Result<int64_t> rev = store_->Apply();
  ASSERT_TRUE(rev.ok());
  nlohmann::json fb = WaitFeedback("3", *rev);
  ASSERT_FALSE(fb.is_null());
  EXPECT_EQ(List(fb, "applied"), std::vector<std::string>{"debug_logging"});
  EXPECT_EQ(List(fb, "pending_restart"), std::vector<std::string>{"segment_size"});
  EXPECT_EQ(List(fb, "ignored_immutable"), std::vector<std::string>{"cluster_name"});
  EXPECT_TRUE(List(fb, "errors").empty());
  EXPECT_EQ(w->running().at("cluster_name").canonical, "tessera");
  EXPECT_EQ(w->running().at("segment_size").number, 64 << 20);

  // The watcher keeps running: a later live change is still applied, and the
  // restart change stays pending until the node restarts.
  ASSERT_TRUE(store_->Set("max_file_size", "3T").ok());
  rev = store_->Apply();
  ASSERT_TRUE(rev.ok());
  fb = WaitFeedback("3", *rev);
  ASSERT_FALSE(fb.is_null());
  EXPECT_EQ(List(fb, "applied"), std::vector<std::string>{"max_file_size"});
  EXPECT_EQ(List(fb, "pending_restart"), std::vector<std::string>{"segment_size"});
  EXPECT_EQ(List(fb, "ignored_immutable"), std::vector<std::string>{"cluster_name"});

  // A restarted node starts with the new values and has nothing pending.
  w.reset();
  auto restarted = Start("3");
  ASSERT_NE(restarted, nullptr);
  EXPECT_EQ(restarted->running().at("segment_size").number, 128 << 20);
  rev = store_->Apply();
  ASSERT_TRUE(rev.ok());
  fb = WaitFeedback("3", *rev);
  ASSERT_FALSE(fb.is_null());
  EXPECT_TRUE(List(fb, "pending_restart").empty());
}

TEST_F(ConfigWatcherTest, ApplyFailuresAndBadStoredValuesAreErrorsNotFatal) {
  auto w = Start("3");
  ASSERT_NE(w, nullptr);
  applier_.Refuse("compact_interval_seconds");
  ASSERT_TRUE(store_->Set("compact_interval_seconds", "60").ok());
  // Written behind the store's back, so it was never validated.
  ASSERT_TRUE(client_->Put(root_ + "/max_file_size", "enormous").ok());
  Result<int64_t> rev = store_->Apply();
  ASSERT_TRUE(rev.ok());
  nlohmann::json fb = WaitFeedback("3", *rev);
  ASSERT_FALSE(fb.is_null());
  EXPECT_TRUE(List(fb, "applied").empty());
  std::vector<std::string> errors = List(fb, "errors");
  ASSERT_EQ(errors.size(), 2u) << fb.dump();
  EXPECT_EQ(errors[0].rfind("max_file_size: ", 0), 0u) << errors[0];
  EXPECT_EQ(errors[1], "compact_interval_seconds: cannot apply compact_interval_seconds now");
  EXPECT_EQ(w->running().at("compact_interval_seconds").number, 30);
  EXPECT_EQ(w->running().at("max_file_size").number, int64_t{1} << 40);

  applier_.Refuse("");
  ASSERT_TRUE(store_->Set("max_file_size", "1G").ok());
  rev = store_->Apply();
  ASSERT_TRUE(rev.ok());
  fb = WaitFeedback("3", *rev);
  ASSERT_FALSE(fb.is_null());
  EXPECT_EQ(List(fb, "applied"),
            (std::vector<std::string>{"max_file_size", "compact_interval_seconds"}));
}

TEST_F(ConfigWatcherTest, ResumesAfterEtcdRestarts) {
  auto w = Start("3");
  ASSERT_NE(w, nullptr);
  etcd_->Kill(0);
  std::this_thread::sleep_for(500ms);
  std::string why;
  ASSERT_TRUE(etcd_->Restart(0, &why)) << why;
  ASSERT_TRUE(store_->Set("max_file_size", "5T").ok());
  Result<int64_t> rev = store_->Apply();
  ASSERT_TRUE(rev.ok()) << rev.status().ToString();
  nlohmann::json fb = WaitFeedback("3", *rev, 10000ms);
  ASSERT_FALSE(fb.is_null()) << "watcher did not resume after etcd restarted";
  EXPECT_EQ(List(fb, "applied"), std::vector<std::string>{"max_file_size"});
  EXPECT_EQ(w->running().at("max_file_size").number, 5 * (int64_t{1} << 40));
}

TEST_F(ConfigWatcherTest, AnUpdateDuringAnOutageIsHandledWhenEtcdIsBack) {
  auto w = Start("3");
  ASSERT_NE(w, nullptr);
  ASSERT_TRUE(store_->Set("max_file_size", "6T").ok());
  Result<int64_t> rev = store_->Apply();
  ASSERT_TRUE(rev.ok());
  // Kill etcd right away: the watcher may be mid re-read or feedback write.
  etcd_->Kill(0);
  std::this_thread::sleep_for(300ms);
  std::string why;
  ASSERT_TRUE(etcd_->Restart(0, &why)) << why;
  nlohmann::json fb = WaitFeedback("3", *rev, 10000ms);
  ASSERT_FALSE(fb.is_null());
  EXPECT_EQ(List(fb, "applied"), std::vector<std::string>{"max_file_size"});
}

TEST_F(ConfigWatcherTest, AtStartABadLiveSettingRunsWithItsDefaultAndAnyOtherFails) {
  // Live: the default, as a running node would keep its value.
  ASSERT_TRUE(client_->Put(root_ + "/hosts/3/max_file_size", "@ref:shared/nowhere").ok());
  ASSERT_TRUE(client_->Put(root_ + "/master_release_command", "echo \xff").ok());
  {
    Result<std::unique_ptr<ConfigWatcher>> w =
        ConfigWatcher::Create(client_.get(), root_, "3", applier_.fn());
    ASSERT_TRUE(w.ok()) << w.status().ToString();
    EXPECT_EQ((*w)->running().at("max_file_size").canonical, "1099511627776");  // 1T
    EXPECT_EQ((*w)->running().at("master_release_command").canonical, "");
  }
  // Restart-only: the node cannot start without it.
  ASSERT_TRUE(client_->Put(root_ + "/hosts/3/segment_size", "@ref:shared/nowhere").ok());
  Result<std::unique_ptr<ConfigWatcher>> w =
      ConfigWatcher::Create(client_.get(), root_, "3", applier_.fn());
  ASSERT_FALSE(w.ok());
  EXPECT_NE(w.status().message().find("segment_size"), std::string::npos);
  EXPECT_NE(w.status().message().find("dangling"), std::string::npos);
  EXPECT_FALSE(ConfigWatcher::Create(client_.get(), root_, "x", applier_.fn()).ok());
}

}  // namespace
}  // namespace tessera::cluster::config
