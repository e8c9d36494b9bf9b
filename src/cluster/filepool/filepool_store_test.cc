// The file pool policy store against a real etcd: creation, apply order
// kept dense through inserts, moves and deletes, compare-and-swap, and
// concurrent writers that lose nothing.
#include "cluster/filepool/filepool_store.h"

#include <gtest/gtest.h>

#include <thread>

#include "tests/support/etcd_test.h"

namespace tessera::cluster::filepool {
namespace {

class FilePoolStoreTest : public testing::SharedEtcdTest {
 protected:
  void SetUp() override {
    SharedEtcdTest::SetUp();
    cluster_ = ::testing::UnitTest::GetInstance()->current_test_info()->name();
  }
  Result<FilePoolPolicy> Create(const std::string& name, const std::string& prefix, int order = 0) {
    FilePoolPolicy p;
    p.name = name;
    p.path_prefix = prefix;
    p.enable_packing = true;
    p.apply_order = order;
    return CreateFilePoolPolicy(client_.get(), cluster_, p, 100);
  }
  // "name:order name:order ..." in list order.
  std::string Orders() {
    auto list = ListFilePoolPolicies(client_.get(), cluster_);
    EXPECT_TRUE(list.ok()) << list.status().ToString();
    std::string out;
    if (!list.ok()) return out;
    for (const StoredFilePoolPolicy& s : *list) {
      out += (out.empty() ? "" : " ") + s.policy.name + ":" + std::to_string(s.policy.apply_order);
    }
    return out;
  }
  std::string cluster_;
};

TEST_F(FilePoolStoreTest, CreateGetListAndDuplicates) {
  EXPECT_EQ(Orders(), "");
  auto a = Create("dicom", "archive/dicom/");
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_EQ(a->apply_order, 1);
  EXPECT_EQ(a->created_ns, 100);
  ASSERT_TRUE(Create("rest", "archive/").ok());
  EXPECT_EQ(Orders(), "dicom:1 rest:2");

  auto got = GetFilePoolPolicy(client_.get(), cluster_, "dicom");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->policy, *a);
  EXPECT_GT(got->mod_revision, 0);
  auto raw = client_->Get("/tessera/" + cluster_ + "/filepool/policies/dicom");
  ASSERT_TRUE(raw.ok() && raw->kv.has_value());
  EXPECT_EQ(raw->kv->value, FilePoolPolicyJson(*a));

