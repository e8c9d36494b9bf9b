#include "node/http_api.h"

#include <httplib.h>
#include <spdlog/spdlog.h>

#include <ctime>
#include <nlohmann/json.hpp>

#include "common/httplib_quirks.h"
#include "common/object_name.h"
#include "common/units.h"
#include "io/shadow_store.h"
#include "node/storage_node.h"

namespace tessera::node {
namespace {

using nlohmann::json;

constexpr size_t kDefaultListLimit = 1000;
constexpr size_t kMaxListLimit = 10000;

int HttpStatusFor(StatusCode code) {
  switch (code) {
    case StatusCode::kOk:
      return 200;
    case StatusCode::kInvalidArgument:
      return 400;
    case StatusCode::kNotFound:
      return 404;
    case StatusCode::kAlreadyExists:
      return 409;
    case StatusCode::kTooLarge:
      return 413;
    case StatusCode::kUnavailable:
      return 503;
    case StatusCode::kNoSpace:
      return 507;
    case StatusCode::kFailedPrecondition:
      return 409;
    case StatusCode::kIndeterminate:
      return 504;  // the write may have committed: the client must check or retry
    case StatusCode::kConditionFailed:
      return 412;
    default:
      return 500;
  }
}

// A response body. A name or path that is not UTF-8 can reach a message
// (a route that matched nothing), and JSON cannot carry it: such bytes
// become U+FFFD instead of an exception that would turn a 4xx into a 500.
std::string ResponseText(const json& body) {
  return body.dump(-1, ' ', false, json::error_handler_t::replace) + "\n";
}

void SendError(httplib::Response& res, const Status& status) {
  res.status = HttpStatusFor(status.code());
  json body = {{"error", {{"code", StatusCodeName(status.code())}, {"message", status.message()}}}};
  res.set_content(ResponseText(body), "application/json");
}

// For a request whose body is not read to the end (common/httplib_quirks.h).
void SendErrorAndClose(httplib::Response& res, int http_status, std::string_view code,
                       const std::string& message) {
  res.status = http_status;
  SendAndClose(res, ResponseText(json{{"error", {{"code", code}, {"message", message}}}}),
               "application/json");
}

void SendErrorAndClose(httplib::Response& res, const Status& status) {
  SendErrorAndClose(res, HttpStatusFor(status.code()), StatusCodeName(status.code()),
                    status.message());
}

void SendJson(httplib::Response& res, int code, const json& body) {
  res.status = code;
  res.set_content(ResponseText(body), "application/json");
}

std::string Rfc3339(int64_t ns) {
  time_t seconds = static_cast<time_t>(ns / 1000000000);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char buf[40];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
  char out[48];
  std::snprintf(out, sizeof(out), "%s.%03dZ", buf, static_cast<int>((ns / 1000000) % 1000));
  return out;
}

std::string HttpDate(int64_t ns) {
  time_t seconds = static_cast<time_t>(ns / 1000000000);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char buf[40];
  std::strftime(buf, sizeof(buf), "%a, %d %b %Y %H:%M:%S GMT", &tm);
  return buf;
}

std::string Hex32(uint32_t v) {
  char buf[9];
  std::snprintf(buf, sizeof(buf), "%08x", v);
  return buf;
}

// Shadow stores and snapshots are written only by the cluster itself: a
// client that overwrote or deleted a chunk would break every file packed or
// cloned into it; snapshot records change only by snapshot requests.
bool RefuseReservedNamespace(const std::string& ns, httplib::Response& res) {
  if (ns == io::kShadowStoreNamespace) {
    SendErrorAndClose(res, 403, "forbidden",
                      "namespace " + ns +
                          " holds the cluster's shadow stores; only the cluster "
                          "writes there");
    return true;
  }
  if (ns == io::kSnapshotNamespace) {
    SendErrorAndClose(res, 403, "forbidden",
                      "namespace " + ns + " holds snapshots; use /v1/snapshots");
    return true;
  }
  return false;
}

// "ns/path" of a request body; InvalidArgument naming `field` otherwise.
Result<std::pair<std::string, std::string>> SplitFileName(const json& body, const char* field) {
  auto it = body.find(field);
  if (it == body.end() || !it->is_string()) {
    return Status::InvalidArgument(std::string("\"") + field + "\" must be a string NS/PATH");
  }
  const std::string text = it->get<std::string>();
  const size_t slash = text.find('/');
  if (slash == std::string::npos || slash == 0 || slash + 1 == text.size()) {
    return Status::InvalidArgument(std::string("\"") + field + "\" '" + text + "' is not NS/PATH");
  }
  return std::make_pair(text.substr(0, slash), text.substr(slash + 1));
}

// The body length a request declares; nullopt without a Content-Length.
// httplib reads a body by its first Content-Length through strtoull, so "-1"
// would be 2^64-1 bytes and "+5" five, and ignores any other. Each must be
// 1*DIGIT and all must agree (RFC 7230 3.3.2): a message whose length is in
// doubt cannot be framed, and a proxy might frame it differently.
Result<std::optional<uint64_t>> DeclaredLength(const httplib::Request& req) {
  std::optional<uint64_t> length;
  auto [first, last] = req.headers.equal_range("Content-Length");
  for (auto it = first; it != last; ++it) {
    std::optional<uint64_t> v = ParseDecimal(it->second);
    if (!v) {
      return Status::InvalidArgument("Content-Length " + QuoteForMessage(it->second) +
                                     " is not a decimal number of bytes (at most 19 digits)");
    }
    if (length && *length != *v) {
      return Status::InvalidArgument("Content-Length given twice, as " + std::to_string(*length) +
                                     " and " + std::to_string(*v));
    }
    length = v;
  }
  return length;
}

Result<json> JsonBody(const httplib::Request& req) {
  json body = json::parse(req.body, nullptr, false);
  if (!body.is_object()) return Status::InvalidArgument("the request body is not a JSON object");
  return body;
}

json SnapshotJson(const io::SnapshotInfo& s) {
  return {
      {"name", s.name}, {"files", s.files}, {"bytes", s.bytes}, {"created", Rfc3339(s.created_ns)}};
}

void CloneHandler(StorageNode& node, const httplib::Request& req, httplib::Response& res) {
  Result<json> body = JsonBody(req);
  if (!body.ok()) return SendError(res, body.status());
  auto from = SplitFileName(*body, "from");
  if (!from.ok()) return SendError(res, from.status());
  auto to = SplitFileName(*body, "to");
  if (!to.ok()) return SendError(res, to.status());
  Result<io::CloneResult> clone = node.CloneFile(from->first, from->second, to->first, to->second);
  if (!clone.ok()) return SendError(res, clone.status());
  SendJson(res, clone->replaced ? 200 : 201, meta::ToJson(clone->clone));
}

void CreateSnapshotHandler(StorageNode& node, const httplib::Request& req, httplib::Response& res) {
  Result<json> body = JsonBody(req);
  if (!body.ok()) return SendError(res, body.status());
  auto name = body->find("name");
  auto files = body->find("files");
  if (name == body->end() || !name->is_string() || files == body->end() || !files->is_array()) {
    return SendError(res, Status::InvalidArgument(
                              "a snapshot request is {\"name\": NAME, \"files\": [NS/PATH, ...]}"));
  }
  std::vector<std::pair<std::string, std::string>> members;
  for (const json& f : *files) {
    auto member = SplitFileName({{"file", f}}, "file");
    if (!member.ok()) return SendError(res, member.status());
    members.push_back(*member);
  }
  Result<io::SnapshotInfo> snapshot = node.CreateSnapshot(name->get<std::string>(), members);
  if (!snapshot.ok()) return SendError(res, snapshot.status());
  SendJson(res, 201, SnapshotJson(*snapshot));
}

void PutFileHandler(StorageNode& node, const httplib::Request& req, httplib::Response& res,
                    const httplib::ContentReader& content_reader) {
  std::string ns = req.matches[1], path = req.matches[2];
  Result<std::optional<uint64_t>> length = DeclaredLength(req);
  if (!length.ok()) return SendErrorAndClose(res, length.status());
  // If-Match: "<sha256>" (the ETag a GET gives) or *; If-None-Match: *.
  PutCondition condition;
  if (req.has_header("If-None-Match")) {
    if (req.get_header_value("If-None-Match") != "*" || req.has_header("If-Match")) {
      return SendErrorAndClose(
          res, Status::InvalidArgument("If-None-Match takes only *, and not with If-Match"));
    }
    condition.if_absent = true;
  }
  if (req.has_header("If-Match")) {
    std::string tag = req.get_header_value("If-Match");
    if (tag.size() >= 2 && tag.front() == '"' && tag.back() == '"')
      tag = tag.substr(1, tag.size() - 2);
    if (tag.empty() || tag.find_first_of("\", ") != std::string::npos) {
      return SendErrorAndClose(
          res, Status::InvalidArgument("If-Match takes one ETag as a GET gives it, or *"));
    }
    condition.if_match = tag;
  }
  Result<PutResult> put = node.PutFile(
      ns, path, *length,
      [&](const io::ByteSink& sink) {
        Status inner;
        bool complete = content_reader([&](const char* data, size_t size) {
          inner = sink({reinterpret_cast<const uint8_t*>(data), size});
          return inner.ok();
        });
        if (!inner.ok()) return inner;
        if (!complete) return Status::InvalidArgument("the request body was cut short");
        return Status::Ok();
      },
      condition);
  if (!put.ok()) {
    if (put.status().code() != StatusCode::kInvalidArgument &&
        put.status().code() != StatusCode::kConditionFailed) {
      spdlog::warn("PUT {}/{}: {}", ns, path, put.status().ToString());
    }
    return SendErrorAndClose(res, put.status());
  }
  SendJson(res, put->created ? 201 : 200, meta::ToJson(put->record));
}

// Small files are read whole before answering, so an unreadable one gets a
// proper error status; larger ones stream, and a failure mid-way can only cut
// the body short (the client sees fewer bytes than Content-Length).
constexpr uint64_t kReadWholeBelow = 1 << 20;

void GetFileHandler(StorageNode& node, const httplib::Request& req, httplib::Response& res) {
  std::string ns = req.matches[1], path = req.matches[2];
  Result<meta::FileRecord> record = node.StatFile(ns, path);
  if (!record.ok()) return SendError(res, record.status());
  auto shared = std::make_shared<meta::FileRecord>(std::move(record).value());
  res.set_header("ETag", "\"" + shared->sha256 + "\"");
  res.set_header("Last-Modified", HttpDate(shared->modified_ns));
  res.set_header("X-Tessera-Crc32c", Hex32(shared->crc32c));
  res.set_header("Accept-Ranges", "bytes");
  if (!FitRangesTo(req, shared->size)) {
    SendError(res, Status::InvalidArgument("range " + req.get_header_value("Range") +
                                           " is outside the file's " +
                                           std::to_string(shared->size) + " bytes"));
    res.status = 416;
    res.set_header("Content-Range", "bytes */" + std::to_string(shared->size));
    return;
  }
  if (req.method != "HEAD" && shared->size < kReadWholeBelow) {
    std::string body;
    body.reserve(shared->size);
    Status s = node.ReadFile(*shared, 0, shared->size, [&](std::span<const uint8_t> bytes) {
      body.append(reinterpret_cast<const char*>(bytes.data()), bytes.size());
      return Status::Ok();
    });
    if (!s.ok()) return SendError(res, s);
    res.set_content(std::move(body), "application/octet-stream");
    return;
  }
  // httplib gives a streamed body's several ranges a total length of 0;
  // ignoring a Range is allowed (RFC 7233 3.1), and the client gets it all.
  if (req.ranges.size() > 1) ServeWhole(req);
  res.set_content_provider(
      shared->size, "application/octet-stream",
      [&node, shared](size_t offset, size_t length, httplib::DataSink& sink) {
        // One provider call serves up to 4 MiB; httplib calls again for the rest.
        uint64_t n = std::min<uint64_t>(length, 4 << 20);
        Status s = node.ReadFile(*shared, offset, n, [&](std::span<const uint8_t> bytes) {
          if (!sink.write(reinterpret_cast<const char*>(bytes.data()), bytes.size())) {
            return Status::Unavailable("client went away");
          }
          return Status::Ok();
        });
        if (!s.ok()) {
          spdlog::error("GET {}/{} at offset {}: {}", shared->ns, shared->path, offset,
                        s.ToString());
          return false;  // closes the connection: the client sees a short body
        }
        return true;
      });
}

void ListHandler(StorageNode& node, const httplib::Request& req, httplib::Response& res) {
  std::string ns = req.matches[1];
  size_t limit = kDefaultListLimit;
  if (req.has_param("limit")) {
    std::string text = req.get_param_value("limit");
    std::optional<uint64_t> v = ParseDecimal(text);
    if (!v || *v == 0 || *v > kMaxListLimit) {
      return SendError(res,
                       Status::InvalidArgument("limit must be 1.." + std::to_string(kMaxListLimit) +
                                               ", got " + QuoteForMessage(text)));
    }
    limit = *v;
  }
  std::string prefix = req.get_param_value("prefix");
  Result<meta::Listing> listing = node.ListFiles(ns, prefix, req.get_param_value("marker"), limit);
  if (!listing.ok()) return SendError(res, listing.status());
  json files = json::array();
  for (const meta::FileRecord& f : listing->files) {
    files.push_back({{"path", f.path},
                     {"size", f.size},
                     {"modified", Rfc3339(f.modified_ns)},
                     {"sha256", f.sha256}});
  }
  json body = {
      {"namespace", ns}, {"prefix", prefix}, {"files", files}, {"truncated", listing->truncated}};
  if (listing->truncated) body["next_marker"] = listing->next_marker;
  SendJson(res, 200, body);
}

}  // namespace

void RegisterHttpApi(httplib::Server& server, StorageNode& node, ClusterHooks cluster) {
  auto gate = std::make_shared<std::function<Status()>>(std::move(cluster.write_gate));
  auto writable = [gate] { return *gate ? (*gate)() : Status::Ok(); };
  // A body without a length is refused at once (common/httplib_quirks.h):
  // otherwise a worker, and the node's shutdown, would wait out the 300 s
  // read timeout. So is one whose length is in doubt, on every route: this
  // runs before httplib reads any body.
  server.set_pre_routing_handler([](const httplib::Request& req, httplib::Response& res) {
    if (BodyWithoutLength(req)) {
      SendErrorAndClose(res, 411, "InvalidArgument",
                        req.method + " needs a Content-Length or Transfer-Encoding: chunked");
      return httplib::Server::HandlerResponse::Handled;
    }
    if (Result<std::optional<uint64_t>> length = DeclaredLength(req); !length.ok()) {
      SendErrorAndClose(res, length.status());
      return httplib::Server::HandlerResponse::Handled;
    }
    return httplib::Server::HandlerResponse::Unhandled;
  });
  server.Get(R"(/v1/files/([^/]+)/?)",
             [&node](const httplib::Request& req, httplib::Response& res) {
               ListHandler(node, req, res);
             });
  server.Get(R"(/v1/files/([^/]+)/([\s\S]+))",
             [&node](const httplib::Request& req, httplib::Response& res) {
               GetFileHandler(node, req, res);
             });
  server.Put(R"(/v1/files/([^/]+)/([\s\S]+))",
             [&node, writable](const httplib::Request& req, httplib::Response& res,
                               const httplib::ContentReader& reader) {
               if (Status s = writable(); !s.ok()) return SendErrorAndClose(res, s);
               if (RefuseReservedNamespace(req.matches[1], res)) return;
               PutFileHandler(node, req, res, reader);
             });
  server.Delete(R"(/v1/files/([^/]+)/([\s\S]+))",
                [&node, writable](const httplib::Request& req, httplib::Response& res) {
                  if (Status s = writable(); !s.ok()) return SendError(res, s);
                  if (RefuseReservedNamespace(req.matches[1], res)) return;
                  Status s = node.DeleteFile(req.matches[1], req.matches[2]);
                  if (!s.ok()) return SendError(res, s);
                  res.status = 204;
                });
  server.Post("/v1/clone", [&node, writable](const httplib::Request& req, httplib::Response& res) {
    if (Status s = writable(); !s.ok()) return SendError(res, s);
    CloneHandler(node, req, res);
  });
  server.Post("/v1/snapshots",
              [&node, writable](const httplib::Request& req, httplib::Response& res) {
                if (Status s = writable(); !s.ok()) return SendError(res, s);
                CreateSnapshotHandler(node, req, res);
              });
  server.Get("/v1/snapshots", [&node](const httplib::Request&, httplib::Response& res) {
    Result<std::vector<io::SnapshotInfo>> list = node.ListSnapshots();
    if (!list.ok()) return SendError(res, list.status());
    json snapshots = json::array();
    for (const io::SnapshotInfo& s : *list) snapshots.push_back(SnapshotJson(s));
    SendJson(res, 200, {{"snapshots", snapshots}});
  });
  server.Get(R"(/v1/snapshots/([^/]+))",
             [&node](const httplib::Request& req, httplib::Response& res) {
               Result<std::vector<meta::FileRecord>> files = node.SnapshotFiles(req.matches[1]);
               if (!files.ok()) return SendError(res, files.status());
               json list = json::array();
               for (const meta::FileRecord& r : *files) {
                 list.push_back({{"file", r.path.substr(r.path.find('/') + 1)},
                                 {"source", std::string(io::kSnapshotNamespace) + "/" + r.path},
                                 {"size", r.size},
                                 {"sha256", r.sha256},
                                 {"modified", Rfc3339(r.modified_ns)}});
               }
               SendJson(res, 200, {{"name", req.matches[1]}, {"files", list}});
             });
  server.Delete(R"(/v1/snapshots/([^/]+))",
                [&node, writable](const httplib::Request& req, httplib::Response& res) {
                  if (Status s = writable(); !s.ok()) return SendError(res, s);
                  Result<uint64_t> removed = node.DeleteSnapshot(req.matches[1]);
                  if (!removed.ok()) return SendError(res, removed.status());
                  res.status = 204;
                });
  server.Get(R"(/v1/stat/([^/]+)/([\s\S]+))",
             [&node](const httplib::Request& req, httplib::Response& res) {
               Result<meta::FileRecord> record = node.StatFile(req.matches[1], req.matches[2]);
               if (!record.ok()) return SendError(res, record.status());
               SendJson(res, 200, StorageNode::StatJson(*record));
             });
  server.Get("/v1/node", [&node](const httplib::Request&, httplib::Response& res) {
    SendJson(res, 200, node.Info());
  });
  if (cluster.protection) {
    server.Get("/v1/cluster/protection", [protection = std::move(cluster.protection)](
                                             const httplib::Request&, httplib::Response& res) {
      Result<nlohmann::json> summary = protection();
      if (!summary.ok()) return SendError(res, summary.status());
      SendJson(res, 200, *summary);
    });
  }
  if (cluster.view) {
    server.Get("/v1/cluster/view",
               [view = std::move(cluster.view)](const httplib::Request&, httplib::Response& res) {
                 SendJson(res, 200, view());
               });
  } else {
    server.Get("/v1/cluster/view", [](const httplib::Request&, httplib::Response& res) {
      SendError(res, Status::NotFound("this node is not part of a cluster (started without "
                                      "--config)"));
    });
  }
  server.Post("/v1/admin/compact", [&node](const httplib::Request& req, httplib::Response& res) {
    Result<store::CompactionStats> stats = node.Compact(req.get_param_value("full") == "1");
    if (!stats.ok()) return SendError(res, stats.status());
    SendJson(res, 200,
             {{"segments_removed", stats->segments_removed},
              {"pieces_moved", stats->pieces_moved},
              {"bytes_moved", stats->bytes_moved},
              {"bytes_reclaimed", stats->bytes_reclaimed}});
  });
  // Clients that ask first (curl does for large bodies) learn of a too-large
  // file before sending it.
  server.set_expect_100_continue_handler(
      [&node, writable](const httplib::Request& req, httplib::Response& res) {
        // Runs before the pre-routing handler, which would refuse this too.
        Result<std::optional<uint64_t>> length = DeclaredLength(req);
        if (!length.ok()) {
          SendErrorAndClose(res, length.status());
          return res.status;
        }
        if (Status s = writable(); req.method == "PUT" && !s.ok()) {
          SendError(res, s);
          return res.status;
        }
        if (req.method == "PUT" && length->value_or(0) > node.max_file_size()) {
          SendError(res, Status::TooLarge("file of " + std::to_string(**length) +
                                          " bytes exceeds the node's maximum file size of " +
                                          std::to_string(node.max_file_size()) + " bytes"));
          return res.status;
        }
        return 100;
      });
  InstallErrorHandlers(server);
}

void InstallErrorHandlers(httplib::Server& server) {
  server.set_error_handler([](const httplib::Request& req, httplib::Response& res) {
    ServeWhole(req);
    if (!res.body.empty() || res.has_header("Content-Type")) return;  // a handler answered
    Status status;
    if (res.status == 404) {
      status = Status::NotFound("no route for " + req.method + " " + req.path);
    } else if (res.status == 416) {  // httplib could not parse the Range header
      status = Status::InvalidArgument("Range '" + req.get_header_value("Range") +
                                       "' is not bytes=FIRST-LAST, bytes=FIRST- or bytes=-COUNT");
    } else {
      status = Status(res.status >= 500 ? StatusCode::kInternal : StatusCode::kInvalidArgument,
                      "request failed with HTTP " + std::to_string(res.status));
    }
    int code = res.status;
    SendError(res, status);
    res.status = code;
  });
  // A handler that throws is a bug: the operator reads what it was in the
  // log, the client gets a 500 that says so (not httplib's bare 500 with the
  // exception's text in a header).
  server.set_exception_handler([](const httplib::Request& req, httplib::Response& res,
                                  std::exception_ptr thrown) {
    std::string what = "an unknown exception";
    try {
      if (thrown) std::rethrow_exception(thrown);
    } catch (const std::exception& e) {
      what = e.what();
    } catch (...) {
    }
    spdlog::error("{} {}: internal error: {}", req.method, QuoteForMessage(req.path), what);
    ServeWhole(req);
    SendErrorAndClose(
        res, Status::Internal("internal error handling " + req.method + " " +
                              QuoteForMessage(req.path) + ": " + what + " (logged by the node)"));
  });
}

}  // namespace tessera::node
