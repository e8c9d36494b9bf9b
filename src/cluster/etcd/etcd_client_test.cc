#include "cluster/etcd/etcd_client.h"

#include <gtest/gtest.h>
#include <httplib.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <set>
#include <thread>

#include "tests/support/etcd_process.h"
#include "tests/support/etcd_test.h"
#include "tests/support/node_process.h"
#include "tests/support/temp_dir.h"

namespace tessera::cluster {
namespace {

using namespace std::chrono_literals;
using testing::EtcdCluster;
using testing::TempDir;
using testing::WaitFor;

// Collects watch updates from the watcher thread.
class Recorder {
 public:
  Watcher::Callback callback() {
    return [this](const WatchUpdate& u) {
      std::lock_guard<std::mutex> lock(mu_);
      updates_.push_back(u);
    };
  }
  std::vector<WatchUpdate> updates() {
    std::lock_guard<std::mutex> lock(mu_);
    return updates_;
  }
  std::vector<WatchEvent> events() {
    std::lock_guard<std::mutex> lock(mu_);
    std::vector<WatchEvent> all;
    for (const WatchUpdate& u : updates_) all.insert(all.end(), u.events.begin(), u.events.end());
    return all;
  }

 private:
  std::mutex mu_;
  std::vector<WatchUpdate> updates_;
};

// One etcd member shared by the single-member tests; each test uses its own
// key prefix.
class EtcdClientTest : public testing::SharedEtcdTest {};

TEST_F(EtcdClientTest, PutGetPrefixDeleteRoundTripBinarySafe) {
  const std::string prefix = std::string("kv/\x00\xff", 5);
  const std::string k1 = prefix + std::string("a\x00b", 3);
  const std::string k2 = prefix + "\xfe\xff";
  const std::string v1 = std::string("\x00\x01\x02\xff binary\n", 13);
  const std::string v2;  // empty value

  auto missing = client_->Get(k1);
  ASSERT_TRUE(missing.ok()) << missing.status().ToString();
  EXPECT_FALSE(missing->kv.has_value());

  auto r1 = client_->Put(k1, v1);
  ASSERT_TRUE(r1.ok()) << r1.status().ToString();
  auto r2 = client_->Put(k2, v2);
  ASSERT_TRUE(r2.ok()) << r2.status().ToString();
  EXPECT_EQ(*r2, *r1 + 1);

  auto got = client_->Get(k1);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  ASSERT_TRUE(got->kv.has_value());
  EXPECT_EQ(got->kv->key, k1);
  EXPECT_EQ(got->kv->value, v1);
  EXPECT_EQ(got->kv->mod_revision, *r1);
  EXPECT_EQ(got->kv->create_revision, *r1);
  EXPECT_EQ(got->kv->version, 1);
  EXPECT_GE(got->revision, *r2);

  // Overwrite, then read the old value at the old revision.
  auto r3 = client_->Put(k1, "new");
  ASSERT_TRUE(r3.ok());
  auto old = client_->Get(k1, *r1);
  ASSERT_TRUE(old.ok()) << old.status().ToString();
  ASSERT_TRUE(old->kv.has_value());
  EXPECT_EQ(old->kv->value, v1);
  auto now = client_->Get(k1);
  ASSERT_TRUE(now.ok() && now->kv.has_value());
  EXPECT_EQ(now->kv->value, "new");
  EXPECT_EQ(now->kv->version, 2);

  auto all = client_->GetPrefix(prefix);
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  ASSERT_EQ(all->kvs.size(), 2u);
  EXPECT_EQ(all->kvs[0].key, k1);
  EXPECT_EQ(all->kvs[1].key, k2);
  EXPECT_EQ(all->kvs[1].value, "");

  auto del = client_->Delete(k1);
  ASSERT_TRUE(del.ok()) << del.status().ToString();
  EXPECT_EQ(del->deleted, 1);
  auto gone = client_->Get(k1);
  ASSERT_TRUE(gone.ok());
  EXPECT_FALSE(gone->kv.has_value());

  ASSERT_TRUE(client_->Put(prefix + "x", "1").ok());
  auto delp = client_->DeletePrefix(prefix);
  ASSERT_TRUE(delp.ok()) << delp.status().ToString();
  EXPECT_EQ(delp->deleted, 2);
  auto empty = client_->GetPrefix(prefix);
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->kvs.empty());
}

TEST_F(EtcdClientTest, CompareAndSwap) {
  const std::string key = "cas/k";
  // Create only if absent.
  auto create = client_->Txn({Compare::Absent(key)}, {TxnOp::Put(key, "v1")});
  ASSERT_TRUE(create.ok()) << create.status().ToString();
  EXPECT_TRUE(create->succeeded);
  auto again =
      client_->Txn({Compare::Absent(key)}, {TxnOp::Put(key, "clobber")}, {TxnOp::Get(key)});
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_FALSE(again->succeeded);
  ASSERT_EQ(again->responses.size(), 1u);
  ASSERT_EQ(again->responses[0].kvs.size(), 1u);
  EXPECT_EQ(again->responses[0].kvs[0].value, "v1");
  const int64_t rev = again->responses[0].kvs[0].mod_revision;
  EXPECT_EQ(rev, create->revision);

  // put K=V if mod_revision(K)==R: succeeds once, then the stale R fails.
  auto swap = client_->Txn({Compare::ModRevisionEquals(key, rev)}, {TxnOp::Put(key, "v2")});
  ASSERT_TRUE(swap.ok()) << swap.status().ToString();
  EXPECT_TRUE(swap->succeeded);
  EXPECT_EQ(swap->revision, rev + 1);
  auto stale = client_->Txn({Compare::ModRevisionEquals(key, rev)}, {TxnOp::Put(key, "v3")});
  ASSERT_TRUE(stale.ok()) << stale.status().ToString();
  EXPECT_FALSE(stale->succeeded);
  EXPECT_EQ(client_->Get(key)->kv->value, "v2");

  // Value and version compares; delete op.
  auto by_value = client_->Txn({Compare::ValueEquals(key, "v2"), Compare::VersionEquals(key, 2)},
                               {TxnOp::Delete(key)});
  ASSERT_TRUE(by_value.ok()) << by_value.status().ToString();
  EXPECT_TRUE(by_value->succeeded);
  ASSERT_EQ(by_value->responses.size(), 1u);
  EXPECT_EQ(by_value->responses[0].deleted, 1);
  EXPECT_FALSE(client_->Get(key)->kv.has_value());
}

TEST_F(EtcdClientTest, LeaseExpiresWithoutKeepAliveAndLivesWithIt) {
  auto dying = client_->GrantLease(2);
  ASSERT_TRUE(dying.ok()) << dying.status().ToString();
  auto kept = client_->GrantLease(2);
  ASSERT_TRUE(kept.ok()) << kept.status().ToString();
  ASSERT_TRUE(client_->Put("lease/dying", "x", *dying).ok());
  ASSERT_TRUE(client_->Put("lease/kept", "y", *kept).ok());
  EXPECT_EQ(client_->Get("lease/kept")->kv->lease, *kept);

  // Refresh one lease every half second, well past its TTL; the other dies.
  auto start = std::chrono::steady_clock::now();
  while (std::chrono::steady_clock::now() - start < 4500ms) {
    auto ka = client_->KeepAliveOnce(*kept);
    ASSERT_TRUE(ka.ok()) << ka.status().ToString();
    EXPECT_GE(*ka, 1);
    std::this_thread::sleep_for(500ms);
  }
  EXPECT_FALSE(client_->Get("lease/dying")->kv.has_value());
  auto still = client_->Get("lease/kept");
  ASSERT_TRUE(still.ok());
  EXPECT_TRUE(still->kv.has_value());

  // Revoking the lease deletes its key, and it can no longer be refreshed.
  ASSERT_TRUE(client_->RevokeLease(*kept).ok());
  EXPECT_FALSE(client_->Get("lease/kept")->kv.has_value());
  auto ka = client_->KeepAliveOnce(*kept);
  EXPECT_EQ(ka.status().code(), StatusCode::kNotFound) << ka.status().ToString();
}

TEST_F(EtcdClientTest, WatchDeliversPutsAndDeletesInOrder) {
  Recorder rec;
  auto base = client_->Put("other", "x");
  ASSERT_TRUE(base.ok());
  Watcher watcher(client_.get(), {.key = "watch/", .prefix = true, .start_revision = *base + 1},
                  rec.callback());
  ASSERT_TRUE(client_->Put("watch/a", "1").ok());
  ASSERT_TRUE(client_->Put("outside", "x").ok());
  ASSERT_TRUE(client_->Put("watch/b", "2").ok());
  ASSERT_TRUE(client_->Put("watch/a", "3").ok());
  ASSERT_TRUE(client_->Delete("watch/b").ok());
  auto last = client_->Txn({}, {TxnOp::Put("watch/c", "4"), TxnOp::Put("watch/d", "5")});
  ASSERT_TRUE(last.ok());
  ASSERT_TRUE(WaitFor([&] { return rec.events().size() >= 6; }, 5s));
  auto ev = rec.events();
  ASSERT_EQ(ev.size(), 6u);
  EXPECT_EQ(ev[0].kv.key, "watch/a");
  EXPECT_EQ(ev[0].kv.value, "1");
  EXPECT_EQ(ev[1].kv.key, "watch/b");
  EXPECT_EQ(ev[2].kv.value, "3");
  EXPECT_EQ(ev[3].type, WatchEvent::Type::kDelete);
  EXPECT_EQ(ev[3].kv.key, "watch/b");
  EXPECT_EQ(ev[4].kv.key, "watch/c");
  EXPECT_EQ(ev[5].kv.key, "watch/d");
  EXPECT_EQ(ev[4].kv.mod_revision, last->revision);
  EXPECT_EQ(ev[5].kv.mod_revision, last->revision);
  for (size_t i = 1; i < ev.size(); ++i)
    EXPECT_GE(ev[i].kv.mod_revision, ev[i - 1].kv.mod_revision);
  EXPECT_EQ(watcher.last_revision(), last->revision);
  for (const WatchUpdate& u : rec.updates()) EXPECT_FALSE(u.resync);
}

TEST_F(EtcdClientTest, WatchFromNowSeesOnlyLaterWrites) {
  ASSERT_TRUE(client_->Put("now/old", "x").ok());
  Recorder rec;
  Watcher watcher(client_.get(), {.key = "now/k"}, rec.callback());
  ASSERT_TRUE(WaitFor([&] { return watcher.last_revision() > 0; }, 5s));
  ASSERT_TRUE(client_->Put("now/other", "x").ok());
  ASSERT_TRUE(client_->Put("now/k", "1").ok());
  ASSERT_TRUE(WaitFor([&] { return rec.events().size() >= 1; }, 5s));
  std::this_thread::sleep_for(100ms);
  auto ev = rec.events();
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].kv.value, "1");
}

