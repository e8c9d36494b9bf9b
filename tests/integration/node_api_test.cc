// The node's HTTP API, end to end against a real `tessera node` process.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "common/units.h"
#include "tests/integration/test_files.h"
#include "tests/support/node_process.h"
#include "tests/support/raw_http.h"
#include "tests/support/temp_dir.h"

namespace tessera::testing {
namespace {

using nlohmann::json;

class NodeApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    node_ = std::make_unique<NodeProcess>(FourDriveNode(dir_.path()));
    ASSERT_TRUE(node_->Start()) << node_->ReadLog();
    client_ = std::make_unique<httplib::Client>("127.0.0.1", node_->port());
    client_->set_read_timeout(120, 0);
    client_->set_write_timeout(120, 0);
  }

  TempDir dir_;
  std::unique_ptr<NodeProcess> node_;
  std::unique_ptr<httplib::Client> client_;
};

TEST_F(NodeApiTest, RoundTripsEverySizeClass) {
  const uint64_t sizes[] = {0,
                            1,
                            8 * kKiB - 1,
                            8 * kKiB,
                            8 * kKiB + 1,
                            128 * kKiB - 1,
                            128 * kKiB,
                            128 * kKiB + 1,
                            5 * kMiB,
                            100 * kMiB};
  for (uint64_t size : sizes) {
    std::string name = "sizes/f" + std::to_string(size);
    std::string body = Content(size, size);
    auto put = PutFile(*client_, "ns/" + name, body);
    ASSERT_TRUE(put) << size;
    ASSERT_EQ(put->status, 201) << put->body;
    json record = json::parse(put->body);
    EXPECT_EQ(record["size"], size);
    EXPECT_EQ(record["geometry"]["kind"], size < 128 * kKiB ? "mirror" : "stripe") << size;
    auto get = GetFile(*client_, "ns/" + name);
    ASSERT_TRUE(get) << size;
    ASSERT_EQ(get->status, 200) << size;
    EXPECT_EQ(get->body.size(), body.size());
    EXPECT_TRUE(get->body == body) << "content differs for size " << size;
    EXPECT_EQ(get->get_header_value("ETag"), "\"" + record["sha256"].get<std::string>() + "\"");
  }
}

TEST_F(NodeApiTest, ThreadsAreNamedForWhatTheyDo) {
  auto put = PutFile(*client_, "ns/threads", Content(1000, 1));
  ASSERT_TRUE(put);
  ASSERT_EQ(put->status, 201) << put->body;
  std::multiset<std::string> names = ThreadNames(node_->pid());
  EXPECT_EQ(names.count("http"), 64u);  // --threads' default, idle ones too
  for (int lnum = 0; lnum < 4; ++lnum) {
    EXPECT_EQ(names.count("dsync-" + std::to_string(lnum)), 1u) << lnum;
  }
  EXPECT_EQ(names.count("compactor"), 1u);
  EXPECT_EQ(names.count("signals"), 1u);
}

TEST_F(NodeApiTest, ReplaceHeadDeleteAndMissing) {
  ASSERT_EQ(StatusOf(PutFile(*client_, "ns/a/b", "first")), 201);
  ASSERT_EQ(StatusOf(PutFile(*client_, "ns/a/b", "second!")), 200);
  EXPECT_EQ(GetFile(*client_, "ns/a/b")->body, "second!");
  auto head = client_->Head("/v1/files/ns/a/b");
  ASSERT_TRUE(head);
  EXPECT_EQ(head->status, 200);
  EXPECT_EQ(head->get_header_value("Content-Length"), "7");
  EXPECT_EQ(client_->Delete("/v1/files/ns/a/b")->status, 204);
  auto gone = GetFile(*client_, "ns/a/b");
  EXPECT_EQ(gone->status, 404);
  EXPECT_EQ(json::parse(gone->body)["error"]["code"], "NotFound");
  EXPECT_EQ(client_->Delete("/v1/files/ns/a/b")->status, 404);
}

