#include "images/cluster_store.h"

#include <httplib.h>

#include <nlohmann/json.hpp>

#include "cli/node_client.h"

namespace tessera::images {
namespace {

constexpr size_t kPoolSize = 16;

Status StatusFromNode(int http, const std::string& body, const std::string& what) {
  std::string code, message = body;
  try {
    nlohmann::json j = nlohmann::json::parse(body);
    code = j.at("error").value("code", "");
    message = j.at("error").value("message", body);
  } catch (const std::exception&) {
  }
  std::string text = what + ": " + message;
  if (code == "NotFound" || http == 404) return Status::NotFound(text);
  if (code == "ConditionFailed" || http == 412) return Status::ConditionFailed(text);
  if (code == "InvalidArgument" || http == 400 || http == 416) return Status::InvalidArgument(text);
  if (code == "TooLarge" || http == 413) return Status::TooLarge(text);
  if (code == "NoSpace" || http == 507) return Status::NoSpace(text);
  if (code == "Unavailable" || http == 503) return Status::Unavailable(text);
  return Status::Internal(text + " (HTTP " + std::to_string(http) + ")");
}

Status Unreachable(const std::string& url, httplib::Error error, const std::string& what) {
  return Status::Unavailable(what + ": cannot reach node at " + url + ": " +
                             httplib::to_string(error));
}

}  // namespace

ClusterStore::ClusterStore(Resolver resolve, std::string ns)
    : resolve_(std::move(resolve)), ns_(std::move(ns)) {}

ClusterStore::~ClusterStore() = default;

std::string ClusterStore::Target(const std::string& path) const {
  return "/v1/files/" + cli::PercentEncode(ns_, false) + "/" + cli::PercentEncode(path, true);
}

Result<std::unique_ptr<httplib::Client>> ClusterStore::Acquire(std::string* url) {
  std::unique_lock lock(mu_);
  if (url_.empty()) {
    lock.unlock();
    Result<std::string> resolved = resolve_();
    if (!resolved.ok()) return resolved.status();
    lock.lock();
    if (url_.empty()) url_ = *resolved;
  }
  *url = url_;
  if (!pool_.empty()) {
    std::unique_ptr<httplib::Client> client = std::move(pool_.back());
    pool_.pop_back();
    return client;
  }
  auto client = std::make_unique<httplib::Client>(url_);
  client->set_connection_timeout(2, 0);
  client->set_read_timeout(300, 0);
  client->set_write_timeout(300, 0);
  client->set_keep_alive(true);
  client->set_tcp_nodelay(true);
  return client;
}

void ClusterStore::Release(const std::string& url, std::unique_ptr<httplib::Client> client) {
  std::lock_guard lock(mu_);
  if (url == url_ && pool_.size() < kPoolSize) pool_.push_back(std::move(client));
}

void ClusterStore::Forget(const std::string& url) {
  std::lock_guard lock(mu_);
  if (url == url_) {
    url_.clear();
    pool_.clear();
  }
}

template <typename Call, typename Handle>
auto ClusterStore::WithNode(const std::string& what, Call call, Handle handle) {
  using Out = decltype(handle(std::declval<const httplib::Response&>()));
  for (int attempt = 0;; ++attempt) {
    std::string url;
    auto acquired = Acquire(&url);
    if (!acquired.ok()) return Out(acquired.status());
    std::unique_ptr<httplib::Client> client = std::move(acquired).value();
    httplib::Result res = call(*client);
    if (!res) {
      Forget(url);
      if (attempt == 0) continue;
      return Out(Unreachable(url, res.error(), what));
    }
    Release(url, std::move(client));
    return handle(*res);
  }
}

Result<std::string> ClusterStore::Read(const std::string& path) {
  std::string what = "GET " + ns_ + "/" + path;
  auto handle = [&](const httplib::Response& r) -> Result<std::string> {
    if (r.status != 200) return StatusFromNode(r.status, r.body, what);
    return r.body;
  };
  return WithNode(
      what, [&](httplib::Client& c) { return c.Get(Target(path)); }, handle);
}

Status ClusterStore::Write(const std::string& path, const std::string& body,
                           const std::optional<std::string>& if_match) {
  if (!if_match) return PutSmall(path, body, {});
  return PutSmall(path, body, {"If-Match", "\"" + *if_match + "\""});
}

Status ClusterStore::Create(const std::string& path, const std::string& body) {
  return PutSmall(path, body, {"If-None-Match", "*"});
}

Status ClusterStore::PutSmall(const std::string& path, const std::string& body,
                              const std::pair<std::string, std::string>& condition) {
  std::string what = "PUT " + ns_ + "/" + path;
  httplib::Headers headers;
  if (!condition.first.empty()) headers.emplace(condition);
  auto handle = [&](const httplib::Response& r) -> Status {
    if (r.status != 200 && r.status != 201) return StatusFromNode(r.status, r.body, what);
    return Status::Ok();
  };
  return WithNode(
      what,
      [&](httplib::Client& c) { return c.Put(Target(path), headers, body, "application/json"); },
      handle);
}

Result<uint64_t> ClusterStore::Clone(const std::string& source, const std::string& path) {
  const std::string what = "CLONE " + source + " to " + ns_ + "/" + path;
  const std::string body = nlohmann::json{{"from", source}, {"to", ns_ + "/" + path}}.dump();
  uint64_t size = 0;
  auto handle = [&](const httplib::Response& r) -> Status {
    if (r.status != 200 && r.status != 201) return StatusFromNode(r.status, r.body, what);
    nlohmann::json j = nlohmann::json::parse(r.body, nullptr, false);
    if (!j.is_object() || !j.contains("size") || !j["size"].is_number_unsigned()) {
      return Status::Corruption(what + ": the node's answer has no size");
    }
    size = j["size"].get<uint64_t>();
    return Status::Ok();
  };
  RETURN_IF_ERROR(WithNode(
      what, [&](httplib::Client& c) { return c.Post("/v1/clone", body, "application/json"); },
      handle));
  return size;
}

Status ClusterStore::Remove(const std::string& path) {
  std::string what = "DELETE " + ns_ + "/" + path;
  auto handle = [&](const httplib::Response& r) -> Status {
    if (r.status != 204 && r.status != 200 && r.status != 404) {
      return StatusFromNode(r.status, r.body, what);
    }
    return Status::Ok();
  };
  return WithNode(
      what, [&](httplib::Client& c) { return c.Delete(Target(path)); }, handle);
}

Result<std::vector<ClusterStore::Entry>> ClusterStore::List(const std::string& prefix) {
  return ListIn(ns_, prefix);
}

Result<std::vector<ClusterStore::Entry>> ClusterStore::ListSnapshot(const std::string& snapshot,
                                                                    const std::string& prefix) {
  const std::string root = snapshot + "/" + ns_ + "/";
  ASSIGN_OR_RETURN(std::vector<Entry> entries, ListIn(kSnapshotNamespace, root + prefix));
  for (Entry& e : entries) e.path = std::string(kSnapshotNamespace) + "/" + e.path;
  return entries;
}

Result<std::vector<ClusterStore::Entry>> ClusterStore::ListIn(const std::string& ns,
                                                              const std::string& prefix) {
  std::vector<Entry> entries;
  std::string marker;
  while (true) {
    std::string what = "LIST " + ns + "/" + prefix;
    std::string target = "/v1/files/" + cli::PercentEncode(ns, false) +
                         "/?limit=10000&prefix=" + cli::PercentEncode(prefix, false) +
                         (marker.empty() ? "" : "&marker=" + cli::PercentEncode(marker, false));
    bool truncated = false;
    auto handle = [&](const httplib::Response& r) -> Status {
      // A namespace nothing was ever written to lists as empty or 404.
      if (r.status == 404) return Status::Ok();
      if (r.status != 200) return StatusFromNode(r.status, r.body, what);
      try {
        nlohmann::json j = nlohmann::json::parse(r.body);
        for (const auto& f : j.at("files")) {
          entries.push_back({f.at("path"), f.value("size", uint64_t{0}), f.value("sha256", "")});
        }
        truncated = j.value("truncated", false);
        if (truncated) marker = j.at("next_marker");
      } catch (const std::exception& e) {
        return Status::Internal(what + ": unreadable listing: " + e.what());
      }
      return Status::Ok();
    };
    Status s = WithNode(
        what, [&](httplib::Client& c) { return c.Get(target); }, handle);
    if (!s.ok()) return s;
    if (!truncated) return entries;
  }
}

Status ClusterStore::WriteStream(const std::string& path, std::optional<uint64_t> length,
                                 const std::function<Status(const Writer&)>& produce) {
  std::string what = "PUT " + ns_ + "/" + path;
  // httplib never calls the provider of an empty body; an empty body sent
  // chunked still runs `produce` (which must then write nothing).
  if (length && *length == 0) length.reset();
  std::string url;
  auto acquired = Acquire(&url);
  if (!acquired.ok()) return acquired.status();
  std::unique_ptr<httplib::Client> client = std::move(acquired).value();
  Status produced = Status::Internal("the upload was never produced");
  bool called = false;
  uint64_t written = 0;
  auto run = [&](httplib::DataSink& sink) -> bool {
    if (called) return false;  // a producer that wrote short of Content-Length
    called = true;
    Writer writer = [&](const char* data, size_t size) {
      if (length && written + size > *length) return false;
      written += size;
      return sink.write(data, size);
    };
    produced = produce(writer);
    if (!produced.ok()) return false;  // closes the connection: the node drops the file
    if (length && written != *length) {
      produced = Status::InvalidArgument("wrote " + std::to_string(written) + " of " +
                                         std::to_string(*length) + " bytes");
      return false;
    }
    if (!length) sink.done();
    return true;
  };
  httplib::Result res =
      length ? client->Put(
                   Target(path), *length,
                   [&](size_t, size_t, httplib::DataSink& sink) { return run(sink); },
                   "application/octet-stream")
             : client->Put(
                   Target(path), [&](size_t, httplib::DataSink& sink) { return run(sink); },
                   "application/octet-stream");
  if (!produced.ok()) return produced;
  if (!res) {
    Forget(url);
    return Unreachable(url, res.error(), what);
  }
  Release(url, std::move(client));
  if (res->status != 200 && res->status != 201) return StatusFromNode(res->status, res->body, what);
  return Status::Ok();
}

Status ClusterStore::ReadRange(const std::string& path, uint64_t offset, uint64_t length,
                               const std::function<bool(const char*, size_t)>& sink) {
  std::string what = "GET " + ns_ + "/" + path;
  if (length == 0) return Status::Ok();
  std::string url;
  auto acquired = Acquire(&url);
  if (!acquired.ok()) return acquired.status();
  std::unique_ptr<httplib::Client> client = std::move(acquired).value();
  httplib::Headers headers = {
      {"Range", "bytes=" + std::to_string(offset) + "-" + std::to_string(offset + length - 1)}};
  int status = 0;
  std::string error_body;
  bool sink_stopped = false;
  httplib::Result res = client->Get(
      Target(path), headers,
      [&](const httplib::Response& r) {
        status = r.status;
        return true;
      },
      [&](const char* data, size_t size) {
        if (status != 200 && status != 206) {
          error_body.append(data, size);
          return true;
        }
        if (!sink(data, size)) {
          sink_stopped = true;
          return false;
        }
        return true;
      });
  if (sink_stopped) return Status::Unavailable(what + ": the reader went away");
  if (!res) {
    Forget(url);
    return Unreachable(url, res.error(), what);
  }
  Release(url, std::move(client));
  if (res->status != 200 && res->status != 206)
    return StatusFromNode(res->status, error_body, what);
  return Status::Ok();
}

}  // namespace tessera::images
