// The job engine against a real etcd, with scripted jobs: which job runs
// first, and a long job giving way to a FlexProtect that a device failure
// starts while it runs; and FlexProtect's retiring of a smartfailed node.
#include "jobs/job_engine.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <mutex>
#include <thread>

#include "cluster/group_notation.h"
#include "cluster/jobs/job_store.h"
#include "cluster/membership/master.h"
#include "cluster/membership/registry.h"
#include "jobs/flexprotect.h"
#include "tests/support/etcd_test.h"

namespace tessera::jobs {
namespace {

using namespace std::chrono_literals;
using cluster::JobState;

class ScriptedJob final : public Job {
 public:
  explicit ScriptedJob(std::function<Status(JobContext&)> run) : run_(std::move(run)) {}
  Status Run(JobContext& context) override { return run_(context); }

 private:
  std::function<Status(JobContext&)> run_;
};

class JobEngineTest : public testing::SharedEtcdTest {
 protected:
  void SetUp() override {
    SharedEtcdTest::SetUp();
    cluster_ = ::testing::UnitTest::GetInstance()->current_test_info()->name();
    ASSERT_TRUE(client_->Put(cluster::MasterKey(cluster_), R"({"array_id":1,"priority":0})").ok());
    token_ = client_->Get(cluster::MasterKey(cluster_))->kv->create_revision;
  }
  void TearDown() override {
    if (engine_) engine_->Stop();
  }

  uint64_t Queue(const std::string& type) {
    auto job = cluster::CreateJob(client_.get(), cluster_, type, "manual", 1, token_);
    EXPECT_TRUE(job.ok()) << job.status().ToString();
    return job.ok() ? job->id : 0;
  }
  cluster::JobRecord Job(uint64_t id) {
    auto stored = cluster::ReadJob(client_.get(), cluster_, id);
    EXPECT_TRUE(stored.ok()) << stored.status().ToString();
    return stored.ok() ? stored->record : cluster::JobRecord{};
  }
  std::vector<std::string> Ran() {
    std::lock_guard<std::mutex> lock(mu_);
    return ran_;
  }

  // A MediaScan whose first run goes on (checkpointing) until stopped, and
  // later runs until `release_`; a FlexProtect that is done at once
  // (retiring node 3 once it is smartfailed).
  void StartEngine() {
    auto inputs = [this] {
      JobEngine::Inputs in;
      in.is_master = true;
      in.token = token_;
      // FlexProtect retires a smartfailed node (it becomes dead).
      in.group = *cluster::ParseGroupNotation(!node_failed_ ? "{ 1-3:0-1 }"
                                              : retired_    ? "{ 1-2:0-1, dead: 3 }"
                                                            : "{ 1-3:0-1, soft_failed: 3 }");
      return in;
    };
    auto factory = [this](const cluster::JobRecord& record) -> std::unique_ptr<jobs::Job> {
      return std::make_unique<ScriptedJob>([this, type = record.type](JobContext& context) {
        int run;
        {
          std::lock_guard<std::mutex> lock(mu_);
          ran_.push_back(type);
          run = static_cast<int>(std::count(ran_.begin(), ran_.end(), type));
        }
        if (type == "FlexProtect" && node_failed_) retired_ = true;
        if (type != "MediaScan" || (run > 1 && release_)) return Status::Ok();
        const auto deadline = std::chrono::steady_clock::now() + 30s;
        while (std::chrono::steady_clock::now() < deadline) {
          if (run > 1 && release_) return Status::Ok();
          RETURN_IF_ERROR(context.Checkpoint());
          std::this_thread::sleep_for(10ms);
        }
        return Status::Internal("never asked to stop");
      });
    };
    engine_ = std::make_unique<JobEngine>(client_.get(), cluster_, inputs, factory,
                                          JobEngine::Options{100ms, 50ms});
    engine_->Start();
  }