TEST_F(EtcdClientTest, CompactedStartRevisionResyncsWithCurrentState) {
  auto first = client_->Put("compact/a", "1");
  ASSERT_TRUE(first.ok());
  ASSERT_TRUE(client_->Put("compact/b", "2").ok());
  ASSERT_TRUE(client_->Put("compact/a", "3").ok());
  auto del = client_->Delete("compact/b");
  ASSERT_TRUE(del.ok());
  ASSERT_TRUE(client_->Compact(del->revision).ok());
  auto compacted_read = client_->Get("compact/a", *first);
  EXPECT_EQ(compacted_read.status().code(), StatusCode::kFailedPrecondition)
      << compacted_read.status().ToString();

  Recorder rec;
  Watcher watcher(client_.get(), {.key = "compact/", .prefix = true, .start_revision = *first},
                  rec.callback());
  ASSERT_TRUE(WaitFor([&] { return !rec.updates().empty(); }, 5s));
  auto updates = rec.updates();
  ASSERT_TRUE(updates[0].resync);
  EXPECT_GE(updates[0].revision, del->revision);
  ASSERT_EQ(updates[0].snapshot.size(), 1u);
  EXPECT_EQ(updates[0].snapshot[0].key, "compact/a");
  EXPECT_EQ(updates[0].snapshot[0].value, "3");

  // Events continue after the resync.
  auto after = client_->Put("compact/c", "4");
  ASSERT_TRUE(after.ok());
  ASSERT_TRUE(WaitFor([&] { return rec.events().size() >= 1; }, 5s));
  auto ev = rec.events();
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].kv.key, "compact/c");
  EXPECT_EQ(ev[0].kv.mod_revision, *after);
}