// If-Match makes a PUT a compare-and-swap on the ETag a GET gave.
TEST_F(NodeApiTest, ConditionalPutReplacesOnlyTheContentItRead) {
  auto put_if = [&](const std::string& name, const std::string& body, const std::string& tag) {
    return client_->Put("/v1/files/ns/" + name, {{"If-Match", tag}}, body,
                        "application/octet-stream");
  };
  ASSERT_EQ(StatusOf(PutFile(*client_, "ns/cas", "version 1")), 201);
  auto first = GetFile(*client_, "ns/cas");
  const std::string etag = first->get_header_value("ETag");
  ASSERT_EQ(etag.size(), 66u) << etag;  // "sha256"
  auto created = json::parse(PutFile(*client_, "ns/other", "x")->body);

  auto won = put_if("cas", "version 2", etag);
  ASSERT_TRUE(won);
  EXPECT_EQ(won->status, 200) << won->body;
  EXPECT_EQ(GetFile(*client_, "ns/cas")->body, "version 2");
  auto lost = put_if("cas", "version 2 from a stale read", etag);
  EXPECT_EQ(lost->status, 412) << lost->body;
  EXPECT_EQ(json::parse(lost->body)["error"]["code"], "ConditionFailed");
  EXPECT_EQ(GetFile(*client_, "ns/cas")->body, "version 2");

  EXPECT_EQ(put_if("cas", "any version", "*")->status, 200);
  EXPECT_EQ(GetFile(*client_, "ns/cas")->body, "any version");
  EXPECT_EQ(put_if("missing", "x", "*")->status, 412);
  EXPECT_EQ(GetFile(*client_, "ns/missing")->status, 404) << "a failed condition creates nothing";
  for (const std::string& bad :
       {std::string("W/\"weak\""), std::string("\"\""), std::string("\"a\", \"b\"")}) {
    EXPECT_EQ(put_if("cas", "bad", bad)->status, 400) << bad;
  }
  EXPECT_EQ(GetFile(*client_, "ns/cas")->body, "any version");
  // The replaced file keeps its creation time, like any replace.
  auto replaced = json::parse(put_if("other", "y", "*")->body);
  EXPECT_EQ(replaced["created_ns"], created["created_ns"]);
}

// If-None-Match: * makes a PUT a create that never replaces: of writers
// racing to create one name, exactly one wins and its content stays.
TEST_F(NodeApiTest, CreateOnlyPutNeverReplaces) {
  auto create = [&](httplib::Client& c, const std::string& name, const std::string& body) {
    return c.Put("/v1/files/ns/" + name, {{"If-None-Match", "*"}}, body,
                 "application/octet-stream");
  };
  auto first = create(*client_, "once", "first");
  ASSERT_TRUE(first);
  EXPECT_EQ(first->status, 201) << first->body;
  auto second = create(*client_, "once", "second");
  ASSERT_TRUE(second);
  EXPECT_EQ(second->status, 412) << second->body;
  EXPECT_EQ(json::parse(second->body)["error"]["code"], "ConditionFailed");
  EXPECT_EQ(GetFile(*client_, "ns/once")->body, "first");
  for (const httplib::Headers& bad :
       {httplib::Headers{{"If-None-Match", "\"abc\""}},
        httplib::Headers{{"If-None-Match", "*"}, {"If-Match", "*"}}}) {
    auto r = client_->Put("/v1/files/ns/bad", bad, "x", "application/octet-stream");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 400) << r->body;
  }
  EXPECT_EQ(GetFile(*client_, "ns/bad")->status, 404);

  constexpr int kWriters = 8;
  std::vector<int> statuses(kWriters);
  std::vector<std::thread> writers;
  for (int i = 0; i < kWriters; ++i) {
    writers.emplace_back([&, i] {
      httplib::Client c("127.0.0.1", node_->port());
      statuses[i] = StatusOf(create(c, "race", "writer " + std::to_string(i)));
    });
  }
  for (std::thread& t : writers) t.join();
  const auto winner = std::find(statuses.begin(), statuses.end(), 201);
  ASSERT_NE(winner, statuses.end());
  EXPECT_EQ(std::count(statuses.begin(), statuses.end(), 201), 1);
  EXPECT_EQ(std::count(statuses.begin(), statuses.end(), 412), kWriters - 1);
  EXPECT_EQ(GetFile(*client_, "ns/race")->body,
            "writer " + std::to_string(winner - statuses.begin()));
}

