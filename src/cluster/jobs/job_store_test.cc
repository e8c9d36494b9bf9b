// The job store against a real etcd: ids, listing, fenced progress writes
// and operators' controls racing them.
#include "cluster/jobs/job_store.h"

#include <gtest/gtest.h>

#include "cluster/membership/master.h"
#include "tests/support/etcd_test.h"

namespace tessera::cluster {
namespace {

class JobStoreTest : public testing::SharedEtcdTest {
 protected:
  void SetUp() override {
    SharedEtcdTest::SetUp();
    cluster_ = ::testing::UnitTest::GetInstance()->current_test_info()->name();
  }
  // Makes a master key and returns its token (create_revision).
  int64_t BecomeMaster() {
    EXPECT_TRUE(client_->Put(MasterKey(cluster_), R"({"array_id":1,"priority":0})").ok());
    return client_->Get(MasterKey(cluster_))->kv->create_revision;
  }
  std::string cluster_;
};

TEST_F(JobStoreTest, IdsGrowAndListInOrder) {
  for (int i = 1; i <= 11; ++i) {
    auto job = CreateJob(client_.get(), cluster_, "FlexProtect", "manual", i);
    ASSERT_TRUE(job.ok()) << job.status().ToString();
    EXPECT_EQ(job->id, static_cast<uint64_t>(i));
    EXPECT_EQ(job->state, JobState::kQueued);
  }
  auto jobs = ListJobs(client_.get(), cluster_);
  ASSERT_TRUE(jobs.ok());
  ASSERT_EQ(jobs->size(), 11u);
  for (size_t i = 0; i < jobs->size(); ++i) EXPECT_EQ((*jobs)[i].record.id, i + 1);  // 10 after 9
  EXPECT_EQ(ReadJob(client_.get(), cluster_, 12).status().code(), StatusCode::kNotFound);
}

TEST_F(JobStoreTest, MasterCreationIsFencedByItsToken) {
  int64_t token = BecomeMaster();
  EXPECT_TRUE(CreateJob(client_.get(), cluster_, "FlexProtect", "auto", 1, token).ok());
  ASSERT_TRUE(client_->Delete(MasterKey(cluster_)).ok());
  int64_t successor = BecomeMaster();
  ASSERT_NE(successor, token);
  auto stale = CreateJob(client_.get(), cluster_, "FlexProtect", "auto", 2, token);
  EXPECT_EQ(stale.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(ListJobs(client_.get(), cluster_)->size(), 1u);
}

TEST_F(JobStoreTest, ProgressWritesNeedTheTokenAndTheRevision) {
  int64_t token = BecomeMaster();
  ASSERT_TRUE(CreateJob(client_.get(), cluster_, "FlexProtect", "manual", 1).ok());
  StoredJob stored = *ReadJob(client_.get(), cluster_, 1);
  JobRecord running = stored.record;
  running.state = JobState::kRunning;
  auto rev = WriteJobFenced(client_.get(), cluster_, token, running, stored.mod_revision);
  ASSERT_TRUE(rev.ok() && rev->has_value());
  // The old revision no longer matches: nothing written.
  running.done = 5;
  EXPECT_FALSE(
      WriteJobFenced(client_.get(), cluster_, token, running, stored.mod_revision)->has_value());
  // A deposed master cannot write even at the right revision.
  ASSERT_TRUE(client_->Delete(MasterKey(cluster_)).ok());
  BecomeMaster();
  EXPECT_FALSE(WriteJobFenced(client_.get(), cluster_, token, running, **rev)->has_value());
  EXPECT_EQ(ReadJob(client_.get(), cluster_, 1)->record.done, 0u);
}

TEST_F(JobStoreTest, ControlsWinOverProgressAndRefuseFinalJobs) {
  int64_t token = BecomeMaster();
  ASSERT_TRUE(CreateJob(client_.get(), cluster_, "FlexProtect", "manual", 1).ok());
  StoredJob before = *ReadJob(client_.get(), cluster_, 1);
  auto paused = ControlJob(client_.get(), cluster_, 1, JobControl::kPause, 2);
  ASSERT_TRUE(paused.ok()) << paused.status().ToString();
  EXPECT_EQ(paused->state, JobState::kPaused);
  // The master's write from before the pause fails; it must re-read.
  JobRecord progress = before.record;
  progress.state = JobState::kRunning;
  EXPECT_FALSE(
      WriteJobFenced(client_.get(), cluster_, token, progress, before.mod_revision)->has_value());
  EXPECT_EQ(ControlJob(client_.get(), cluster_, 1, JobControl::kResume, 3)->state,
            JobState::kQueued);
  EXPECT_EQ(ControlJob(client_.get(), cluster_, 1, JobControl::kCancel, 4)->state,
            JobState::kCancelled);
  auto again = ControlJob(client_.get(), cluster_, 1, JobControl::kResume, 5);
  EXPECT_EQ(again.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(ControlJob(client_.get(), cluster_, 9, JobControl::kPause, 5).status().code(),
            StatusCode::kNotFound);
}

}  // namespace
}  // namespace tessera::cluster
