// NodeClient: a blocking client of one node's HTTP API (docs/api.md).
//
// Every call returns a Status: errors the node reports keep the node's code
// and message ({"error": {"code": "NotFound", "message": "no file a/b"}} is
// Status(kNotFound, "no file a/b")); a node that cannot be reached, or that
// drops the connection mid-transfer, is kUnavailable ("cannot reach node at
// http://h:p: ..."), the only code worth retrying as is. Files stream in both
// directions: PutFile reads the local file in 1 MiB pieces and GetFile writes
// pieces as they arrive, so memory use does not grow with file size. Both
// check the sha256 the node reports against the bytes that actually crossed
// the wire (kCorruption on mismatch).
//
// Creating a client does no I/O. A client keeps one keep-alive connection and
// is not thread-safe: give each thread its own.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace httplib {
class Client;
}

namespace tessera::cli {

// A validated node address: "http://HOST:PORT" with an optional trailing '/'.
// HOST is a name, an IPv4 address or a bracketed IPv6 address.
struct NodeUrl {
  std::string host;  // without brackets
  int port = 0;
  std::string ToString() const;  // canonical "http://host:port"
};
// InvalidArgument saying what is wrong, e.g. "node URL 'localhost:8080' must
// start with http:// (e.g. http://127.0.0.1:8080)".
Result<NodeUrl> ParseNodeUrl(std::string_view url);

// Percent-encodes all but A-Z a-z 0-9 - . _ ~ (and '/' if keep_slash).
std::string PercentEncode(std::string_view text, bool keep_slash);

// What a download delivered.
struct FetchedFile {
  uint64_t size = 0;
  std::string sha256;           // hex, computed over the received bytes
  bool sha256_checked = false;  // the node sent an ETag and it matched
};

class NodeClient {
 public:
  // Called as bytes move: (bytes so far in this call, total bytes; 0 if unknown).
  using ProgressFn = std::function<void(uint64_t done, uint64_t total)>;
  // Receives downloaded bytes in order; a non-OK Status aborts the download.
  using SinkFn = std::function<Status(const char* data, size_t size)>;

  static Result<std::unique_ptr<NodeClient>> Create(std::string_view base_url);
  ~NodeClient();
  NodeClient(const NodeClient&) = delete;
  NodeClient& operator=(const NodeClient&) = delete;

  const std::string& url() const { return url_; }

  // Uploads a local regular file (Content-Length from fstat) and returns the
  // node's record of it. IOError if the local file cannot be read or changes
  // size while it is sent.
  Result<nlohmann::json> PutFile(std::string_view ns, std::string_view path,
                                 const std::string& local_path, ProgressFn progress = nullptr);
  // Downloads to `local_path`, following symlinks: a symlink stays and its
  // target (even a missing one) receives the data. A regular file, or a new
  // one, is written as a temporary file beside it that is fsynced and renamed
  // over it only once complete and checked: on any failure nothing is left
  // behind and an existing file is untouched. Any other existing file (a
  // FIFO, a device such as /dev/null) is opened and written as the bytes
  // arrive, like cp(1) does: opening a FIFO waits for a reader, a failure
  // leaves the prefix already written (/dev/full fails with kNoSpace), and a
  // sha256 mismatch is reported after the bytes went out. A directory is
  // kInvalidArgument.
  Result<FetchedFile> GetFile(std::string_view ns, std::string_view path,
                              const std::string& local_path, ProgressFn progress = nullptr);
  // Downloads into `sink` (e.g. stdout); on failure the sink has seen a prefix.
  Result<FetchedFile> GetToSink(std::string_view ns, std::string_view path, const SinkFn& sink,
                                ProgressFn progress = nullptr);
  Result<nlohmann::json> Stat(std::string_view ns, std::string_view path);
  // One page of a listing: {"files": [...], "truncated": bool, "next_marker": ...}.
  // Empty marker: from the start; limit 0: the node's default page size.
  Result<nlohmann::json> List(std::string_view ns, std::string_view prefix, std::string_view marker,
                              uint32_t limit);
  Status Delete(std::string_view ns, std::string_view path);
  Result<nlohmann::json> NodeInfo();

  // Clones and snapshots (docs/api.md): the node's JSON answers.
  Result<nlohmann::json> Clone(const std::string& from, const std::string& to);
  Result<nlohmann::json> CreateSnapshot(const std::string& name,
                                        const std::vector<std::string>& files);
  Result<nlohmann::json> ListSnapshots();
  Result<nlohmann::json> ShowSnapshot(const std::string& name);
  Status DeleteSnapshot(const std::string& name);

 private:
  NodeClient(NodeUrl url, std::unique_ptr<httplib::Client> http);

  Result<nlohmann::json> GetJson(const std::string& target);
  Result<nlohmann::json> PostJson(const std::string& target, const nlohmann::json& body);
  Result<FetchedFile> Download(std::string_view ns, std::string_view path, const SinkFn& sink,
                               const ProgressFn& progress);

  const std::string url_;
  std::unique_ptr<httplib::Client> http_;
};

}  // namespace tessera::cli