TEST_F(NodeApiTest, RangeRequests) {
  std::string body = Content(3 * kMiB, 7);
  ASSERT_EQ(StatusOf(PutFile(*client_, "ns/r", body)), 201);
  auto part = client_->Get("/v1/files/ns/r", {{"Range", "bytes=131000-400000"}});
  ASSERT_TRUE(part);
  EXPECT_EQ(part->status, 206);
  EXPECT_TRUE(part->body == body.substr(131000, 400000 - 131000 + 1));
  auto small = client_->Get("/v1/files/ns/r", {{"Range", "bytes=-10"}});
  ASSERT_TRUE(small);
  EXPECT_EQ(small->status, 206);
  EXPECT_TRUE(small->body == body.substr(body.size() - 10));
  auto bad = client_->Get("/v1/files/ns/r", {{"Range", "bytes=99999999-"}});
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->status, 416);
  EXPECT_EQ(bad->get_header_value("Content-Range"), "bytes */" + std::to_string(body.size()));
  // A range running past the end is cut at the end (RFC 7233 2.1), streamed
  // or not; several ranges of a streamed file are answered with all of it.
  ASSERT_EQ(StatusOf(PutFile(*client_, "ns/eleven", "eleven byte")), 201);
  struct PastTheEnd {
    const char* path;
    const char* range;
    std::string content_range;
    std::string body;
  } past[] = {
      {"/v1/files/ns/r", "bytes=0-99999999", "bytes 0-3145727/3145728", body},
      {"/v1/files/ns/r", "bytes=3000000-3999999", "bytes 3000000-3145727/3145728",
       body.substr(3000000)},
      {"/v1/files/ns/eleven", "bytes=5-999", "bytes 5-10/11", "n byte"},
  };
  for (const PastTheEnd& c : past) {
    SCOPED_TRACE(std::string(c.path) + " " + c.range);
    auto r = client_->Get(c.path, {{"Range", c.range}});
    ASSERT_TRUE(r) << httplib::to_string(r.error());
    EXPECT_EQ(r->status, 206);
    EXPECT_EQ(r->get_header_value("Content-Range"), c.content_range);
    EXPECT_TRUE(r->body == c.body) << r->body.size() << " bytes";
  }
  auto several = client_->Get("/v1/files/ns/r", {{"Range", "bytes=0-5,3-9"}});
  ASSERT_TRUE(several) << httplib::to_string(several.error());
  EXPECT_EQ(several->status, 200);
  EXPECT_TRUE(several->body == body);

  // Errors are never cut to the Range: their JSON arrives whole, with one
  // Content-Range at most.
  ASSERT_EQ(StatusOf(PutFile(*client_, "ns/small", "eleven byte")), 201);
  struct Case {
    const char* path;
    const char* range;
    int status;
    const char* code;
    const char* says;
  } cases[] = {
      {"/v1/files/ns/small", "bytes=20-30", 416, "InvalidArgument", "outside the file's 11 bytes"},
      {"/v1/files/ns/r", "bytes=99999999-", 416, "InvalidArgument", "outside the file's"},
      {"/v1/files/ns/missing", "bytes=0-5", 404, "NotFound", "ns/missing"},
      {"/v1/files/ns/small", "bytes=abc", 416, "InvalidArgument", "Range 'bytes=abc' is not"},
      {"/v1/no-such-route", "bytes=0-3", 404, "NotFound", "no route"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(std::string(c.path) + " " + c.range);
    auto r = client_->Get(c.path, {{"Range", c.range}});
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, c.status);
    EXPECT_LE(r->get_header_value_count("Content-Range"), 1u);
    json error = json::parse(r->body, nullptr, false);
    ASSERT_FALSE(error.is_discarded()) << r->body;
    EXPECT_EQ(error["error"].value("code", ""), c.code) << r->body;
    EXPECT_NE(error["error"].value("message", "").find(c.says), std::string::npos) << r->body;
  }
}

