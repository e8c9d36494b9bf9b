#include "images/image_service.h"

#include <spdlog/spdlog.h>

#include <chrono>
#include <random>
#include <regex>

#include "common/host_port.h"
#include "common/httplib_quirks.h"
#include "common/object_name.h"
#include "common/sha256.h"
#include "common/thread_name.h"
#include "common/units.h"
#include "images/background_digest.h"
#include "images/image_query.h"
#include "images/image_record.h"
#include "images/image_schemas.h"

namespace tessera::images {
namespace {

using json = nlohmann::json;

constexpr size_t kWriteChunk = 1 << 20;  // bytes per write to the node
// Bytes per send to a downloading client. The node's bytes arrive in 4 KiB
// receives; relaying each as it comes costs the client a read per 4 KiB.
constexpr size_t kRelayChunk = 256 << 10;
constexpr const char* kPatchV21 = "application/openstack-images-v2.1-json-patch";
constexpr const char* kPatchV20 = "application/openstack-images-v2.0-json-patch";
// In a loaded record's internal part, never stored: the sha256 of the
// content it was read from.
constexpr const char* kLoadedFrom = "loaded_from_sha256";
// Re-reads allowed to a write that keeps losing to concurrent changes.
constexpr int kSaveAttempts = 5;

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string NewUuid() {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  uint64_t hi = rng(), lo = rng();
  hi = (hi & ~0xF000ULL) | 0x4000ULL;                  // version 4
  lo = (lo & ~(0xC000ULL << 48)) | (0x8000ULL << 48);  // RFC 4122 variant
  char buf[37];
  std::snprintf(buf, sizeof(buf), "%08x-%04x-%04x-%04x-%012llx", static_cast<unsigned>(hi >> 32),
                static_cast<unsigned>((hi >> 16) & 0xFFFF), static_cast<unsigned>(hi & 0xFFFF),
                static_cast<unsigned>(lo >> 48),
                static_cast<unsigned long long>(lo & 0xFFFFFFFFFFFFULL));
  return buf;
}

std::string RecordPath(const std::string& id) { return "images/" + id + ".json"; }
std::string DataPrefix(const std::string& id) { return "data/" + id + "/"; }

void SendJson(httplib::Response& res, int status, const json& body) {
  res.status = status;
  // An ID from the URL that is not UTF-8 can reach a message: U+FFFD then,
  // not an exception.
  res.set_content(body.dump(-1, ' ', false, json::error_handler_t::replace),
                  "application/json; charset=UTF-8");
}

void SendError(httplib::Response& res, const ApiStatus& error) {
  SendJson(
      res, error.http,
      {{"error",
        {{"code", error.http}, {"title", HttpTitle(error.http)}, {"message", error.message}}}});
}

// For a request whose body will not be read (common/httplib_quirks.h).
void SendErrorAndClose(httplib::Response& res, const ApiStatus& error) {
  SendError(res, error);
  const std::string type = res.get_header_value("Content-Type");
  SendAndClose(res, std::move(res.body), type);
}

bool ParseUint64(const std::string& text, uint64_t* out) {
  std::optional<uint64_t> v = ParseDecimal(text);
  if (v) *out = *v;
  return v.has_value();
}

// The media type without parameters, lowercased.
std::string MediaType(const httplib::Request& req) {
  std::string type = req.get_header_value("Content-Type");
  type = type.substr(0, type.find(';'));
  while (!type.empty() && type.back() == ' ') type.pop_back();
  for (char& c : type) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return type;
}

// Every body but image data is JSON that httplib holds in memory whole, so
// it is capped as Glance caps it (oslo.middleware's max_request_body_size);
// a chunked one cannot be measured before it is read, so it needs a length.
constexpr uint64_t kMaxJsonBody = 114688;

ApiStatus CheckJsonBodySize(const httplib::Request& req) {
  static const std::regex kImageData(R"(/v2/images/[^/]+/(file|stage))");
  if (req.method == "GET" || req.method == "HEAD" || req.method == "DELETE") return ApiStatus::Ok();
  if (req.method == "PUT" && std::regex_match(req.path, kImageData)) return ApiStatus::Ok();
  if (!req.has_header("Content-Length")) {
    return ApiStatus::Error(411, req.method + " " + req.path + " needs a Content-Length");
  }
  const std::string length = req.get_header_value("Content-Length");
  if (length.empty() || length.find_first_not_of("0123456789") != std::string::npos) {
    return ApiStatus::Error(
        400, "Content-Length " + QuoteForMessage(length) + " is not a number of bytes");
  }
  if (length.size() > 12 || std::stoull(length) > kMaxJsonBody) {
    return ApiStatus::Error(413,
                            "Request is larger than " + std::to_string(kMaxJsonBody) + " bytes.");
  }
  return ApiStatus::Ok();
}

// http://HOST[:PORT][/PATH], checked before the image changes state, so a
// typo is a 400 rather than an import that fails later with a vague error.
ApiStatus CheckWebDownloadUri(const std::string& uri) {
  auto bad = [&](const std::string& why) {
    return ApiStatus::Error(400, "web-download uri " + QuoteForMessage(uri) + ": " + why);
  };
  if (uri.rfind("http://", 0) != 0) return bad("only http:// is supported");
  const std::string rest = uri.substr(7);
  const std::string authority = rest.substr(0, rest.find('/'));
  if (authority.empty()) return bad("no host");
  for (unsigned char c : uri) {
    if (c <= ' ' || c == 0x7f) return bad("spaces and control characters must be %-encoded");
  }
  const bool has_port = authority.back() != ']' && authority.find(':') != std::string::npos;
  if (Result<HostPort> parsed = ParseHostPort(has_port ? authority : authority + ":80", "host");
      !parsed.ok()) {
    return bad(parsed.status().message());
  }
  return ApiStatus::Ok();
}

ApiStatus ParseJsonBody(const std::string& body, json* out) {
  try {
    *out = json::parse(body);
  } catch (const json::parse_error& e) {
    return ApiStatus::Error(400, std::string("Malformed JSON in request body: ") + e.what());
  }
  return ApiStatus::Ok();
}

std::string HtmlEscape(const std::string& text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

// Glance answers errors the way webob does: an HTML page unless the client
// asks for JSON. The glance CLI strips the tags and shows
// "404 Not Found: <message>", so the status is in what operators read.
void ErrorsAsGlanceDoes(const httplib::Request& req, httplib::Response& res) {
  if (res.status < 400 || req.get_header_value("Accept").find("json") != std::string::npos) return;
  if (res.get_header_value("Content-Type").rfind("application/json", 0) != 0) return;
  std::string message;
  try {
    message = json::parse(res.body).at("error").value("message", "");
  } catch (const std::exception&) {
    return;
  }
  std::string title = std::to_string(res.status) + " " + HttpTitle(res.status);
  res.set_content("<html>\n <head>\n  <title>" + title + "</title>\n </head>\n <body>\n  <h1>" +
                      title + "</h1>\n  " + HtmlEscape(message) +
                      "<br /><br />\n\n\n\n </body>\n</html>",
                  "text/html; charset=UTF-8");
  // httplib has already set Content-Length for the JSON body.
  res.headers.erase("Content-Length");
  res.set_header("Content-Length", std::to_string(res.body.size()));
}

json NullableString(const std::string& s) { return s.empty() ? json(nullptr) : json(s); }

}  // namespace

ImageService::ImageService(ClusterStore& store, ImageServiceOptions options)
    : store_(store), options_(std::move(options)) {}

ImageService::~ImageService() {
  stopping_ = true;
  std::list<ImportThread> imports;
  {
    std::lock_guard lock(imports_mu_);
    imports.swap(imports_);
  }
  for (ImportThread& i : imports) i.thread.join();
}

std::recursive_mutex& ImageService::LockFor(const std::string& id) {
  return locks_[std::hash<std::string>{}(id) % locks_.size()];
}

ApiStatus ImageService::LoadRaw(const std::string& id, json* record, bool* unreadable) {
  if (!IsUuid(id)) return ApiStatus::Error(404, "No image found with ID " + id);
  Result<std::string> text = store_.Read(RecordPath(id));
  if (!text.ok()) {
    if (text.status().code() == StatusCode::kNotFound) {
      return ApiStatus::Error(404, "No image found with ID " + id);
    }
    return ApiStatus::FromStatus(text.status());
  }
  auto refuse = [&](const std::string& why) {
    if (unreadable != nullptr) *unreadable = true;
    return ApiStatus::Error(500, "image record " + id + " is unreadable: " + why);
  };
  try {
    *record = json::parse(*text);
  } catch (const json::parse_error& e) {
    return refuse(e.what());
  }
  if (ApiStatus s = CheckStoredRecord(*record); !s.ok()) return refuse(s.message);
  Internal(*record)[kLoadedFrom] = Sha256::Hex(*text);
  return ApiStatus::Ok();
}

Status ImageService::SaveIfUnchanged(const json& record) {
  json stored = record;
  std::optional<std::string> loaded_from;
  json& internal = Internal(stored);
  if (internal.contains(kLoadedFrom)) {
    loaded_from = internal[kLoadedFrom].get<std::string>();
    internal.erase(kLoadedFrom);
  }
  return store_.Write(RecordPath(record.value("id", "")), stored.dump(), loaded_from);
}

ApiStatus ImageService::Save(const json& record) {
  return ApiStatus::FromStatus(SaveIfUnchanged(record));
}

void ImageService::RemoveData(const std::string& id, const std::string& keep) {
  Result<std::vector<ClusterStore::Entry>> files = store_.List(DataPrefix(id));
  if (!files.ok()) {
    spdlog::warn("image {}: cannot list its data to clean up: {}", id, files.status().ToString());
    return;
  }
  for (const ClusterStore::Entry& f : *files) {
    if (f.path == keep) continue;
    if (Status s = store_.Remove(f.path); !s.ok()) {
      spdlog::warn("image {}: cannot delete {}: {}", id, f.path, s.ToString());
    }
  }
}

ApiStatus ImageService::Recover(json& record) {
  std::string id = record.value("id", "");
  std::string was = record.value("status", "");
  spdlog::warn("image {}: the {} that held it stopped renewing its lease; back to queued", id, was);
  RemoveData(id, DataPath(record));
  json& internal = Internal(record);
  internal.erase("lease_token");
  internal.erase("lease_expires_ms");
  internal.erase("staged");
  if (was == "importing") record["os_glance_failed_import"] = "cluster";
  record.erase("tessera_import_bytes");
  record["status"] = "queued";
  record["updated_at"] = IsoTime(NowMs());
  if (ApiStatus s = Save(record); !s.ok()) return s;
  return LoadRaw(id, &record);  // the content a later write must replace
}

ApiStatus ImageService::Load(const std::string& id, json* record, bool* unreadable) {
  if (ApiStatus s = LoadRaw(id, record, unreadable); !s.ok()) return s;
  if (!LeaseExpired(*record, NowMs())) return ApiStatus::Ok();
  std::lock_guard lock(LockFor(id));
  if (ApiStatus s = LoadRaw(id, record, unreadable); !s.ok()) return s;
  if (!LeaseExpired(*record, NowMs())) return ApiStatus::Ok();
  return Recover(*record);
}

bool ImageService::RenewLease(const std::string& id, const std::string& token, const json& extra) {
  std::lock_guard lock(LockFor(id));
  for (int attempt = 0; attempt < kSaveAttempts; ++attempt) {
    json record;
    if (!LoadRaw(id, &record).ok()) return false;
    json& internal = Internal(record);
    if (internal.value("lease_token", "") != token) return false;
    internal["lease_expires_ms"] = NowMs() + options_.lease_ms;
    for (const auto& [k, v] : extra.items()) record[k] = v;
    Status saved = SaveIfUnchanged(record);
    if (saved.code() != StatusCode::kConditionFailed) return saved.ok();
  }
  return false;
}

ApiStatus ImageService::BeginWrite(const std::string& id, const std::string& to_status,
                                   std::string* token) {
  std::lock_guard lock(LockFor(id));
  json record;
  if (ApiStatus s = Load(id, &record); !s.ok()) return s;
  std::string status = record.value("status", "");
  if (status != "queued") {
    return ApiStatus::Error(
        409, "Image status transition from " + status + " to " + to_status + " is not allowed");
  }
  if (record["disk_format"].is_null() || record["container_format"].is_null()) {
    return ApiStatus::Error(400,
                            "Properties disk_format, container_format must be set prior to "
                            "saving data.");
  }
  *token = NewUuid();
  json& internal = Internal(record);
  internal["lease_token"] = *token;
  internal["lease_expires_ms"] = NowMs() + options_.lease_ms;
  record["status"] = to_status;
  record["updated_at"] = IsoTime(NowMs());
  return Save(record);
}

ApiStatus ImageService::EndWrite(const std::string& id, const std::string& token,
                                 const ApiStatus& outcome, const Stored& stored,
                                 const std::string& final_status, const json& on_failure) {
  std::lock_guard lock(LockFor(id));
  // A change made meanwhile by another service (a PATCH) is re-read.
  for (int attempt = 0; attempt < kSaveAttempts; ++attempt) {
    Result<ApiStatus> ended = EndWriteOnce(id, token, outcome, stored, final_status, on_failure);
    if (ended.ok()) return *ended;
  }
  return ApiStatus::Error(409, "Image " + id + " kept changing while it was saved");
}

Result<ApiStatus> ImageService::EndWriteOnce(const std::string& id, const std::string& token,
                                             const ApiStatus& outcome, const Stored& stored,
                                             const std::string& final_status,
                                             const json& on_failure) {
  // ConditionFailed goes back to EndWrite to read again; any other error
  // is the answer.
  auto save = [&](const json& record) -> Result<ApiStatus> {
    Status saved = SaveIfUnchanged(record);
    if (saved.code() == StatusCode::kConditionFailed) return saved;
    return ApiStatus::FromStatus(saved);
  };
  json record;
  ApiStatus loaded = LoadRaw(id, &record);
  bool ours = loaded.ok() && Internal(record).value("lease_token", "") == token;
  if (!outcome.ok() || !ours) {
    if (!stored.path.empty()) (void)store_.Remove(stored.path);
    if (ours) {
      json& internal = Internal(record);
      internal.erase("lease_token");
      internal.erase("lease_expires_ms");
      record["status"] = "queued";
      record.erase("tessera_import_bytes");
      for (const auto& [k, v] : on_failure.items()) record[k] = v;
      record["updated_at"] = IsoTime(NowMs());
      Result<ApiStatus> saved = save(record);
      if (!saved.ok() || !saved->ok()) return saved;
    }
    if (!outcome.ok()) return outcome;
    if (loaded.http == 404)
      return ApiStatus::Error(410, "Image " + id + " was deleted during the upload");
    return ApiStatus::Error(409, "Image " + id + " was taken over by another upload");
  }
  json& internal = Internal(record);
  internal.erase("lease_token");
  internal.erase("lease_expires_ms");
  record.erase("tessera_import_bytes");
  record.erase("os_glance_failed_import");
  record["size"] = stored.size;
  record["checksum"] = stored.md5;
  record["os_hash_algo"] = "sha512";
  record["os_hash_value"] = stored.sha512;
  record["status"] = final_status;
  record["updated_at"] = IsoTime(NowMs());
  if (final_status == "active") {
    internal["data"] = stored.path;
    internal.erase("staged");
  } else {
    internal["staged"] = stored.path;
  }
  return save(record);
}

ApiStatus ImageService::StoreBytes(const std::string& id, const std::string& token,
                                   std::optional<uint64_t> length,
                                   std::optional<uint64_t> expected_size, const BodyReader& read,
                                   bool report_progress, Stored* stored) {
  stored->path = DataPrefix(id) + token;
  BackgroundDigest digest;  // hashes block n while block n+1 goes to the node
  uint64_t total = 0;
  ApiStatus failure;
  // Imports also report their progress in the record each time they renew,
  // so renew at least every 2 s for them.
  const int64_t period =
      report_progress ? std::min<int64_t>(options_.lease_ms / 3, 2000) : options_.lease_ms / 3;
  int64_t renew_at = NowMs() + period;
  Status written = store_.WriteStream(stored->path, length, [&](const ClusterStore::Writer& write) {
    auto buffer = std::make_shared<std::string>();
    buffer->reserve(kWriteChunk);
    auto flush = [&] {
      std::shared_ptr<const std::string> block = std::move(buffer);
      buffer = std::make_shared<std::string>();
      buffer->reserve(kWriteChunk);
      digest.Add(block);
      return write(block->data(), block->size());
    };
    bool sink_ok = true;
    bool complete = read([&](const char* data, size_t size) {
      total += size;
      if (expected_size && total > *expected_size) {
        failure = ApiStatus::Error(400, "Image data is larger than x-openstack-image-size " +
                                            std::to_string(*expected_size));
        return false;
      }
      if (options_.max_image_bytes && total > options_.max_image_bytes) {
        failure = ApiStatus::Error(413, "Image exceeds the storage quota");
        return false;
      }
      buffer->append(data, size);
      if (buffer->size() >= kWriteChunk && !(sink_ok = flush())) return false;
      if (NowMs() >= renew_at) {
        json extra = report_progress ? json{{"tessera_import_bytes", std::to_string(total)}}
                                     : json::object();
        if (!RenewLease(id, token, extra)) {
          failure = ApiStatus::Error(409, "Image " + id + " is no longer held by this upload");
          return false;
        }
        renew_at = NowMs() + period;
      }
      return true;
    });
    if (!failure.ok()) return Status::InvalidArgument(failure.message);
    if (!sink_ok) return Status::Unavailable("the node stopped taking the image's bytes");
    if (!complete) {
      failure = ApiStatus::Error(400, "The image data was cut short");
      return Status::InvalidArgument(failure.message);
    }
    if (expected_size && total != *expected_size) {
      failure = ApiStatus::Error(400, "Image data has " + std::to_string(total) +
                                          " bytes but x-openstack-image-size says " +
                                          std::to_string(*expected_size));
      return Status::InvalidArgument(failure.message);
    }
    if (!buffer->empty() && !flush()) {
      return Status::Unavailable("the node stopped taking the image's bytes");
    }
    return Status::Ok();
  });
  if (!failure.ok()) return failure;
  if (!written.ok()) return ApiStatus::FromStatus(written);
  stored->size = total;
  digest.Finish(&stored->md5, &stored->sha512);
  return ApiStatus::Ok();
}

void ImageService::Upload(const httplib::Request& req, httplib::Response& res,
                          const httplib::ContentReader& reader, bool stage) {
  std::string id = req.matches[1];
  if (MediaType(req) != "application/octet-stream") {
    return SendError(res, ApiStatus::Error(415, "Content-Type must be application/octet-stream"));
  }
  std::optional<uint64_t> expected;
  if (req.has_header("x-openstack-image-size")) {
    uint64_t v = 0;
    if (!ParseUint64(req.get_header_value("x-openstack-image-size"), &v)) {
      return SendError(res, ApiStatus::Error(400, "x-openstack-image-size must be a byte count"));
    }
    expected = v;
  }
  std::optional<uint64_t> length;
  bool chunked = req.get_header_value("Transfer-Encoding").find("chunked") != std::string::npos;
  if (req.has_header("Content-Length") && !chunked) {
    uint64_t v = 0;
    if (!ParseUint64(req.get_header_value("Content-Length"), &v)) {
      return SendError(res, ApiStatus::Error(400, "bad Content-Length"));
    }
    length = v;
    if (expected && *expected != v) {
      return SendError(
          res, ApiStatus::Error(400, "x-openstack-image-size " + std::to_string(*expected) +
                                         " differs from Content-Length " + std::to_string(v)));
    }
  }
  std::string token;
  if (ApiStatus s = BeginWrite(id, stage ? "uploading" : "saving", &token); !s.ok()) {
    return SendError(res, s);
  }
  Stored stored;
  ApiStatus outcome = StoreBytes(
      id, token, length, expected,
      [&](const std::function<bool(const char*, size_t)>& sink) {
        return reader([&](const char* data, size_t size) { return sink(data, size); });
      },
      false, &stored);
  if (!outcome.ok()) {
    spdlog::warn("image {}: upload failed: {}", id, outcome.message);
  }
  ApiStatus ended =
      EndWrite(id, token, outcome, stored, stage ? "uploading" : "active", json::object());
  if (!ended.ok()) return SendError(res, ended);
  res.status = 204;
}

void ImageService::Download(const httplib::Request& req, httplib::Response& res) {
  std::string id = req.matches[1];
  json record;
  if (ApiStatus s = Load(id, &record); !s.ok()) return SendError(res, s);
  if (record.value("status", "") == "deactivated") {
    return SendError(res, ApiStatus::Error(403,
                                           "The requested image has been deactivated. Image "
                                           "data download is forbidden."));
  }
  std::string path = DataPath(record);
  if (path.empty() || record.value("status", "") != "active") {
    res.status = 204;
    return;
  }
  uint64_t size = record.value("size", uint64_t{0});
  res.set_header("Accept-Ranges", "bytes");
  if (!req.ranges.empty()) {
    if (req.ranges.size() != 1 || !FitRangesTo(req, size)) {
      SendError(res, ApiStatus::Error(416, "Range " + req.get_header_value("Range") +
                                               " is outside the image's " + std::to_string(size) +
                                               " bytes"));
      res.set_header("Content-Range", "bytes */" + std::to_string(size));
      return;
    }
  } else if (record["checksum"].is_string()) {
    res.set_header("Content-MD5", record["checksum"].get<std::string>());
  }
  if (size == 0) {
    res.set_content("", "application/octet-stream");
    return;
  }
  // httplib slices a Range itself and calls with the offsets to send. A read
  // that fails part-way is resumed where it stopped (another node may serve
  // it); the client only sees a short body if that fails too.
  res.set_content_provider(
      size, "application/octet-stream",
      [this, path, id](size_t offset, size_t length, httplib::DataSink& sink) {
        uint64_t done = 0;  // bytes read from the cluster, relayed or pending
        bool client_gone = false;
        std::string pending;
        pending.reserve(kRelayChunk);
        auto relay = [&] {
          bool sent = pending.empty() || sink.write(pending.data(), pending.size());
          pending.clear();
          return sent;
        };
        // Retried while reads keep failing for less than 15 s: long enough
        // for a cluster to re-form its group after a node dies.
        auto give_up_at = std::chrono::steady_clock::now() + std::chrono::seconds(15);
        for (int attempt = 1; done < length; ++attempt) {
          uint64_t before = done;
          Status s =
              store_.ReadRange(path, offset + done, length - done, [&](const char* d, size_t n) {
                pending.append(d, n);
                done += n;
                if (pending.size() >= kRelayChunk && !relay()) {
                  client_gone = true;
                  return false;
                }
                return true;
              });
          if (client_gone) return false;
          if (done == length) break;
          if (s.ok()) s = Status::Internal("short read");
          auto now = std::chrono::steady_clock::now();
          if (done > before) give_up_at = now + std::chrono::seconds(15);
          // Waiting cannot mend a refused read (a bad range) or a file
          // that is gone (the image was deleted).
          const bool lasting =
              s.code() == StatusCode::kInvalidArgument || s.code() == StatusCode::kNotFound;
          if (lasting || now >= give_up_at) {
            spdlog::error("image {}: giving up reading at {}: {}", id, offset + done, s.ToString());
            return false;  // closes the connection: the client sees a short body
          }
          spdlog::warn("image {}: read at {} failed (attempt {}): {}", id, offset + done, attempt,
                       s.ToString());
          std::this_thread::sleep_for(std::chrono::milliseconds(std::min(250 * attempt, 1000)));
        }
        return relay();
      });
}

void ImageService::List(const httplib::Request& req, httplib::Response& res) {
  std::multimap<std::string, std::string> params(req.params.begin(), req.params.end());
  ListQuery query;
  if (ApiStatus s = ParseListQuery(params, &query); !s.ok()) return SendError(res, s);
  Result<std::vector<ClusterStore::Entry>> entries = store_.List("images/");
  if (!entries.ok()) return SendError(res, ApiStatus::FromStatus(entries.status()));
  std::vector<json> records;
  records.reserve(entries->size());
  int64_t now = NowMs();
  for (const ClusterStore::Entry& e : *entries) {
    {
      std::lock_guard lock(cache_mu_);
      auto it = cache_.find(e.sha256);
      if (it != cache_.end() && !LeaseExpired(it->second, now)) {
        records.push_back(it->second);
        continue;
      }
    }
    std::string id = e.path.substr(7, e.path.size() - 7 - 5);  // images/<id>.json
    json record;
    bool unreadable = false;
    ApiStatus s = Load(id, &record, &unreadable);
    if (s.http == 404) continue;  // deleted since the listing
    if (unreadable) {
      // One damaged record must not hide every other image; it stays
      // visible to GET and DELETE by its ID.
      std::lock_guard lock(cache_mu_);
      if (reported_unreadable_.insert(e.sha256).second) {
        spdlog::error("image listing skips {}: {}", id, s.message);
      }
      continue;
    }
    if (!s.ok()) return SendError(res, s);
    std::lock_guard lock(cache_mu_);
    if (cache_.size() > 200'000) cache_.clear();
    cache_[e.sha256] = record;
    records.push_back(std::move(record));
  }
  ListPage page;
  if (ApiStatus s = SelectPage(std::move(records), query, &page); !s.ok()) return SendError(res, s);
  json body = {
      {"images", json::array()}, {"first", "/v2/images"}, {"schema", "/v2/schemas/images"}};
  for (const json& r : page.images) body["images"].push_back(ToApiImage(r));
  if (page.more && !page.images.empty()) {
    std::string next = "/v2/images?";
    for (const auto& [k, v] : req.params) {
      if (k == "marker") continue;
      next += httplib::detail::encode_query_param(k) + "=" +
              httplib::detail::encode_query_param(v) + "&";
    }
    next += "marker=" + page.images.back().value("id", "");
    body["next"] = next;
  }
  SendJson(res, 200, body);
}

void ImageService::Import(const httplib::Request& req, httplib::Response& res) {
  std::string id = req.matches[1];
  json body;
  if (ApiStatus s = ParseJsonBody(req.body, &body); !s.ok()) return SendError(res, s);
  if (!body.is_object() || !body.contains("method") || !body["method"].is_object() ||
      !body["method"].contains("name") || !body["method"]["name"].is_string()) {
    return SendError(res,
                     ApiStatus::Error(400, "The import body needs {\"method\": {\"name\": ...}}"));
  }
  std::string method = body["method"]["name"];
  if (method == "glance-direct") {
    std::lock_guard lock(LockFor(id));
    json record;
    if (ApiStatus s = Load(id, &record); !s.ok()) return SendError(res, s);
    json& internal = Internal(record);
    if (record.value("status", "") != "uploading" || !internal.contains("staged") ||
        internal.contains("lease_token")) {
      return SendError(
          res, ApiStatus::Error(409, "Image " + id + " has no staged data to import (status " +
                                         record.value("status", "") + ")"));
    }
    // The staged bytes are already in the cluster with their checksums: the
    // import only makes them the image's data.
    internal["data"] = internal["staged"];
    internal.erase("staged");
    record["status"] = "active";
    record["updated_at"] = IsoTime(NowMs());
    if (ApiStatus s = Save(record); !s.ok()) return SendError(res, s);
    res.status = 202;
    return;
  }
  if (method != "web-download") {
    return SendError(res, ApiStatus::Error(400, "Import method " + method +
                                                    " is not supported; "
                                                    "use glance-direct or web-download"));
  }
  const json& uri_json = body["method"].contains("uri") ? body["method"]["uri"] : json();
  if (!uri_json.is_string()) {
    return SendError(
        res, ApiStatus::Error(400, "web-download needs a 'uri' string, got " + uri_json.dump()));
  }
  const std::string uri = uri_json;
  if (ApiStatus s = CheckWebDownloadUri(uri); !s.ok()) return SendError(res, s);
  std::string token;
  if (ApiStatus s = BeginWrite(id, "importing", &token); !s.ok()) return SendError(res, s);
  std::lock_guard lock(imports_mu_);
  for (auto it = imports_.begin(); it != imports_.end();) {
    // Finished imports are joined as new ones start.
    if (*it->done) {
      it->thread.join();
      it = imports_.erase(it);
    } else {
      ++it;
    }
  }
  auto done = std::make_shared<std::atomic<bool>>(false);
  imports_.push_back({std::thread([this, id, token, uri, done] {
                        SetThreadName("image-import");
                        WebDownload(id, token, uri);
                        *done = true;
                      }),
                      done});
  res.status = 202;
}

ApiStatus ImageService::DigestStored(Stored* stored) {
  BackgroundDigest digest;
  Status read = store_.ReadRange(stored->path, 0, stored->size, [&](const char* data, size_t n) {
    digest.Add(std::make_shared<const std::string>(data, n));
    return true;
  });
  digest.Finish(&stored->md5, &stored->sha512);
  return read.ok() ? ApiStatus::Ok() : ApiStatus::FromStatus(read);
}

void ImageService::CloneAction(const httplib::Request& req, httplib::Response& res) {
  const std::string id = req.matches[1];
  json body;
  if (ApiStatus s = ParseJsonBody(req.body, &body); !s.ok()) return SendError(res, s);
  const bool from_image = body.is_object() && body.contains("source_image");
  const bool from_file = body.is_object() && body.contains("source_file");
  const bool in_snapshot = body.is_object() && body.contains("source_snapshot");
  if (from_image == from_file || !body[from_image ? "source_image" : "source_file"].is_string() ||
      (in_snapshot && (!from_image || !body["source_snapshot"].is_string()))) {
    return SendError(res, ApiStatus::Error(400,
                                           "The clone body needs one of {\"source_image\": ID}, "
                                           "{\"source_image\": ID, \"source_snapshot\": NAME} or "
                                           "{\"source_file\": \"NS/PATH\"}"));
  }
  const std::string source = body[from_image ? "source_image" : "source_file"];
  if (from_file && source.rfind(store_.ns() + "/", 0) == 0) {
    // Records live there, and an image's bytes are cloned by its image id.
    return SendError(res, ApiStatus::Error(403,
                                           "source_file may not be in the image service's "
                                           "own namespace '" +
                                               store_.ns() +
                                               "'; clone an image by "
                                               "source_image"));
  }
  Stored stored;
  std::string from = source;
  std::string clone_of = (from_image ? "image " : "file ") + source;
  if (in_snapshot) {
    // The image's bytes as snapshot NAME took them: the one file it holds
    // under the image's data prefix (`tessera snapshot create NAME
    // NS/data/ID/`). Their digests are computed again below.
    const std::string snapshot = body["source_snapshot"];
    if (snapshot.empty() || snapshot.find('/') != std::string::npos || !IsUuid(source)) {
      return SendError(res, ApiStatus::Error(400,
                                             "source_snapshot must be a snapshot name and "
                                             "source_image an image id"));
    }
    Result<std::vector<ClusterStore::Entry>> taken =
        store_.ListSnapshot(snapshot, DataPrefix(source));
    if (!taken.ok()) return SendError(res, ApiStatus::FromStatus(taken.status()));
    if (taken->size() != 1) {
      return SendError(
          res, ApiStatus::Error(404, "Snapshot " + snapshot + " holds no data of image " + source));
    }
    from = taken->front().path;
    clone_of += " in snapshot " + snapshot;
  } else if (from_image) {
    json image;
    if (ApiStatus s = Load(source, &image); !s.ok()) return SendError(res, s);
    const std::string status = image.value("status", "");
    if ((status != "active" && status != "deactivated") || DataPath(image).empty()) {
      return SendError(
          res, ApiStatus::Error(409, "Image " + source + " has no data to clone (" + status + ")"));
    }
    from = store_.ns() + "/" + DataPath(image);
    stored.md5 = image.value("checksum", "");
    stored.sha512 = image.value("os_hash_value", "");
  }
  std::string token;
  if (ApiStatus s = BeginWrite(id, "saving", &token); !s.ok()) return SendError(res, s);
  stored.path = DataPrefix(id) + token;
  ApiStatus outcome;
  Result<uint64_t> size = store_.Clone(from, stored.path);
  if (!size.ok()) {
    outcome = size.status().code() == StatusCode::kNotFound
                  ? ApiStatus::Error(404, "No file " + source + " in the cluster to clone")
                  : ApiStatus::FromStatus(size.status());
  } else {
    stored.size = *size;
    // A file's digests are not known: read it back once (the bytes stay shared).
    if (!from_image || in_snapshot) outcome = DigestStored(&stored);
  }
  if (ApiStatus s = EndWrite(id, token, outcome, stored, "active", json::object()); !s.ok()) {
    return SendError(res, s);
  }
  {
    std::lock_guard lock(LockFor(id));
    json record;
    if (ApiStatus s = Load(id, &record); !s.ok()) return SendError(res, s);
    record["tessera_clone_of"] = clone_of;
    if (ApiStatus s = Save(record); !s.ok()) return SendError(res, s);
  }
  res.status = 204;
}

void ImageService::WebDownload(std::string id, std::string token, std::string uri) {
  std::string rest = uri.substr(7);
  size_t slash = rest.find('/');
  std::string host = rest.substr(0, slash);
  std::string target = slash == std::string::npos ? "/" : rest.substr(slash);
  httplib::Client source("http://" + host);
  source.set_connection_timeout(10, 0);
  source.set_read_timeout(60, 0);
  source.set_follow_location(true);
  int source_status = 0;
  std::string source_error;
  Stored stored;
  ApiStatus outcome = StoreBytes(
      id, token, std::nullopt, std::nullopt,
      [&](const std::function<bool(const char*, size_t)>& sink) {
        httplib::Result r = source.Get(
            target,
            [&](const httplib::Response& response) {
              source_status = response.status;
              return response.status == 200;
            },
            [&](const char* data, size_t size) { return !stopping_ && sink(data, size); });
        if (!r && source_status == 0) source_error = httplib::to_string(r.error());
        return static_cast<bool>(r) && source_status == 200;
      },
      true, &stored);
  if (outcome.ok() && source_status != 200) {
    outcome = ApiStatus::Error(400, "GET " + uri + " answered " + std::to_string(source_status));
  }
  if (!outcome.ok()) {
    if (!source_error.empty()) outcome.message = "GET " + uri + ": " + source_error;
    spdlog::warn("image {}: web-download of {} failed: {}", id, uri, outcome.message);
  } else {
    spdlog::info("image {}: imported {} bytes from {}", id, stored.size, uri);
  }
  ApiStatus ended =
      EndWrite(id, token, outcome, stored, "active",
               {{"os_glance_failed_import", "cluster"}, {"tessera_import_error", outcome.message}});
  if (!ended.ok() && outcome.ok()) {
    spdlog::error("image {}: cannot record the import: {}", id, ended.message);
  }
}

Status ImageService::SweepOrphans() {
  Result<std::vector<ClusterStore::Entry>> data = store_.List("data/");
  if (!data.ok()) return data.status();
  std::string last;
  for (const ClusterStore::Entry& e : *data) {
    std::string id = e.path.substr(5, e.path.find('/', 5) - 5);
    if (id == last) continue;
    last = id;
    json record;
    ApiStatus s = LoadRaw(id, &record);
    if (s.http == 404) {
      spdlog::info("image {}: deleting bytes of a deleted image", id);
      RemoveData(id, "");
    } else if (!s.ok()) {
      spdlog::warn("image {}: keeping its bytes: {}", id, s.message);
    }
  }
  return Status::Ok();
}

void ImageService::Register(httplib::Server& server) {
  server.set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
    if (BodyWithoutLength(req)) {
      SendErrorAndClose(res, ApiStatus::Error(411, req.method + " needs a Content-Length or "
                                                                "Transfer-Encoding: chunked"));
      return httplib::Server::HandlerResponse::Handled;
    }
    if (ApiStatus s = CheckJsonBodySize(req); !s.ok()) {
      SendErrorAndClose(res, s);
      return httplib::Server::HandlerResponse::Handled;
    }
    if (options_.admin_token.empty() || req.path == "/" || req.path == "/versions") {
      return httplib::Server::HandlerResponse::Unhandled;
    }
    if (req.get_header_value("X-Auth-Token") != options_.admin_token) {
      SendError(res, ApiStatus::Error(401,
                                      "This server could not verify that you are authorized "
                                      "to access the document you requested."));
      return httplib::Server::HandlerResponse::Handled;
    }
    return httplib::Server::HandlerResponse::Unhandled;
  });
  // A request no route takes gets an error body too, as Glance gives.
  server.set_error_handler(
      httplib::Server::HandlerWithResponse([](const httplib::Request& req, httplib::Response& res) {
        ServeWhole(req);
        if (res.body.empty() && !res.has_header("Content-Type")) {
          SendError(res, ApiStatus::Error(res.status, res.status == 404
                                                          ? "The resource could not be found."
                                                          : HttpTitle(res.status)));
        }
        // Handled: only then does httplib give the body its Content-Length;
        // without one a keep-alive client waits for the connection to close.
        return httplib::Server::HandlerResponse::Handled;
      }));
  server.set_post_routing_handler(ErrorsAsGlanceDoes);
  auto base_url = [](const httplib::Request& req) {
    return "http://" + req.get_header_value("Host");
  };
  server.Get("/versions", [base_url](const httplib::Request& req, httplib::Response& res) {
    SendJson(res, 200, VersionsDocument(base_url(req)));
  });
  server.Get("/", [base_url](const httplib::Request& req, httplib::Response& res) {
    SendJson(res, 300, VersionsDocument(base_url(req)));
  });
  server.Get("/v2/schemas/image", [](const httplib::Request&, httplib::Response& res) {
    SendJson(res, 200, ImageSchema());
  });
  server.Get("/v2/schemas/images", [](const httplib::Request&, httplib::Response& res) {
    SendJson(res, 200, ImagesSchema());
  });
  server.Get("/v2/schemas/metadefs/namespace", [](const httplib::Request&, httplib::Response& res) {
    SendJson(res, 200, MetadefsNamespaceSchema());
  });
  server.Get("/v2/schemas/metadefs/resource_type",
             [](const httplib::Request&, httplib::Response& res) {
               SendJson(res, 200, MetadefsResourceTypeSchema());
             });
  server.Get("/v2/info/import", [](const httplib::Request&, httplib::Response& res) {
    SendJson(res, 200,
             {{"import-methods",
               {{"description", "Import methods available."},
                {"type", "array"},
                {"value", {"glance-direct", "web-download"}}}}});
  });
  server.Get("/v2/images",
             [this](const httplib::Request& req, httplib::Response& res) { List(req, res); });
  server.Post("/v2/images", [this](const httplib::Request& req, httplib::Response& res) {
    json body;
    if (ApiStatus s = ParseJsonBody(req.body, &body); !s.ok()) return SendError(res, s);
    std::string owner = req.get_header_value("X-Project-Id");
    if (owner.empty()) owner = req.get_header_value("X-Tenant-Id");
    json record;
    int64_t now = NowMs();
    if (ApiStatus s = NewImageRecord(body, NewUuid(), NullableString(owner), now, &record);
        !s.ok()) {
      return SendError(res, s);
    }
    std::string id = record["id"];
    // A create that never replaces, so that two services given the same
    // client-chosen id cannot both answer 201.
    if (Status s = store_.Create(RecordPath(id), record.dump()); !s.ok()) {
      if (s.code() == StatusCode::kConditionFailed) {
        return SendError(res,
                         ApiStatus::Error(409, "Image with identifier " + id + " already exists!"));
      }
      return SendError(res, ApiStatus::FromStatus(s));
    }
    res.set_header("Location", "/v2/images/" + id);
    SendJson(res, 201, ToApiImage(record));
  });
  const std::string image = R"(/v2/images/([^/]+))";
  server.Get(image, [this](const httplib::Request& req, httplib::Response& res) {
    json record;
    if (ApiStatus s = Load(req.matches[1], &record); !s.ok()) return SendError(res, s);
    SendJson(res, 200, ToApiImage(record));
  });
  server.Patch(image, [this](const httplib::Request& req, httplib::Response& res) {
    std::string type = MediaType(req);
    if (type != kPatchV21 && type != kPatchV20) {
      res.set_header("Accept-Patch", std::string(kPatchV20) + ", " + kPatchV21);
      return SendError(
          res, ApiStatus::Error(415, "Unsupported Content-Type '" + type + "'; use " + kPatchV21));
    }
    json patch;
    if (ApiStatus s = ParseJsonBody(req.body, &patch); !s.ok()) return SendError(res, s);
    std::string id = req.matches[1];
    std::lock_guard lock(LockFor(id));
    json record;
    if (ApiStatus s = Load(id, &record); !s.ok()) return SendError(res, s);
    if (ApiStatus s = ApplyPatch(record, patch, type == kPatchV21, NowMs()); !s.ok()) {
      return SendError(res, s);
    }
    if (ApiStatus s = Save(record); !s.ok()) return SendError(res, s);
    SendJson(res, 200, ToApiImage(record));
  });
  server.Delete(image, [this](const httplib::Request& req, httplib::Response& res) {
    std::string id = req.matches[1];
    {
      std::lock_guard lock(LockFor(id));
      json record;
      bool unreadable = false;
      ApiStatus loaded = LoadRaw(id, &record, &unreadable);
      if (!loaded.ok() && !unreadable) return SendError(res, loaded);
      // An unreadable record can only be deleted: nothing can use it. One
      // that still says it is protected stays, like any protected image.
      if (record.is_object() && record.contains("protected") && record["protected"] == true) {
        return SendError(
            res, ApiStatus::Error(403, "Image " + id + " is protected and cannot be deleted."));
      }
      if (unreadable) spdlog::warn("deleting {}", loaded.message);
      // The record goes first: nobody may see an active image whose bytes
      // are gone. Bytes left by a crash right here are swept later.
      if (Status s = store_.Remove(RecordPath(id)); !s.ok()) {
        return SendError(res, ApiStatus::FromStatus(s));
      }
    }
    RemoveData(id, "");
    res.status = 204;
  });
  server.Put(image + "/file",
             [this](const httplib::Request& req, httplib::Response& res,
                    const httplib::ContentReader& reader) { Upload(req, res, reader, false); });
  server.Put(image + "/stage",
             [this](const httplib::Request& req, httplib::Response& res,
                    const httplib::ContentReader& reader) { Upload(req, res, reader, true); });
  server.Get(image + "/file",
             [this](const httplib::Request& req, httplib::Response& res) { Download(req, res); });
  server.Post(image + "/import",
              [this](const httplib::Request& req, httplib::Response& res) { Import(req, res); });
  auto tag_op = [this](const httplib::Request& req, httplib::Response& res, bool add) {
    std::string id = req.matches[1], tag = req.matches[2];
    std::lock_guard lock(LockFor(id));
    json record;
    if (ApiStatus s = Load(id, &record); !s.ok()) return SendError(res, s);
    ApiStatus s = add ? AddTag(record, tag, NowMs()) : RemoveTag(record, tag, NowMs());
    if (!s.ok()) return SendError(res, s);
    if (ApiStatus saved = Save(record); !saved.ok()) return SendError(res, saved);
    res.status = 204;
  };
  server.Put(image + "/tags/(.+)", [tag_op](const httplib::Request& req, httplib::Response& res) {
    tag_op(req, res, true);
  });
  server.Delete(
      image + "/tags/(.+)",
      [tag_op](const httplib::Request& req, httplib::Response& res) { tag_op(req, res, false); });
  auto action = [this](const httplib::Request& req, httplib::Response& res, bool deactivate) {
    std::string id = req.matches[1];
    std::lock_guard lock(LockFor(id));
    json record;
    if (ApiStatus s = Load(id, &record); !s.ok()) return SendError(res, s);
    std::string status = record.value("status", "");
    if (status != "active" && status != "deactivated") {
      return SendError(res, ApiStatus::Error(403, std::string("Not allowed to ") +
                                                      (deactivate ? "deactivate" : "reactivate") +
                                                      " image in status '" + status + "'"));
    }
    std::string to = deactivate ? "deactivated" : "active";
    if (status != to) {
      record["status"] = to;
      record["updated_at"] = IsoTime(NowMs());
      if (ApiStatus s = Save(record); !s.ok()) return SendError(res, s);
    }
    res.status = 204;
  };
  server.Post(image + "/actions/clone", [this](const httplib::Request& req,
                                               httplib::Response& res) { CloneAction(req, res); });
  server.Post(
      image + "/actions/deactivate",
      [action](const httplib::Request& req, httplib::Response& res) { action(req, res, true); });
  server.Post(
      image + "/actions/reactivate",
      [action](const httplib::Request& req, httplib::Response& res) { action(req, res, false); });
}

}  // namespace tessera::images