  std::string cluster_;
  int64_t token_ = 0;
  std::atomic<bool> node_failed_{false};
  std::atomic<bool> retired_{false};
  std::atomic<bool> release_{true};
  std::mutex mu_;
  std::vector<std::string> ran_;  // job types in the order their runs began
  std::unique_ptr<JobEngine> engine_;
};

TEST_F(JobEngineTest, AQueuedFlexProtectRunsBeforeOlderJobs) {
  const uint64_t scan = Queue("MediaScan");
  const uint64_t protect = Queue("FlexProtect");
  StartEngine();
  ASSERT_TRUE(testing::WaitFor([&] { return Ran().size() >= 2; }, 10s));
  EXPECT_EQ(Ran()[0], "FlexProtect");
  EXPECT_EQ(Ran()[1], "MediaScan");
  EXPECT_EQ(Job(protect).state, JobState::kSucceeded);
  EXPECT_EQ(Job(scan).state, JobState::kRunning);
}

// A node fails while a long job runs: FlexProtect is started without
// waiting for it, the long job gives way and runs again afterwards.
TEST_F(JobEngineTest, ALongJobGivesWayToAFlexProtectStartedWhileItRuns) {
  const uint64_t scan = Queue("MediaScan");
  StartEngine();
  ASSERT_TRUE(testing::WaitFor([&] { return Job(scan).state == JobState::kRunning; }, 10s));
  node_failed_ = true;
  ASSERT_TRUE(testing::WaitFor([&] { return Job(scan).state == JobState::kSucceeded; }, 20s))
      << cluster::JobStateName(Job(scan).state) << " after " << Ran().size() << " runs; job "
      << scan + 1 << ": " << Job(scan + 1).type << " "
      << cluster::JobStateName(Job(scan + 1).state);
  EXPECT_EQ(Ran(), (std::vector<std::string>{"MediaScan", "FlexProtect", "MediaScan"}));
  const cluster::JobRecord protect = Job(scan + 1);
  EXPECT_EQ(protect.type, "FlexProtect");
  EXPECT_EQ(protect.state, JobState::kSucceeded);
  EXPECT_NE(protect.trigger.find("auto: node 3"), std::string::npos) << protect.trigger;
  const cluster::JobRecord done = Job(scan);
  bool gave_way = false;
  for (const std::string& d : done.details) gave_way |= d.find("gave way to FlexProtect") == 0;
  EXPECT_TRUE(gave_way);
  EXPECT_LT(protect.ended_ns, done.ended_ns);
  EXPECT_EQ(done.counters.at("gave_way"), 1u);
}

// Once it has given way, a job runs to its end: a FlexProtect queued
// meanwhile (a retry of a failing one, say) waits for it.
TEST_F(JobEngineTest, AJobGivesWayOnlyOnce) {
  release_ = false;
  const uint64_t scan = Queue("MediaScan");
  StartEngine();
  ASSERT_TRUE(testing::WaitFor([&] { return Job(scan).state == JobState::kRunning; }, 10s));
  node_failed_ = true;
  ASSERT_TRUE(testing::WaitFor([&] { return Ran().size() == 3; }, 10s));
  const uint64_t retry = Queue("FlexProtect");
  std::this_thread::sleep_for(1s);  // ten poll intervals
  EXPECT_EQ(Job(scan).state, JobState::kRunning);
  EXPECT_EQ(Job(retry).state, JobState::kQueued);
  release_ = true;
  ASSERT_TRUE(testing::WaitFor([&] { return Job(retry).state == JobState::kSucceeded; }, 10s));
  EXPECT_EQ(Ran(),
            (std::vector<std::string>{"MediaScan", "FlexProtect", "MediaScan", "FlexProtect"}));
  EXPECT_EQ(Job(scan).state, JobState::kSucceeded);
}

// A node leaves the group only while it is still smartfailed: an operator
// who took the smartfail back while FlexProtect ran keeps it.
TEST_F(JobEngineTest, RetireNodeOnlyRetiresASmartfailedNode) {
  const std::string key = cluster::ClusterPrefix(cluster_) + "states/";
  ASSERT_TRUE(client_->Put(key + "3", R"({"soft_failed":false,"read_only":true})").ok());
  ASSERT_TRUE(client_->Put(key + "4", R"({"soft_failed":true})").ok());
  Result<bool> kept = RetireNode(client_.get(), cluster_, token_, 3);
  ASSERT_TRUE(kept.ok()) << kept.status().ToString();
  EXPECT_FALSE(*kept);
  EXPECT_EQ(client_->Get(key + "3")->kv->value, R"({"soft_failed":false,"read_only":true})");
  Result<bool> retired = RetireNode(client_.get(), cluster_, token_, 4);
  ASSERT_TRUE(retired.ok()) << retired.status().ToString();
  EXPECT_TRUE(*retired);
  auto state = cluster::ParsePersistentState(client_->Get(key + "4")->kv->value);
  ASSERT_TRUE(state.ok());
  EXPECT_TRUE(state->dead);
  EXPECT_TRUE(state->soft_failed);
}

}  // namespace
}  // namespace tessera::jobs