TEST_F(NodeApiTest, ListingPagesThroughMarkers) {
  for (int i = 0; i < 25; ++i) {
    char name[32];
    std::snprintf(name, sizeof(name), "ns/dir/f%03d", i);
    ASSERT_EQ(StatusOf(PutFile(*client_, name, "x")), 201);
  }
  ASSERT_EQ(StatusOf(PutFile(*client_, "ns/other/g", "y")), 201);
  std::vector<std::string> seen;
  std::string marker;
  for (int page = 0; page < 10; ++page) {
    auto res = client_->Get(("/v1/files/ns/?prefix=dir/&limit=10&marker=" + marker).c_str());
    ASSERT_EQ(res->status, 200) << res->body;
    json j = json::parse(res->body);
    for (auto& f : j["files"]) seen.push_back(f["path"]);
    if (!j["truncated"].get<bool>()) break;
    marker = j["next_marker"];
  }
  ASSERT_EQ(seen.size(), 25u);
  EXPECT_EQ(seen.front(), "dir/f000");
  EXPECT_EQ(seen.back(), "dir/f024");
}

TEST_F(NodeApiTest, BadInputGetsClearErrorsAndChangesNothing) {
  ASSERT_EQ(StatusOf(PutFile(*client_, "ns/keep", "kept")), 201);
  for (const char* bad :
       {"ns/a//b", "ns/a/../keep", "ns/./x", "ns/a/", "n%20s/x", "ns/%00x", "ns/a%0Ab"}) {
    auto res = PutFile(*client_, bad, "junk");
    ASSERT_TRUE(res) << bad;
    EXPECT_EQ(res->status, 400) << bad << ": " << res->body;
    json j = json::parse(res->body, nullptr, false);
    ASSERT_FALSE(j.is_discarded()) << res->body;
    EXPECT_EQ(j["error"]["code"], "InvalidArgument");
  }
  // A limit is digits only ('+' in a query is a space); an assessment's
  // path is a valid NS/PREFIX, not a filter that silently matches nothing.
  for (const char* bad :
       {"/v1/files/ns/?limit=0", "/v1/files/ns/?limit=abc", "/v1/files/ns/?limit=+5",
        "/v1/files/ns/?limit=%2B5", "/v1/files/ns/?limit=%201", "/v1/files/ns/?limit=-1",
        "/v1/files/ns/?limit=1x", "/v1/sfse/assess?path=b%20d/", "/v1/sfse/assess?path=ns/a//b",
        "/v1/sfse/assess?path=ns/../x"}) {
    auto res = client_->Get(bad);
    ASSERT_TRUE(res) << bad;
    EXPECT_EQ(res->status, 400) << bad << ": " << res->body;
    json j = json::parse(res->body, nullptr, false);
    ASSERT_FALSE(j.is_discarded()) << res->body;
    EXPECT_EQ(j["error"]["code"], "InvalidArgument") << bad;
  }
  EXPECT_EQ(json::parse(client_->Get("/v1/sfse/assess?path=ns/")->body)["files"], 1);
  EXPECT_EQ(json::parse(client_->Get("/v1/files/ns/?limit=1")->body)["files"].size(), 1u);
  EXPECT_EQ(client_->Get("/v1/nonsense")->status, 404);
  EXPECT_EQ(GetFile(*client_, "ns/keep")->body, "kept");
  auto listing = json::parse(client_->Get("/v1/files/ns/")->body);
  EXPECT_EQ(listing["files"].size(), 1u) << listing.dump();
}

