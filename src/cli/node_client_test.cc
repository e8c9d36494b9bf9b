#include "cli/node_client.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <random>
#include <thread>

#include "cli/fake_node.h"
#include "common/sha256.h"
#include "tests/support/temp_dir.h"

namespace tessera::cli {
namespace {

namespace fs = std::filesystem;
using testing::FakeNode;

std::string RandomBytes(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::string s(n, '\0');
  for (char& c : s) c = static_cast<char>(rng());
  return s;
}

void WriteFile(const std::string& path, const std::string& data) {
  std::ofstream f(path, std::ios::binary);
  f.write(data.data(), static_cast<std::streamsize>(data.size()));
  ASSERT_TRUE(f.good()) << path;
}

std::string ReadFile(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(f), {});
}

std::vector<std::string> DirEntries(const std::string& dir) {
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(dir)) names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

bool HasType(const std::string& path, mode_t type) {
  struct stat st {};
  return ::lstat(path.c_str(), &st) == 0 && (st.st_mode & S_IFMT) == type;
}

// Tests write onto copies of /dev/null and /dev/full made here, and onto
// symlinks to the real ones, never onto /dev itself: run as root, a
// regression would replace the machine's devices. Making a device node needs
// root; without it only the symlinks are tried.
std::vector<std::string> DevicesLike(const tessera::testing::TempDir& dir, const std::string& name,
                                     unsigned minor) {
  std::vector<std::string> paths{dir.Sub(name + "-link")};
  EXPECT_EQ(::symlink(("/dev/" + name).c_str(), paths[0].c_str()), 0) << paths[0];
  const std::string node = dir.Sub(name);
  if (::mknod(node.c_str(), S_IFCHR | 0666, makedev(1, minor)) == 0) paths.push_back(node);
  return paths;
}

std::unique_ptr<NodeClient> MustCreate(const std::string& url) {
  Result<std::unique_ptr<NodeClient>> client = NodeClient::Create(url);
  EXPECT_TRUE(client.ok()) << client.status().ToString();
  return std::move(client).value();
}

TEST(NodeUrlTest, AcceptsHttpHostPort) {
  struct Case {
    const char* url;
    const char* host;
    int port;
    const char* canonical;
  } cases[] = {
      {"http://127.0.0.1:8080", "127.0.0.1", 8080, "http://127.0.0.1:8080"},
      {"http://node-1.example:80/", "node-1.example", 80, "http://node-1.example:80"},
      {"HTTP://Node1:65535", "Node1", 65535, "http://Node1:65535"},
      {"http://[::1]:9000", "::1", 9000, "http://[::1]:9000"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.url);
    Result<NodeUrl> url = ParseNodeUrl(c.url);
    ASSERT_TRUE(url.ok()) << url.status().ToString();
    EXPECT_EQ(url->host, c.host);
    EXPECT_EQ(url->port, c.port);
    EXPECT_EQ(url->ToString(), c.canonical);
  }
}

TEST(NodeUrlTest, RejectsWithAClearReason) {
  struct Case {
    const char* url;
    const char* reason;
  } cases[] = {
      {"", "empty"},
      {"127.0.0.1:8080", "must start with http://"},
      {"https://node:8443", "https is not supported"},
      {"ftp://node:21", "scheme must be http"},
      {"http://node", "has no port"},
      {"http://node:", "not a number from 1 to 65535"},
      {"http://node:0", "not a number from 1 to 65535"},
      {"http://node:65536", "not a number from 1 to 65535"},
      {"http://node:80x", "not a number from 1 to 65535"},
      {"http://:8080", "has no host"},
      {"http://node:8080/v1", "has a path or query"},
      {"http://node:8080?x=1", "has a path or query"},
      {"http://me@node:8080", "user info"},
      {"http://no de:8080", "host with a character"},
      {"http://[::1:8080", "unclosed '['"},
      {"http://[::1]", "has no port"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.url);
    Result<NodeUrl> url = ParseNodeUrl(c.url);
    ASSERT_FALSE(url.ok());
    EXPECT_EQ(url.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(url.status().message().find(c.reason), std::string::npos) << url.status().message();
    Result<std::unique_ptr<NodeClient>> client = NodeClient::Create(c.url);
    EXPECT_EQ(client.status().code(), StatusCode::kInvalidArgument);
  }
}

TEST(PercentEncodeTest, EncodesAllButUnreserved) {
  EXPECT_EQ(PercentEncode("dir with space/100%+x.bin", true), "dir%20with%20space/100%25%2Bx.bin");
  EXPECT_EQ(PercentEncode("a/b", false), "a%2Fb");
  EXPECT_EQ(PercentEncode("AZaz09-._~", false), "AZaz09-._~");
  EXPECT_EQ(PercentEncode("\xc3\xa9?#&=", true), "%C3%A9%3F%23%26%3D");
}

class NodeClientTest : public ::testing::Test {
 protected:
  FakeNode node_;
  tessera::testing::TempDir dir_;
  std::unique_ptr<NodeClient> client_ = MustCreate(node_.url());
};

TEST_F(NodeClientTest, PutStreamsA20MiBFile) {
  const std::string data = RandomBytes(20 << 20, 1);
  const std::string local = dir_.Sub("big.bin");
  WriteFile(local, data);
  std::vector<uint64_t> progress;
  Result<nlohmann::json> record =
      client_->PutFile("archive", "big/f.bin", local, [&](uint64_t done, uint64_t total) {
        EXPECT_EQ(total, data.size());
        progress.push_back(done);
      });
  ASSERT_TRUE(record.ok()) << record.status().ToString();
  EXPECT_EQ((*record)["size"], data.size());
  EXPECT_EQ((*record)["sha256"], Sha256::Hex(data));

  EXPECT_TRUE(node_.FileData("archive", "big/f.bin") == data);
  std::vector<FakeNode::PutSeen> puts = node_.Puts();
  ASSERT_EQ(puts.size(), 1u);
  EXPECT_EQ(puts[0].content_length, std::to_string(data.size()));
  EXPECT_EQ(puts[0].bytes, data.size());
  EXPECT_GT(puts[0].chunks, 1u);
  // The body was produced piece by piece (1 MiB each), not in one buffer.
  ASSERT_EQ(progress.size(), 20u);
  EXPECT_TRUE(std::is_sorted(progress.begin(), progress.end()));
  EXPECT_EQ(progress.front(), 1u << 20);
  EXPECT_EQ(progress.back(), data.size());
}

TEST_F(NodeClientTest, PutEmptyFileAndReplace) {
  const std::string local = dir_.Sub("empty");
  WriteFile(local, "");
  Result<nlohmann::json> record = client_->PutFile("ns", "empty", local);
  ASSERT_TRUE(record.ok()) << record.status().ToString();
  EXPECT_EQ((*record)["size"], 0);
  EXPECT_TRUE(node_.HasFile("ns", "empty"));

  WriteFile(local, "now with content");
  record = client_->PutFile("ns", "empty", local);
  ASSERT_TRUE(record.ok()) << record.status().ToString();
  EXPECT_EQ(node_.FileData("ns", "empty"), "now with content");
}

TEST_F(NodeClientTest, PutOfMissingOrSpecialLocalFileFailsWithoutRequest) {
  Status st = client_->PutFile("ns", "x", dir_.Sub("missing")).status();
  EXPECT_EQ(st.code(), StatusCode::kNotFound) << st.ToString();
  EXPECT_NE(st.message().find(dir_.Sub("missing")), std::string::npos);
  st = client_->PutFile("ns", "x", dir_.path()).status();
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument) << st.ToString();
  EXPECT_TRUE(node_.Puts().empty());
}

TEST_F(NodeClientTest, PutDetectsShaMismatch) {
  const std::string local = dir_.Sub("f");
  WriteFile(local, "some bytes");
  node_.SetCorruptPutSha(true);
  Status st = client_->PutFile("ns", "f", local).status();
  EXPECT_EQ(st.code(), StatusCode::kCorruption) << st.ToString();
  EXPECT_NE(st.message().find(Sha256::Hex("some bytes")), std::string::npos) << st.message();
}

TEST_F(NodeClientTest, PutErrorCarriesNodeMessage) {
  const std::string local = dir_.Sub("f");
  WriteFile(local, "x");
  node_.FailPuts("ns/f", 1, 507);
  Status st = client_->PutFile("ns", "f", local).status();
  EXPECT_EQ(st.code(), StatusCode::kNoSpace);
  EXPECT_EQ(st.ToString(), "NoSpace: injected failure for ns/f");
}

TEST_F(NodeClientTest, GetFileWritesBytesAndLeavesNoTemporaryFiles) {
  const std::string data = RandomBytes(3 << 20, 2);
  node_.SetFile("ns", "d/f.bin", data);
  std::vector<uint64_t> progress;
  Result<FetchedFile> fetched =
      client_->GetFile("ns", "d/f.bin", dir_.Sub("out.bin"), [&](uint64_t done, uint64_t total) {
        EXPECT_EQ(total, data.size());
        progress.push_back(done);
      });
  ASSERT_TRUE(fetched.ok()) << fetched.status().ToString();
  EXPECT_EQ(fetched->size, data.size());
  EXPECT_EQ(fetched->sha256, Sha256::Hex(data));
  EXPECT_TRUE(fetched->sha256_checked);
  EXPECT_TRUE(ReadFile(dir_.Sub("out.bin")) == data);
  EXPECT_EQ(DirEntries(dir_.path()), std::vector<std::string>{"out.bin"});
  ASSERT_FALSE(progress.empty());
  EXPECT_EQ(progress.back(), data.size());
  EXPECT_EQ(node_.LastAcceptEncoding(), "identity");
}

TEST_F(NodeClientTest, GetFileOf404LeavesNothing) {
  Result<FetchedFile> fetched = client_->GetFile("ns", "nope", dir_.Sub("out.bin"));
  ASSERT_FALSE(fetched.ok());
  EXPECT_EQ(fetched.status().ToString(), "NotFound: no file ns/nope");
  EXPECT_TRUE(DirEntries(dir_.path()).empty());
}

TEST_F(NodeClientTest, GetFileCutMidBodyLeavesNothingAndKeepsOldFile) {
  node_.SetFile("ns", "f", RandomBytes(4 << 20, 3));
  node_.SetGetMode(FakeNode::GetMode::kTruncate);
  Result<FetchedFile> fetched = client_->GetFile("ns", "f", dir_.Sub("new.bin"));
  ASSERT_FALSE(fetched.ok());
  EXPECT_EQ(fetched.status().code(), StatusCode::kUnavailable) << fetched.status().ToString();
  EXPECT_TRUE(DirEntries(dir_.path()).empty());

  WriteFile(dir_.Sub("old.bin"), "previous content");
  fetched = client_->GetFile("ns", "f", dir_.Sub("old.bin"));
  ASSERT_FALSE(fetched.ok());
  EXPECT_EQ(ReadFile(dir_.Sub("old.bin")), "previous content");
  EXPECT_EQ(DirEntries(dir_.path()), std::vector<std::string>{"old.bin"});
}

TEST_F(NodeClientTest, GetFileWithWrongShaLeavesNothing) {
  node_.SetFile("ns", "f", "content");
  node_.SetGetMode(FakeNode::GetMode::kBadEtag);
  Result<FetchedFile> fetched = client_->GetFile("ns", "f", dir_.Sub("out"));
  EXPECT_EQ(fetched.status().code(), StatusCode::kCorruption) << fetched.status().ToString();
  EXPECT_TRUE(DirEntries(dir_.path()).empty());
}

TEST_F(NodeClientTest, GetFileIntoMissingDirectoryFails) {
  node_.SetFile("ns", "f", "content");
  Status st = client_->GetFile("ns", "f", dir_.Sub("no/such/dir/out")).status();
  EXPECT_EQ(st.code(), StatusCode::kNotFound) << st.ToString();
  EXPECT_NE(st.message().find("creating a temporary file"), std::string::npos) << st.message();
}

TEST_F(NodeClientTest, GetFileIntoFifoWritesThroughIt) {
  // More than a pipe holds, so the download has to wait for the reader.
  const std::string data = RandomBytes(3 << 20, 5);
  node_.SetFile("ns", "f", data);
  const std::string fifo = dir_.Sub("fifo");
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  // A second name for the FIFO, to release the reader if the download
  // replaces the first instead of opening it.
  const std::string alias = dir_.Sub("fifo-alias");
  ASSERT_EQ(::link(fifo.c_str(), alias.c_str()), 0);
  std::string got;
  std::atomic<bool> done{false};
  std::thread reader([&] {
    int fd = ::open(fifo.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
      char buf[64 << 10];
      for (ssize_t n; (n = ::read(fd, buf, sizeof(buf))) != 0;) {
        if (n < 0 && errno != EINTR) break;
        if (n > 0) got.append(buf, static_cast<size_t>(n));
      }
      ::close(fd);
    }
    done = true;
  });

  Result<FetchedFile> fetched = client_->GetFile("ns", "f", fifo);
  for (int i = 0; i < 1000 && !done; ++i) {
    int fd = ::open(alias.c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd >= 0) ::close(fd);
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  reader.join();
  ASSERT_TRUE(fetched.ok()) << fetched.status().ToString();
  EXPECT_EQ(fetched->size, data.size());
  EXPECT_TRUE(HasType(fifo, S_IFIFO));
  EXPECT_EQ(got.size(), data.size());
  EXPECT_TRUE(got == data);
  EXPECT_EQ(DirEntries(dir_.path()), (std::vector<std::string>{"fifo", "fifo-alias"}));
}

TEST_F(NodeClientTest, GetFileIntoDevNullWritesThroughIt) {
  node_.SetFile("ns", "f", RandomBytes(1 << 20, 6));
  for (const std::string& local : DevicesLike(dir_, "null", 3)) {
    SCOPED_TRACE(local);
    Result<FetchedFile> fetched = client_->GetFile("ns", "f", local);
    ASSERT_TRUE(fetched.ok()) << fetched.status().ToString();
    EXPECT_EQ(fetched->size, 1u << 20);
    EXPECT_TRUE(fetched->sha256_checked);
  }
  EXPECT_TRUE(HasType(dir_.Sub("null-link"), S_IFLNK));
  EXPECT_TRUE(HasType("/dev/null", S_IFCHR));
  if (fs::exists(dir_.Sub("null"))) {
    EXPECT_TRUE(HasType(dir_.Sub("null"), S_IFCHR));
  }
  for (const std::string& name : DirEntries(dir_.path())) {
    EXPECT_TRUE(name == "null" || name == "null-link") << name;
  }
}

TEST_F(NodeClientTest, GetFileIntoDevFullFailsWithNoSpace) {
  node_.SetFile("ns", "f", "content");
  for (const std::string& local : DevicesLike(dir_, "full", 7)) {
    SCOPED_TRACE(local);
    Status st = client_->GetFile("ns", "f", local).status();
    EXPECT_EQ(st.code(), StatusCode::kNoSpace) << st.ToString();
    EXPECT_EQ(st.message(), "writing " + local + ": No space left on device");
  }
  EXPECT_TRUE(HasType(dir_.Sub("full-link"), S_IFLNK));
  EXPECT_TRUE(HasType("/dev/full", S_IFCHR));
  if (fs::exists(dir_.Sub("full"))) {
    EXPECT_TRUE(HasType(dir_.Sub("full"), S_IFCHR));
  }
}

TEST_F(NodeClientTest, GetFileThroughSymlinkReplacesItsTarget) {
  node_.SetFile("ns", "f", "new content");
  fs::create_directory(dir_.Sub("sub"));
  WriteFile(dir_.Sub("sub/real.bin"), "old content");
  // Relative to the link's directory, then a link to that link.
  ASSERT_EQ(::symlink("sub/real.bin", dir_.Sub("link").c_str()), 0);
  ASSERT_EQ(::symlink(dir_.Sub("link").c_str(), dir_.Sub("link2").c_str()), 0);
  ASSERT_EQ(::symlink("sub/new.bin", dir_.Sub("dangling").c_str()), 0);
  ASSERT_EQ(::symlink("loop", dir_.Sub("loop").c_str()), 0);

  Result<FetchedFile> fetched = client_->GetFile("ns", "f", dir_.Sub("link2"));
  ASSERT_TRUE(fetched.ok()) << fetched.status().ToString();
  EXPECT_EQ(ReadFile(dir_.Sub("sub/real.bin")), "new content");
  EXPECT_TRUE(HasType(dir_.Sub("link"), S_IFLNK));
  EXPECT_TRUE(HasType(dir_.Sub("link2"), S_IFLNK));
  EXPECT_EQ(DirEntries(dir_.Sub("sub")), std::vector<std::string>{"real.bin"});

  fetched = client_->GetFile("ns", "f", dir_.Sub("dangling"));
  ASSERT_TRUE(fetched.ok()) << fetched.status().ToString();
  EXPECT_TRUE(HasType(dir_.Sub("dangling"), S_IFLNK));
  EXPECT_EQ(ReadFile(dir_.Sub("sub/new.bin")), "new content");

  Status st = client_->GetFile("ns", "f", dir_.Sub("loop")).status();
  EXPECT_EQ(st.code(), StatusCode::kIOError) << st.ToString();
  EXPECT_NE(st.message().find("Too many levels of symbolic links"), std::string::npos)
      << st.ToString();
  st = client_->GetFile("ns", "f", dir_.Sub("sub")).status();
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument) << st.ToString();

  // A failed download leaves both the link and its target as they were.
  node_.SetFile("ns", "big", RandomBytes(4 << 20, 7));
  node_.SetGetMode(FakeNode::GetMode::kTruncate);
  EXPECT_FALSE(client_->GetFile("ns", "big", dir_.Sub("link")).ok());
  EXPECT_EQ(ReadFile(dir_.Sub("sub/real.bin")), "new content");
  EXPECT_TRUE(HasType(dir_.Sub("link"), S_IFLNK));
  EXPECT_EQ(DirEntries(dir_.Sub("sub")), (std::vector<std::string>{"new.bin", "real.bin"}));
  EXPECT_EQ(DirEntries(dir_.path()),
            (std::vector<std::string>{"dangling", "link", "link2", "loop", "sub"}));
}

TEST_F(NodeClientTest, GetToSinkDeliversInOrder) {
  const std::string data = RandomBytes(1 << 20, 4);
  node_.SetFile("ns", "f", data);
  std::string got;
  Result<FetchedFile> fetched = client_->GetToSink("ns", "f", [&](const char* d, size_t n) {
    got.append(d, n);
    return Status::Ok();
  });
  ASSERT_TRUE(fetched.ok()) << fetched.status().ToString();
  EXPECT_TRUE(got == data);

  // A failing sink stops the download with its own error.
  Status st =
      client_
          ->GetToSink("ns", "f", [](const char*, size_t) { return Status::NoSpace("disk full"); })
          .status();
  EXPECT_EQ(st.ToString(), "NoSpace: disk full");
}

TEST_F(NodeClientTest, PercentEncodedPathsRoundTrip) {
  // "%41" would arrive as "A" if the client left '%' unencoded.
  const std::string path = "dir with space/100% sure+plus#hash?q=1&x%41.bin";
  const std::string local = dir_.Sub("f");
  WriteFile(local, "odd name");
  ASSERT_TRUE(client_->PutFile("ns", path, local).ok());
  EXPECT_EQ(node_.Keys(), std::vector<std::string>{"ns/" + path});

  Result<nlohmann::json> stat = client_->Stat("ns", path);
  ASSERT_TRUE(stat.ok()) << stat.status().ToString();
  EXPECT_EQ((*stat)["path"], path);

  Result<FetchedFile> fetched = client_->GetFile("ns", path, dir_.Sub("back"));
  ASSERT_TRUE(fetched.ok()) << fetched.status().ToString();
  EXPECT_EQ(ReadFile(dir_.Sub("back")), "odd name");

  Result<nlohmann::json> page = client_->List("ns", "dir with space/100% s", "", 0);
  ASSERT_TRUE(page.ok()) << page.status().ToString();
  ASSERT_EQ((*page)["files"].size(), 1u);
  EXPECT_EQ((*page)["files"][0]["path"], path);

  EXPECT_TRUE(client_->Delete("ns", path).ok());
  EXPECT_TRUE(node_.Keys().empty());
}

TEST_F(NodeClientTest, ListReturnsPagesWithMarkers) {
  for (int i = 0; i < 7; ++i) node_.SetFile("ns", "d/f" + std::to_string(i), "x");
  node_.SetFile("ns", "other", "x");
  node_.SetFile("ns2", "d/f9", "x");

  Result<nlohmann::json> page = client_->List("ns", "d/", "", 3);
  ASSERT_TRUE(page.ok()) << page.status().ToString();
  ASSERT_EQ((*page)["files"].size(), 3u);
  EXPECT_EQ((*page)["truncated"], true);
  EXPECT_EQ((*page)["next_marker"], "d/f2");

  page = client_->List("ns", "d/", "d/f2", 10);
  ASSERT_TRUE(page.ok());
  ASSERT_EQ((*page)["files"].size(), 4u);
  EXPECT_EQ((*page)["files"][0]["path"], "d/f3");
  EXPECT_EQ((*page)["truncated"], false);
  EXPECT_EQ(node_.ListQueries().back(), "prefix=d/;marker=d/f2;limit=10");
}

TEST_F(NodeClientTest, ErrorsCarryTheNodeMessage) {
  Status st = client_->Stat("ns", "missing/file").status();
  EXPECT_EQ(st.code(), StatusCode::kNotFound);
  EXPECT_EQ(st.message(), "no file ns/missing/file");
  st = client_->Delete("ns", "missing");
  EXPECT_EQ(st.ToString(), "NotFound: no file ns/missing");

  // A reply that is not a node's JSON error still maps by HTTP status and
  // shows what came back.
  st = client_->List("proxy", "", "", 0).status();
  EXPECT_EQ(st.code(), StatusCode::kUnavailable) << st.ToString();
  EXPECT_NE(st.message().find("HTTP 502"), std::string::npos) << st.message();
  EXPECT_NE(st.message().find("Bad Gateway"), std::string::npos) << st.message();
}

TEST_F(NodeClientTest, NodeInfo) {
  node_.SetFile("ns", "a", "1");
  Result<nlohmann::json> info = client_->NodeInfo();
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_EQ((*info)["cluster_guid"], "fake");
  EXPECT_EQ((*info)["files"], 1);
}

// The node refuses writes to its reserved namespaces with 403 and its own
// code name, "forbidden" (docs/api.md).
TEST(NodeClientForbiddenTest, ForbiddenIsInvalidArgumentAndSaysSo) {
  httplib::Server server;
  auto forbid = [](const httplib::Request& req, httplib::Response& res) {
    const std::string ns = req.matches[1];
    const std::string why = ns == "_snap"
                                ? "namespace _snap holds snapshots; use /v1/snapshots"
                                : "namespace " + ns +
                                      " holds the cluster's shadow stores; only the cluster "
                                      "writes there";
    res.status = 403;
    res.set_content(nlohmann::json{{"error", {{"code", "forbidden"}, {"message", why}}}}.dump(),
                    "application/json");
  };
  server.Put(R"(/v1/files/([^/]+)/(.+))", forbid);
  server.Delete(R"(/v1/files/([^/]+)/(.+))", forbid);
  const int port = server.bind_to_any_port("127.0.0.1");
  ASSERT_GT(port, 0);
  std::thread thread([&] { server.listen_after_bind(); });
  for (int i = 0; i < 500 && !server.is_running(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  std::unique_ptr<NodeClient> client = MustCreate("http://127.0.0.1:" + std::to_string(port));
  tessera::testing::TempDir dir;
  WriteFile(dir.Sub("hi.txt"), "hi");

  Status st = client->PutFile("_sstore", "x", dir.Sub("hi.txt")).status();
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(st.ToString(),
            "InvalidArgument: PUT _sstore/x is forbidden: namespace _sstore holds the cluster's "
            "shadow stores; only the cluster writes there");
  st = client->Delete("_snap", "s1/ns/f");
  EXPECT_EQ(st.ToString(),
            "InvalidArgument: DELETE _snap/s1/ns/f is forbidden: namespace _snap holds "
            "snapshots; use /v1/snapshots");
  client.reset();  // its keep-alive connection would hold stop() for 5 s
  server.stop();
  thread.join();
}

TEST(NodeClientUnreachableTest, ClosedPortIsUnavailable) {
  // A bound socket that never listens: connections to it are refused, and
  // no other test can take the port meanwhile.
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  socklen_t len = sizeof(addr);
  ASSERT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  const std::string url = "http://127.0.0.1:" + std::to_string(ntohs(addr.sin_port));

  std::unique_ptr<NodeClient> client = MustCreate(url);
  Status st = client->Stat("ns", "f").status();
  EXPECT_EQ(st.code(), StatusCode::kUnavailable);
  EXPECT_EQ(st.message().rfind("cannot reach node at " + url + ": ", 0), 0u) << st.message();

  tessera::testing::TempDir dir;
  EXPECT_EQ(client->GetFile("ns", "f", dir.Sub("out")).status().code(), StatusCode::kUnavailable);
  EXPECT_TRUE(fs::is_empty(dir.path()));
  ::close(fd);
}

}  // namespace
}  // namespace tessera::cli
