// ImageService: the OpenStack Image API v2 (docs/images.md) over a
// ClusterStore. It holds no state of its own: every image is a JSON record
// at images/<id>.json and its bytes a file under data/<id>/ in the store's
// namespace, so any number of services may serve the same cluster.
//
// Uploads and imports stream: the request body (or the fetched URL) goes to
// the cluster in 1 MiB writes while md5 and sha512 are computed, never held
// whole. While one runs the image carries a lease that its service renews;
// a service that dies leaves a lease that runs out, and the next service to
// read the image puts it back to `queued` and deletes the partial bytes.
//
// Threading: handlers run on the HTTP server's pool; records are read,
// changed and written under a per-image lock within this process. Between
// processes the last writer of a record wins (the node API has no
// conditional PUT yet; see docs/images.md).
#pragma once

#include <httplib.h>

#include <array>
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <unordered_map>
#include <unordered_set>

#include "images/api_status.h"
#include "images/cluster_store.h"

namespace tessera::images {

struct ImageServiceOptions {
  std::string admin_token;     // empty: any X-Auth-Token (or none) is accepted
  int64_t lease_ms = 60'000;   // an upload not renewed for this long is dead
  size_t max_image_bytes = 0;  // 0: no limit beyond the cluster's
};

class ImageService {
 public:
  ImageService(ClusterStore& store, ImageServiceOptions options);
  ~ImageService();  // waits for running imports
  ImageService(const ImageService&) = delete;
  ImageService& operator=(const ImageService&) = delete;

  void Register(httplib::Server& server);
  // Deletes bytes no record refers to (left by a service that died between
  // deleting a record and its bytes). Safe while other services run.
  Status SweepOrphans();

 private:
  using json = nlohmann::json;

  // Recursive: Load may recover an image while its caller holds the lock.
  std::recursive_mutex& LockFor(const std::string& id);
  // The stored record; an expired upload lease is recovered first. A record
  // that is stored but not a record (garbage, wrong types) is a 500 naming
  // it, and sets *unreadable if given.
  ApiStatus Load(const std::string& id, json* record, bool* unreadable = nullptr);
  // LoadRaw notes in the record which stored content it came from; Save then
  // writes only over that content (If-Match), so a read-modify-write racing
  // another image service fails instead of losing the other's change.
  ApiStatus LoadRaw(const std::string& id, json* record,
                    bool* unreadable = nullptr);  // no recovery
  ApiStatus Save(const json& record);
  Status SaveIfUnchanged(const json& record);  // ConditionFailed: re-read and retry
  // Puts an image whose writer died back to `queued` (lock held by caller).
  ApiStatus Recover(json& record);
  // Deletes every file under data/<id>/ except `keep`.
  void RemoveData(const std::string& id, const std::string& keep);
  // Renews the lease if `token` still holds the image; false otherwise.
  bool RenewLease(const std::string& id, const std::string& token, const json& extra);

  // Streams `read` into data/<id>/<token>; on success fills size/checksums.
  struct Stored {
    std::string path;
    uint64_t size = 0;
    std::string md5, sha512;
  };
  using BodyReader = std::function<bool(const std::function<bool(const char*, size_t)>&)>;
  ApiStatus StoreBytes(const std::string& id, const std::string& token,
                       std::optional<uint64_t> length, std::optional<uint64_t> expected_size,
                       const BodyReader& read, bool report_progress, Stored* stored);
  // Takes a queued image for an upload (to `saving` or `uploading`).
  ApiStatus BeginWrite(const std::string& id, const std::string& to_status, std::string* token);
  // Ends it: success → `final_status` with the stored bytes, failure → queued.
  // One try of EndWrite: the answer, or ConditionFailed when its save lost
  // to another writer.
  Result<ApiStatus> EndWriteOnce(const std::string& id, const std::string& token,
                                 const ApiStatus& outcome, const Stored& stored,
                                 const std::string& final_status, const json& on_failure);
  ApiStatus EndWrite(const std::string& id, const std::string& token, const ApiStatus& outcome,
                     const Stored& stored, const std::string& final_status, const json& on_failure);

  void Upload(const httplib::Request& req, httplib::Response& res,
              const httplib::ContentReader& reader, bool stage);
  void Download(const httplib::Request& req, httplib::Response& res);
  void List(const httplib::Request& req, httplib::Response& res);
  void Import(const httplib::Request& req, httplib::Response& res);
  void WebDownload(std::string id, std::string token, std::string uri);
  // POST /v2/images/{id}/actions/clone: a queued image takes a copy-on-write
  // clone of an active image's data or of any cluster file.
  void CloneAction(const httplib::Request& req, httplib::Response& res);
  // md5 and sha512 of a stored file, read back.
  ApiStatus DigestStored(Stored* stored);

  ClusterStore& store_;
  const ImageServiceOptions options_;
  std::array<std::recursive_mutex, 64> locks_;
  // Parsed records by the sha256 the node reports: a listing fetches only
  // records it has not seen. Content-addressed, so never stale.
  std::mutex cache_mu_;
  std::unordered_map<std::string, json> cache_;
  // Contents of unreadable records already reported, so a listing skipping
  // them logs each once.
  std::unordered_set<std::string> reported_unreadable_;
  std::mutex imports_mu_;
  struct ImportThread {
    std::thread thread;
    std::shared_ptr<std::atomic<bool>> done;
  };
  std::list<ImportThread> imports_;  // guarded by imports_mu_
  std::atomic<bool> stopping_{false};
};

}  // namespace tessera::images