  auto dup = Create("dicom", "other/");
  EXPECT_EQ(dup.status().code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(dup.status().message(), "file pool policy dicom already exists");
  auto missing = GetFilePoolPolicy(client_.get(), cluster_, "nope");
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(missing.status().message(), "no file pool policy 'nope'");
  EXPECT_EQ(GetFilePoolPolicy(client_.get(), cluster_, "a b").status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(Orders(), "dicom:1 rest:2");
}

TEST_F(FilePoolStoreTest, BadValuesWriteNothing) {
  auto bad = Create("dicom", "archive");
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("<namespace>/<path prefix>"), std::string::npos);
  EXPECT_EQ(Create("x y", "a/").status().code(), StatusCode::kInvalidArgument);
  auto order = Create("a", "a/", 2);
  EXPECT_EQ(order.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(order.status().message(), "apply order 2 is out of range: a new policy may go at 1..1");
  EXPECT_EQ(Create("a", "a/", -1).status().code(), StatusCode::kInvalidArgument);
  EXPECT_FALSE(client_->GetPrefix("/tessera/" + cluster_ + "/")->kvs.size());
  ASSERT_TRUE(Create("a", "a/").ok());
  FilePoolPolicyChange change;
  change.min_age_seconds = -5;
  auto modified = ModifyFilePoolPolicy(client_.get(), cluster_, "a", change, 200);
  EXPECT_EQ(modified.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(GetFilePoolPolicy(client_.get(), cluster_, "a")->policy.min_age_seconds, 86400);
  change = {};
  change.apply_order = 2;
  modified = ModifyFilePoolPolicy(client_.get(), cluster_, "a", change, 200);
  EXPECT_EQ(modified.status().message(), "apply order 2 is out of range: there is 1 policy (1..1)");
}

TEST_F(FilePoolStoreTest, ApplyOrdersStayDenseAndUnique) {
  ASSERT_TRUE(Create("a", "a/").ok());
  ASSERT_TRUE(Create("b", "b/").ok());
  ASSERT_TRUE(Create("c", "c/").ok());
  auto first = Create("first", "f/", 1);
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(first->apply_order, 1);
  EXPECT_EQ(Orders(), "first:1 a:2 b:3 c:4");
  ASSERT_TRUE(Create("mid", "m/", 3).ok());
  EXPECT_EQ(Orders(), "first:1 a:2 mid:3 b:4 c:5");
  ASSERT_TRUE(Create("last", "l/", 6).ok());
  EXPECT_EQ(Create("later", "x/", 8).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(Orders(), "first:1 a:2 mid:3 b:4 c:5 last:6");

  FilePoolPolicyChange move;
  move.apply_order = 6;
  auto moved = ModifyFilePoolPolicy(client_.get(), cluster_, "first", move, 300);
  ASSERT_TRUE(moved.ok()) << moved.status().ToString();
  EXPECT_EQ(moved->apply_order, 6);
  EXPECT_EQ(moved->modified_ns, 300);
  EXPECT_EQ(Orders(), "a:1 mid:2 b:3 c:4 last:5 first:6");
  move.apply_order = 1;
  ASSERT_TRUE(ModifyFilePoolPolicy(client_.get(), cluster_, "c", move, 300).ok());
  EXPECT_EQ(Orders(), "c:1 a:2 mid:3 b:4 last:5 first:6");

  ASSERT_TRUE(DeleteFilePoolPolicy(client_.get(), cluster_, "mid").ok());
  EXPECT_EQ(Orders(), "c:1 a:2 b:3 last:4 first:5");
  ASSERT_TRUE(DeleteFilePoolPolicy(client_.get(), cluster_, "c").ok());
  EXPECT_EQ(Orders(), "a:1 b:2 last:3 first:4");
  EXPECT_EQ(DeleteFilePoolPolicy(client_.get(), cluster_, "c").code(), StatusCode::kNotFound);
  ASSERT_TRUE(DeleteFilePoolPolicy(client_.get(), cluster_, "first").ok());
  EXPECT_EQ(Orders(), "a:1 b:2 last:3");
  EXPECT_FALSE(client_->Get(FilePoolPolicyKey(cluster_, "first"))->kv.has_value());
}

TEST_F(FilePoolStoreTest, ModifyChangesOnlyWhatIsGiven) {
  ASSERT_TRUE(Create("dicom", "archive/dicom/").ok());
  FilePoolPolicyChange change;
  change.description = "studies";
  change.max_size = std::optional<uint64_t>(512 * 1024);
  auto p = ModifyFilePoolPolicy(client_.get(), cluster_, "dicom", change, 200);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(p->description, "studies");
  EXPECT_EQ(p->max_size, 512u * 1024);
  EXPECT_TRUE(p->enable_packing);
  EXPECT_EQ(p->path_prefix, "archive/dicom/");
  EXPECT_EQ(p->created_ns, 100);
  EXPECT_EQ(p->modified_ns, 200);

  change = {};
  change.enable_packing = false;
  change.max_size = std::optional<uint64_t>();
  change.path_prefix = "archive/pacs/";
  change.min_age_seconds = 0;
  p = ModifyFilePoolPolicy(client_.get(), cluster_, "dicom", change, 300);
  ASSERT_TRUE(p.ok());
  EXPECT_FALSE(p->enable_packing);
  EXPECT_FALSE(p->max_size.has_value());
  EXPECT_EQ(p->path_prefix, "archive/pacs/");
  EXPECT_EQ(p->min_age_seconds, 0);
  EXPECT_EQ(p->description, "studies");
  EXPECT_EQ(GetFilePoolPolicy(client_.get(), cluster_, "dicom")->policy, *p);
  EXPECT_EQ(ModifyFilePoolPolicy(client_.get(), cluster_, "nope", change, 300).status().code(),
            StatusCode::kNotFound);
}

TEST_F(FilePoolStoreTest, CompareAndSwapRefusesAStaleRevision) {
  ASSERT_TRUE(Create("dicom", "archive/dicom/").ok());
  StoredFilePoolPolicy read = *GetFilePoolPolicy(client_.get(), cluster_, "dicom");
  FilePoolPolicyChange first;
  first.description = "first admin";
  ASSERT_TRUE(
      ModifyFilePoolPolicy(client_.get(), cluster_, "dicom", first, 200, read.mod_revision).ok());
  FilePoolPolicyChange second;
  second.description = "second admin";
  auto stale =
      ModifyFilePoolPolicy(client_.get(), cluster_, "dicom", second, 300, read.mod_revision);
  EXPECT_EQ(stale.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(stale.status().message().find("changed since it was read"), std::string::npos);
  EXPECT_EQ(GetFilePoolPolicy(client_.get(), cluster_, "dicom")->policy.description, "first admin");
}

TEST_F(FilePoolStoreTest, ConcurrentWritersLoseNothing) {
  ASSERT_TRUE(Create("dicom", "archive/dicom/").ok());
  constexpr int kThreads = 4;
  std::vector<std::thread> threads;
  std::vector<Status> results(kThreads * 2);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      auto client = EtcdClient::Create(etcd_->endpoints());
      ASSERT_TRUE(client.ok());
      // Each thread creates its own policy and changes one field of the shared one.
      FilePoolPolicy p;
      p.name = "p" + std::to_string(t);
      p.path_prefix = "ns" + std::to_string(t) + "/";
      p.apply_order = 1;
      results[t] = CreateFilePoolPolicy(client->get(), cluster_, p, 1).status();
      FilePoolPolicyChange change;
      if (t == 0) change.description = "described";
      if (t == 1) change.enable_packing = false;
      if (t == 2) change.min_age_seconds = 60;
      if (t == 3) change.max_size = std::optional<uint64_t>(4096);
      results[kThreads + t] =
          ModifyFilePoolPolicy(client->get(), cluster_, "dicom", change, 2).status();
    });
  }
  for (std::thread& t : threads) t.join();
  for (const Status& s : results) EXPECT_TRUE(s.ok()) << s.ToString();
  auto list = ListFilePoolPolicies(client_.get(), cluster_);
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 5u);
  std::vector<FilePoolPolicy> plain;
  for (const auto& s : *list) plain.push_back(s.policy);
  EXPECT_TRUE(ValidateFilePoolPolicySet(plain).ok());
  FilePoolPolicy dicom = GetFilePoolPolicy(client_.get(), cluster_, "dicom")->policy;
  EXPECT_EQ(dicom.description, "described");
  EXPECT_FALSE(dicom.enable_packing);
  EXPECT_EQ(dicom.min_age_seconds, 60);
  EXPECT_EQ(dicom.max_size, 4096u);
  EXPECT_EQ(dicom.apply_order, 5);  // every creation went in front of it
}

TEST_F(FilePoolStoreTest, ACorruptRecordIsReportedWithItsKey) {
  ASSERT_TRUE(Create("dicom", "archive/dicom/").ok());
  ASSERT_TRUE(client_->Put(FilePoolPolicyKey(cluster_, "broken"), "{not json").ok());
  auto list = ListFilePoolPolicies(client_.get(), cluster_);
  EXPECT_EQ(list.status().code(), StatusCode::kCorruption);
  EXPECT_NE(list.status().message().find(FilePoolPolicyKey(cluster_, "broken") + ": "),
            std::string::npos)
      << list.status().message();
  EXPECT_EQ(GetFilePoolPolicy(client_.get(), cluster_, "broken").status().code(),
            StatusCode::kCorruption);
  // A record under another policy's name is as wrong as bad JSON.
  FilePoolPolicy dicom = GetFilePoolPolicy(client_.get(), cluster_, "dicom")->policy;
  ASSERT_TRUE(client_->Put(FilePoolPolicyKey(cluster_, "broken"), FilePoolPolicyJson(dicom)).ok());
  list = ListFilePoolPolicies(client_.get(), cluster_);
  EXPECT_EQ(list.status().code(), StatusCode::kCorruption);
  EXPECT_NE(list.status().message().find("holds policy 'dicom'"), std::string::npos);
}

}  // namespace
}  // namespace tessera::cluster::filepool
