// ClusterStore: the image service's only state, kept in the cluster through
// the node HTTP API (docs/api.md): small JSON documents and streamed blobs
// under one namespace.
//
// `resolve` names a live node ("http://HOST:PORT"); it is asked at first use
// and again whenever the node in use cannot be reached, so with a cluster
// file the service follows whichever node answers. Reads, small writes,
// deletes and listings are retried once on another node; a stream is not
// (its source is consumed), the caller decides. Errors keep the node's code
// (NotFound, NoSpace, ...); an unreachable cluster is Unavailable.
// Thread-safe: connections come from a small pool, one per call in flight.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"

namespace httplib {
class Client;
}

namespace tessera::images {

// The namespace where the nodes keep snapshots (io/clone_store.h).
inline constexpr const char* kSnapshotNamespace = "_snap";

class ClusterStore {
 public:
  using Resolver = std::function<Result<std::string>()>;
  ClusterStore(Resolver resolve, std::string ns);
  ~ClusterStore();
  ClusterStore(const ClusterStore&) = delete;
  ClusterStore& operator=(const ClusterStore&) = delete;

  const std::string& ns() const { return ns_; }

  // The whole (small) file; NotFound when absent.
  Result<std::string> Read(const std::string& path);
  // Creates or atomically replaces a small file. With `if_match` (the sha256
  // of the content it replaces) only if the file still holds that content:
  // ConditionFailed, and nothing written, when another writer got there first.
  Status Write(const std::string& path, const std::string& body,
               const std::optional<std::string>& if_match = std::nullopt);
  // Creates a small file only if there is none (If-None-Match: *):
  // ConditionFailed, and nothing written, when one exists.
  Status Create(const std::string& path, const std::string& body);
  // OK when the file is gone, whether or not it was there.
  Status Remove(const std::string& path);

  struct Entry {
    std::string path;
    uint64_t size = 0;
    std::string sha256;
  };
  // Every file whose path starts with `prefix`, in path order.
  Result<std::vector<Entry>> List(const std::string& prefix);
  // The files of snapshot `snapshot` (`tessera snapshot create`) that were
  // taken from this namespace with paths starting with `prefix`. Each path is
  // the snapshot's copy, "_snap/NAME/NS/PATH", ready for Clone().
  Result<std::vector<Entry>> ListSnapshot(const std::string& snapshot, const std::string& prefix);

  // Streams a new file. `produce` is called once and pushes the bytes through
  // the writer it is given (false: the node is gone, stop); it returns OK to
  // commit, or an error to abort, in which case the node keeps no file and
  // that error is returned. `length`, if known, is sent as Content-Length
  // (else chunked) and `produce` must write exactly that much.
  using Writer = std::function<bool(const char* data, size_t size)>;
  Status WriteStream(const std::string& path, std::optional<uint64_t> length,
                     const std::function<Status(const Writer&)>& produce);

  // Makes `path` a copy-on-write clone of `source` ("NS/PATH", any
  // namespace; the node's POST /v1/clone): no bytes are copied. The clone's
  // size.
  Result<uint64_t> Clone(const std::string& source, const std::string& path);

  // Reads [offset, offset + length) into `sink` (false: stop). A failure
  // part-way returns an error after the sink has seen a prefix; the caller
  // may resume from where it stopped.
  Status ReadRange(const std::string& path, uint64_t offset, uint64_t length,
                   const std::function<bool(const char*, size_t)>& sink);

 private:
  struct Lease;  // a pooled connection, returned on destruction
  Result<std::unique_ptr<httplib::Client>> Acquire(std::string* url);
  void Release(const std::string& url, std::unique_ptr<httplib::Client> client);
  void Forget(const std::string& url);  // the node did not answer: resolve again
  std::string Target(const std::string& path) const;
  Result<std::vector<Entry>> ListIn(const std::string& ns, const std::string& prefix);
  // `condition`: a precondition header ("If-Match", "If-None-Match") and its
  // value, or empty.
  Status PutSmall(const std::string& path, const std::string& body,
                  const std::pair<std::string, std::string>& condition);
  // Runs `call(client)` on a pooled connection and returns `handle(response)`;
  // when the node cannot be reached, resolves a node again and retries once.
  template <typename Call, typename Handle>
  auto WithNode(const std::string& what, Call call, Handle handle);

  const Resolver resolve_;
  const std::string ns_;
  std::mutex mu_;
  std::string url_;                                     // guarded by mu_; "" until resolved
  std::vector<std::unique_ptr<httplib::Client>> pool_;  // guarded by mu_, for url_
};

}  // namespace tessera::images