// A read that fetched a file's record just before the file was replaced or
// deleted still gets that version whole: the old pieces outlive the record
// by the node's delete grace. Readers race writers on one small (mirrored)
// and one large (striped, streamed) name; every 200 must be one version
// entire, and only a delete may make a read 404.
TEST_F(NodeApiTest, ReadsRacingOverwritesAndDeletesGetWholeVersions) {
  const std::vector<size_t> sizes = {100 * kKiB, 1536 * kKiB};
  auto version = [](size_t size, int v) {
    char tag[16];
    std::snprintf(tag, sizeof(tag), "v%07d", v);
    return std::string(tag) + Content(size - 8, v);
  };
  auto name = [](size_t size) { return "ns/hot/" + std::to_string(size); };
  for (size_t size : sizes)
    ASSERT_EQ(StatusOf(PutFile(*client_, name(size), version(size, 0))), 201);

  std::atomic<bool> stop{false};
  std::atomic<int> reads{0}, whole{0}, absent{0};
  std::vector<std::string> failures;
  std::mutex failures_mu;
  auto fail = [&](std::string what) {
    std::lock_guard lock(failures_mu);
    if (failures.size() < 5) failures.push_back(std::move(what));
  };
  std::vector<std::thread> threads;
  for (size_t size : sizes) {
    threads.emplace_back([&, size] {
      httplib::Client c("127.0.0.1", node_->port());
      for (int v = 1; !stop; ++v) {
        if (v % 10 == 0) {
          (void)c.Delete(("/v1/files/" + name(size)).c_str());
        } else if (int status = StatusOf(PutFile(c, name(size), version(size, v)));
                   status != 200 && status != 201) {
          fail("PUT " + name(size) + ": " + std::to_string(status));
        }
      }
    });
    for (int r = 0; r < 2; ++r) {
      threads.emplace_back([&, size] {
        httplib::Client c("127.0.0.1", node_->port());
        while (!stop) {
          auto got = GetFile(c, name(size));
          ++reads;
          if (got && got->status == 404) {
            ++absent;
            continue;
          }
          if (!got || got->status != 200) {
            fail(got ? "GET " + std::to_string(got->status) + ": " + got->body.substr(0, 200)
                     : "GET " + name(size) + " cut short: " + httplib::to_string(got.error()));
            continue;
          }
          int v = std::atoi(got->body.substr(1, 7).c_str());
          if (got->body == version(size, v)) {
            ++whole;
          } else {
            fail("GET " + name(size) + " returned a body that is no version whole");
          }
        }
      });
    }
  }
  std::this_thread::sleep_for(std::chrono::seconds(8));
  stop = true;
  for (std::thread& t : threads) t.join();
  EXPECT_TRUE(failures.empty()) << failures.size() << " failure(s), first: " << failures[0];
  EXPECT_GT(whole.load(), 100) << reads << " reads";
  EXPECT_GT(absent.load(), 0) << "the deletes were seen";
}

// Names travel in JSON (records, replication, error bodies), which cannot
// carry bytes that are not UTF-8: such a name is refused as bad input on
// every route, with a JSON body, and stores nothing; UTF-8 names work.
TEST_F(NodeApiTest, NamesThatAreNotUtf8AreRefusedOnEveryRoute) {
  auto expect_json_error = [](const httplib::Result& res, int status, const std::string& what) {
    ASSERT_TRUE(res) << what;
    EXPECT_EQ(res->status, status) << what << ": " << res->body;
    json j = json::parse(res->body, nullptr, false);
    ASSERT_FALSE(j.is_discarded()) << what << ": " << res->body;
    EXPECT_TRUE(j["error"]["message"].is_string()) << res->body;
  };
  auto put = PutFile(*client_, "ns/x%ff", "junk");
  expect_json_error(put, 400, "PUT");
  EXPECT_NE(put->body.find("is not valid UTF-8 at byte 1"), std::string::npos) << put->body;
  expect_json_error(PutFile(*client_, "ns/a%c0%afb", "junk"), 400, "PUT overlong '/'");
  expect_json_error(GetFile(*client_, "ns/a%ffb"), 400, "GET");
  expect_json_error(client_->Delete("/v1/files/ns/a%ffb"), 400, "DELETE");
  expect_json_error(client_->Get("/v1/stat/ns/a%ffb"), 400, "stat");
  expect_json_error(client_->Get("/v1/files/ns/?prefix=%ff"), 400, "list");
  expect_json_error(client_->Get("/v1/snapshots/%ff"), 400, "snapshot");
  expect_json_error(client_->Get("/v1/nonsense%ff"), 404, "no route");

  ASSERT_EQ(StatusOf(PutFile(*client_, "ns/caf%C3%A9/%F0%9F%93%81", "utf-8")), 201);
  EXPECT_EQ(GetFile(*client_, "ns/caf%C3%A9/%F0%9F%93%81")->body, "utf-8");
  auto listing = json::parse(client_->Get("/v1/files/ns/")->body);
  ASSERT_EQ(listing["files"].size(), 1u) << listing.dump();
  EXPECT_EQ(listing["files"][0]["path"], "caf\xc3\xa9/\xf0\x9f\x93\x81") << listing.dump();
}