TEST_F(EtcdClientTest, RejectsBadInput) {
  EXPECT_EQ(EtcdClient::Create("").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(EtcdClient::Create(" , ").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(EtcdClient::Create("http://host").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(EtcdClient::Create("http://host:99999").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(EtcdClient::Create("https://host:2379").status().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(EtcdClient::Create("127.0.0.1:2379, http://h:1/").ok());
  EXPECT_EQ(client_->Get("k", -1).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(client_->Put("", "v").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(client_->GrantLease(0).status().code(), StatusCode::kInvalidArgument);
  // A future revision is refused by etcd itself.
  EXPECT_EQ(client_->Get("k", 1'000'000'000).status().code(), StatusCode::kFailedPrecondition);
}

TEST_F(EtcdClientTest, ReadsFailOverAfterTimeoutButWritesAreNotResent) {
  // Endpoint 1 accepts requests and never answers in time; endpoint 2 is etcd.
  httplib::Server slow;
  std::atomic<int> hits{0};
  slow.Post(".*", [&](const httplib::Request&, httplib::Response& res) {
    ++hits;
    std::this_thread::sleep_for(600ms);
    res.set_content("{}", "application/json");
  });
  int port = slow.bind_to_any_port("127.0.0.1");
  std::thread thread([&] { slow.listen_after_bind(); });
  ASSERT_TRUE(WaitFor([&] { return slow.is_running(); }, 2s));
  std::string slow_url = "http://127.0.0.1:" + std::to_string(port);
  auto c = EtcdClient::Create(slow_url + "," + etcd_->endpoints(),
                              {.connect_timeout = 300ms, .request_timeout = 200ms});
  ASSERT_TRUE(c.ok());

  auto put = (*c)->Put("resend/k", "v");
  EXPECT_EQ(put.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(put.status().message().find("may or may not have been applied"), std::string::npos)
      << put.status().message();
  EXPECT_EQ(hits.load(), 1);
  EXPECT_FALSE(client_->Get("resend/k")->kv.has_value());  // not sent to etcd

  auto get = (*c)->Get("resend/k");
  ASSERT_TRUE(get.ok()) << get.status().ToString();
  EXPECT_EQ((*c)->preferred_endpoint(), 1u);  // remembers the one that worked
  ASSERT_TRUE((*c)->Put("resend/k", "v").ok());
  slow.stop();
  thread.join();
}

TEST(EtcdClientNoServerTest, AllEndpointsDownIsUnavailableNamingThem) {
  std::string a = "http://127.0.0.1:" + std::to_string(testing::FreePort());
  std::string b = "http://127.0.0.1:" + std::to_string(testing::FreePort());
  auto client = EtcdClient::Create(a + "," + b);
  ASSERT_TRUE(client.ok());
  auto r = (*client)->Get("k");
  ASSERT_EQ(r.status().code(), StatusCode::kUnavailable) << r.status().ToString();
  EXPECT_NE(r.status().message().find(a), std::string::npos) << r.status().message();
  EXPECT_NE(r.status().message().find(b), std::string::npos) << r.status().message();
  EXPECT_EQ((*client)->Put("k", "v").status().code(), StatusCode::kUnavailable);
  EXPECT_EQ((*client)->GrantLease(5).status().code(), StatusCode::kUnavailable);

  // A watcher on dead endpoints keeps retrying quietly and stops promptly.
  Recorder rec;
  auto t0 = std::chrono::steady_clock::now();
  {
    Watcher w(client->get(), {.key = "k", .retry_delay = 20ms}, rec.callback());
    std::this_thread::sleep_for(200ms);
  }
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 2s);
  EXPECT_TRUE(rec.updates().empty());
}

TEST(EtcdClientFakeServerTest, MalformedAnswersAreClearErrors) {
  httplib::Server server;
  std::string mode = "garbage";
  std::mutex mu;
  server.Post(".*", [&](const httplib::Request&, httplib::Response& res) {
    std::lock_guard<std::mutex> lock(mu);
    if (mode == "garbage") {
      res.set_content("this is {not json", "application/json");
    } else if (mode == "types") {
      res.set_content(R"({"header":{"revision":"abc"},"kvs":"nope","ID":[1],"succeeded":"yes",)"
                      R"("result":{"TTL":{}}})",
                      "application/json");
    } else if (mode == "base64") {
      res.set_content(R"({"header":{"revision":"5"},"kvs":[{"key":"!!!","value":"*"}],)"
                      R"("responses":[{"response_range":{"kvs":[{"key":"%%"}]}}]})",
                      "application/json");
    } else {
      res.status = 500;
      res.set_content("<html>oops</html>", "text/html");
    }
  });
  int port = server.bind_to_any_port("127.0.0.1");
  ASSERT_GT(port, 0);
  std::thread thread([&] { server.listen_after_bind(); });
  ASSERT_TRUE(WaitFor([&] { return server.is_running(); }, 2s));

  auto client = EtcdClient::Create("http://127.0.0.1:" + std::to_string(port));
  ASSERT_TRUE(client.ok());
  EtcdClient& c = **client;
  for (std::string m : {"garbage", "types", "base64"}) {
    {
      std::lock_guard<std::mutex> lock(mu);
      mode = m;
    }
    auto g = c.Get("k");
    EXPECT_EQ(g.status().code(), StatusCode::kCorruption) << m << ": " << g.status().ToString();
    EXPECT_NE(g.status().message().find("malformed etcd response"), std::string::npos)
        << g.status().message();
    EXPECT_FALSE(c.GetPrefix("k").ok()) << m;
    EXPECT_FALSE(c.Txn({}, {TxnOp::Get("k")}).ok()) << m;
    if (m == "base64") continue;  // the rest carry no keys or values
    EXPECT_FALSE(c.Put("k", "v").ok()) << m;
    EXPECT_FALSE(c.Txn({Compare::Absent("k")}, {TxnOp::Put("k", "v")}).ok()) << m;
    EXPECT_FALSE(c.GrantLease(5).ok()) << m;
    EXPECT_FALSE(c.KeepAliveOnce(7).ok()) << m;
    EXPECT_FALSE(c.Delete("k").ok()) << m;
  }
  // Garbage on a watch stream neither crashes nor reaches the callback.
  Recorder rec;
  {
    Watcher w(&c, {.key = "k", .prefix = true, .retry_delay = 20ms}, rec.callback());
    std::this_thread::sleep_for(200ms);
  }
  EXPECT_TRUE(rec.updates().empty());
  {
    std::lock_guard<std::mutex> lock(mu);
    mode = "error";
  }
  auto e = c.Get("k");
  EXPECT_EQ(e.status().code(), StatusCode::kInternal) << e.status().ToString();
  EXPECT_NE(e.status().message().find("HTTP 500"), std::string::npos) << e.status().message();
  server.stop();
  thread.join();
}

TEST(EtcdClusterTest, WatchResumesWithoutLossAcrossMemberKillAndFailover) {
  TempDir dir;
  EtcdCluster etcd(dir.path(), 3);
  std::string why;
  ASSERT_TRUE(etcd.Start(&why)) << why;
  auto c =
      EtcdClient::Create(etcd.endpoints(), {.connect_timeout = 300ms, .request_timeout = 3000ms});
  ASSERT_TRUE(c.ok());
  EtcdClient& client = **c;
  ASSERT_EQ(client.preferred_endpoint(), 0u);

  auto base = client.Put("fo/start", "x");
  ASSERT_TRUE(base.ok()) << base.status().ToString();
  Recorder rec;
  Watcher watcher(&client,
                  {.key = "fo/k", .prefix = true, .start_revision = *base + 1, .retry_delay = 20ms},
                  rec.callback());

  // Writes retry until etcd takes them: during the election after the kill a
  // write may fail, and each key is written until one put succeeds.
  auto put = [&](const std::string& k) {
    for (int attempt = 0; attempt < 100; ++attempt) {
      auto r = client.Put(k, "v");
      if (r.ok()) return *r;
      std::this_thread::sleep_for(50ms);
    }
    return int64_t{0};
  };
  // A writer keeps writing while the watched member dies, so some writes land
  // while the watcher is reconnecting.
  std::atomic<int64_t> last{0};
  std::atomic<bool> write_failed{false};
  std::thread writer([&] {
    for (int i = 0; i < 40; ++i) {
      int64_t rev = put("fo/k" + std::to_string(i));
      if (rev == 0) write_failed = true;
      last = std::max<int64_t>(last, rev);
      std::this_thread::sleep_for(5ms);
    }
  });
  ASSERT_TRUE(WaitFor([&] { return rec.events().size() >= 10; }, 5s));
  etcd.Kill(0);  // the member the watcher (and the client) talk to
  writer.join();
  ASSERT_FALSE(write_failed);
  EXPECT_NE(client.preferred_endpoint(), 0u);

  ASSERT_TRUE(WaitFor([&] { return watcher.last_revision() >= last; }, 10s))
      << "watcher at " << watcher.last_revision() << ", want " << last.load();
  auto ev = rec.events();
  // Nothing else writes under fo/k, and every put is one revision: the events
  // must be exactly the revisions base+1 .. last, in order, each once.
  ASSERT_EQ(static_cast<int64_t>(ev.size()), last - *base);
  for (size_t i = 0; i < ev.size(); ++i) {
    EXPECT_EQ(ev[i].kv.mod_revision, *base + 1 + static_cast<int64_t>(i));
  }
  // Every key was seen.
  std::set<std::string> keys;
  for (const WatchEvent& e : ev) keys.insert(e.kv.key);
  EXPECT_EQ(keys.size(), 40u);
  EXPECT_GE(watcher.streams_opened(), 2);

  // The killed member comes back and catches up.
  ASSERT_TRUE(etcd.Restart(0, &why)) << why;
  auto direct = EtcdClient::Create(etcd.client_url(0));
  ASSERT_TRUE(direct.ok());
  EXPECT_TRUE(WaitFor(
      [&] {
        auto r = (*direct)->GetPrefix("fo/k");
        return r.ok() && r->kvs.size() == 40;
      },
      5s));

  // A graceful stop of another member leaves a quorum; the client still works.
  etcd.Stop(1);
  EXPECT_FALSE(etcd.Alive(1));
  EXPECT_TRUE(WaitFor([&] { return client.Get("fo/k0").ok(); }, 5s));
  int64_t more = put("fo/k40");
  ASSERT_GT(more, 0);
  EXPECT_TRUE(WaitFor([&] { return watcher.last_revision() >= more; }, 5s));
  EXPECT_EQ(rec.events().back().kv.key, "fo/k40");
  ASSERT_TRUE(etcd.Restart(1, &why)) << why;
}

}  // namespace
}  // namespace tessera::cluster
