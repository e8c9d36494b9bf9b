// Test support: an in-process HTTP server on 127.0.0.1 that speaks the node
// API of docs/api.md over an in-memory map, with hooks to inject failures and
// to see what clients sent. Not part of tessera_cli; linked into cli_test.
#pragma once

#include <httplib.h>

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace tessera::cli::testing {

class FakeNode {
 public:
  enum class GetMode {
    kNormal,
    kTruncate,  // send half the body, then drop the connection
    kBadEtag,   // send an ETag that is not the content's sha256
  };

  FakeNode();  // listening when constructed
  ~FakeNode();

  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }

  // Keys are "ns/path".
  void SetFile(const std::string& ns, const std::string& path, std::string data);
  bool HasFile(const std::string& ns, const std::string& path) const;
  std::string FileData(const std::string& ns, const std::string& path) const;
  std::vector<std::string> Keys() const;

  // Listing pages hold at most this many files whatever the client asks.
  void SetMaxPage(size_t n);
  void SetGetMode(GetMode mode);
  // The next `count` PUTs of ns/path answer HTTP `http_status` (a JSON error
  // named after it) after reading the body.
  void FailPuts(const std::string& key, int count, int http_status);
  // PUT answers report a wrong sha256.
  void SetCorruptPutSha(bool on);

  struct PutSeen {
    std::string key;
    std::string content_length;  // header as sent
    size_t chunks = 0;           // ContentReader callbacks
    size_t bytes = 0;
  };
  std::vector<PutSeen> Puts() const;
  int PutAttempts(const std::string& key) const;
  std::vector<std::string> ListQueries() const;  // "prefix=..;marker=..;limit=.."
  std::string LastAcceptEncoding() const;

 private:
  struct File {
    std::string data;
    std::string sha256;
    int64_t modified_ns = 0;
  };
  static std::string Key(const std::string& ns, const std::string& path) { return ns + "/" + path; }
  void Install();
  std::string RecordJson(const std::string& ns, const std::string& path, const File& f) const;

  httplib::Server server_;
  std::thread thread_;
  int port_ = 0;

  mutable std::mutex mu_;
  std::map<std::string, File> files_;
  size_t max_page_ = 1000;
  GetMode get_mode_ = GetMode::kNormal;
  bool corrupt_put_sha_ = false;
  std::map<std::string, std::pair<int, int>> put_failures_;  // key -> (count, status)
  std::map<std::string, int> put_attempts_;
  std::vector<PutSeen> puts_;
  std::vector<std::string> list_queries_;
  std::string last_accept_encoding_;
};

}  // namespace tessera::cli::testing