// A body needs a length: a PUT or POST with neither Content-Length nor
// chunked encoding is refused at once (httplib alone would wait for the
// client to close) and stores nothing; a chunked one is stored.
TEST_F(NodeApiTest, ABodyWithoutALengthIsRefusedAtOnce) {
  for (const char* method : {"PUT", "POST"}) {
    SCOPED_TRACE(method);
    std::string answer =
        RawRequest(node_->port(),
                   std::string(method) + " /v1/files/ns/nolength HTTP/1.1\r\nHost: x\r\n\r\n", 0);
    EXPECT_EQ(answer.rfind("HTTP/1.1 411", 0), 0u) << answer;
    EXPECT_NE(answer.find("needs a Content-Length or Transfer-Encoding: chunked"),
              std::string::npos)
        << answer;
  }
  EXPECT_EQ(client_->Get("/v1/files/ns/nolength")->status, 404);
  std::string chunked = RawRequest(node_->port(),
                                   "PUT /v1/files/ns/chunked HTTP/1.1\r\nHost: x\r\n"
                                   "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
                                   "5\r\nhello\r\n0\r\n\r\n",
                                   0);
  EXPECT_EQ(chunked.rfind("HTTP/1.1 201", 0), 0u) << chunked;
  EXPECT_EQ(client_->Get("/v1/files/ns/chunked")->body, "hello");
}

// A Content-Length is 1*DIGIT, and several must agree (RFC 7230 3.3.2):
// httplib alone framed the body by the first one through strtoull, so
// "3" then "5" stored 3 bytes and parsed the rest as a request, and "-1"
// was 2^64-1 bytes. Refused on every route before the body is read, with
// the connection closed; the request changes nothing.
TEST_F(NodeApiTest, AContentLengthInDoubtIsRefusedAndChangesNothing) {
  struct Case {
    std::string request_line, headers;
    size_t body_bytes;
    std::string message;
  };
  const std::string put = "PUT /v1/files/ns/cl HTTP/1.1\r\n";
  const Case cases[] = {
      {put, "Content-Length: 3\r\nContent-Length: 5\r\n", 5,
       "Content-Length given twice, as 3 and 5"},
      {put, "Content-Length: -1\r\n", 5, "Content-Length '-1' is not a decimal number"},
      {put, "Content-Length: +5\r\n", 5, "Content-Length '+5' is not a decimal number"},
      {put, "Content-Length: 5, 5\r\n", 5, "Content-Length '5, 5' is not"},
      {put, "Content-Length: 99999999999999999999\r\n", 5, "'99999999999999999999' is not"},
      {put, "Content-Length: -1\r\nExpect: 100-continue\r\n", 0, "'-1' is not"},
      {put, "Content-Length: 3\r\nContent-Length: 5\r\nExpect: 100-continue\r\n", 0,
       "given twice, as 3 and 5"},
      {"POST /v1/clone HTTP/1.1\r\n", "Content-Length: +5\r\n", 5, "'+5' is not"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.request_line + c.headers);
    std::string answer = RawRequest(
        node_->port(), c.request_line + "Host: x\r\n" + c.headers + "\r\n", c.body_bytes);
    EXPECT_EQ(answer.rfind("HTTP/1.1 400", 0), 0u) << answer;
    EXPECT_NE(answer.find("\"InvalidArgument\""), std::string::npos) << answer;
    EXPECT_NE(answer.find(c.message), std::string::npos) << answer;
    // Closed at once: the unread body is never parsed as another request.
    EXPECT_NE(answer.find("Connection: close"), std::string::npos) << answer;
    EXPECT_EQ(answer.find("HTTP/1.1", 1), std::string::npos) << answer;
  }
  EXPECT_EQ(StatusOf(GetFile(*client_, "ns/cl")), 404);
  // Identical duplicates are one length.
  std::string same =
      RawRequest(node_->port(),
                 "PUT /v1/files/ns/same HTTP/1.1\r\nHost: x\r\n"
                 "Content-Length: 3\r\ncontent-length: 3\r\nConnection: close\r\n\r\n",
                 3);
  EXPECT_EQ(same.rfind("HTTP/1.1 201", 0), 0u) << same;
  EXPECT_EQ(GetFile(*client_, "ns/same")->body, "zzz");
  auto listing = json::parse(client_->Get("/v1/files/ns/")->body);
  EXPECT_EQ(listing["files"].size(), 1u) << listing.dump();
}

TEST(NodeLimitsTest, TooLargeIs413AndLeavesNothing) {
  TempDir dir;
  NodeProcess node(FourDriveNode(dir.path(), {"--max-file-size", "1M"}));
  ASSERT_TRUE(node.Start()) << node.ReadLog();
  // A client that asks first is told before it sends the body.
  std::string answer = RawRequest(node.port(),
                                  "PUT /v1/files/ns/big HTTP/1.1\r\nHost: x\r\n"
                                  "Content-Length: 2147483648\r\nExpect: 100-continue\r\n"
                                  "Connection: close\r\n\r\n",
                                  0);
  EXPECT_EQ(answer.substr(0, 12), "HTTP/1.1 413") << answer;
  EXPECT_NE(answer.find("\"TooLarge\""), std::string::npos) << answer;
  // One that just sends is answered and cut off: the node never parses the
  // unread body as further requests (RawRequest returns once it closes).
  auto started = std::chrono::steady_clock::now();
  answer = RawRequest(node.port(),
                      "PUT /v1/files/ns/big HTTP/1.1\r\nHost: x\r\n"
                      "Content-Length: 2147483648\r\n\r\n",
                      256 * kKiB);
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(10));
  EXPECT_EQ(answer.find("HTTP/1.1 400"), std::string::npos) << answer;
  // A chunked upload that grows past the limit is refused and leaves nothing.
  httplib::Client client("127.0.0.1", node.port());
  size_t sent = 0;
  auto chunked = client.Put(
      "/v1/files/ns/chunked",
      [&](size_t, httplib::DataSink& sink) {
        std::string chunk(64 * kKiB, 'c');
        sent += chunk.size();
        if (sent > 3 * kMiB) {
          sink.done();
        } else {
          sink.write(chunk.data(), chunk.size());
        }
        return true;
      },
      "application/octet-stream");
  if (chunked) {
    EXPECT_EQ(chunked->status, 413) << chunked->body;
  }
  httplib::Client again("127.0.0.1", node.port());
  EXPECT_EQ(StatusOf(GetFile(again, "ns/big")), 404);
  EXPECT_EQ(StatusOf(GetFile(again, "ns/chunked")), 404);
  EXPECT_EQ(StatusOf(PutFile(again, "ns/ok", std::string(kMiB, 'o'))), 201);
  json info = json::parse(again.Get("/v1/node")->body);
  uint64_t pieces = 0;
  for (auto& d : info["drives"]) pieces += d["pieces"].get<uint64_t>();
  // Only the accepted 1 MiB file: 4 stripes of 2+2 units; the rejected uploads left nothing.
  EXPECT_EQ(pieces, 16u) << info.dump();
}

TEST_F(NodeApiTest, StatShowsWhichDriveHoldsEachUnit) {
  ASSERT_EQ(StatusOf(PutFile(*client_, "ns/s", Content(600 * kKiB, 1))), 201);
  auto res = client_->Get("/v1/stat/ns/s");
  ASSERT_EQ(res->status, 200);
  json j = json::parse(res->body);
  EXPECT_EQ(j["protection"], "+2");
  EXPECT_EQ(j["geometry"]["data_units"], 2);
  EXPECT_EQ(j["geometry"]["parity_units"], 2);
  EXPECT_EQ(j["geometry"]["stripe_count"], 3);
  ASSERT_EQ(j["units"].size(), 12u);
  std::set<std::string> drives_of_stripe0;
  for (auto& u : j["units"]) {
    if (u["stripe"] == 0) drives_of_stripe0.insert(u["drive"].get<std::string>());
  }
  EXPECT_EQ(drives_of_stripe0.size(), 4u) << "a stripe's units must sit on distinct drives";
  // Object ids carry the writing node's array id (1 here) in their top bits.
  EXPECT_EQ(j["object_id"].get<uint64_t>() >> 52, 1u) << j.dump();
}

}  // namespace
}  // namespace tessera::testing
