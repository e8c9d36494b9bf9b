#include "cli/fake_node.h"

#include <chrono>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "common/sha256.h"

namespace tessera::cli::testing {
namespace {

using nlohmann::json;

void Error(httplib::Response& res, int status, const std::string& code, const std::string& msg) {
  res.status = status;
  res.set_content(json{{"error", {{"code", code}, {"message", msg}}}}.dump(), "application/json");
}

std::string CodeFor(int status) {
  switch (status) {
    case 413:
      return "TooLarge";
    case 503:
      return "Unavailable";
    case 507:
      return "NoSpace";
    default:
      return "Internal";
  }
}

}  // namespace

FakeNode::FakeNode() {
  // Enough threads that every keep-alive connection of a -j 16 run is served.
  server_.new_task_queue = [] { return new httplib::ThreadPool(40); };
  server_.set_tcp_nodelay(true);
  server_.set_keep_alive_max_count(100000);
  Install();
  port_ = server_.bind_to_any_port("127.0.0.1");
  if (port_ <= 0) throw std::runtime_error("FakeNode: cannot bind 127.0.0.1");
  thread_ = std::thread([this] { server_.listen_after_bind(); });
  for (int i = 0; i < 500 && !server_.is_running(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  if (!server_.is_running()) throw std::runtime_error("FakeNode: server did not start");
}

FakeNode::~FakeNode() {
  server_.stop();
  thread_.join();
}

std::string FakeNode::RecordJson(const std::string& ns, const std::string& path,
                                 const File& f) const {
  const uint64_t size = f.data.size();
  json geometry;
  json units = json::array();
  json drives = json::array();
  if (size >= 128 * 1024) {
    const uint64_t unit = 128 * 1024;
    const uint64_t stripes = (size + 2 * unit - 1) / (2 * unit);
    geometry = {{"kind", "stripe"},  {"data_units", 2},         {"parity_units", 2},
                {"unit_size", unit}, {"stripe_count", stripes}, {"meets_node_tolerance", false}};
    for (int d = 0; d < 4; ++d) drives.push_back({{"node", 1}, {"lnum", d}});
    for (uint64_t s = 0; s < stripes; ++s) {
      uint64_t left = size - s * 2 * unit;
      uint64_t length = left >= 2 * unit ? unit : ((left + 1) / 2 + 7) / 8 * 8;
      for (int u = 0; u < 4; ++u) {
        units.push_back({{"stripe", s},
                         {"unit", u},
                         {"role", u < 2 ? "data" : "parity"},
                         {"drive", "1:" + std::to_string((u + s) % 4)},
                         {"length", length}});
      }
    }
  } else {
    geometry = {{"kind", "mirror"}, {"copies", 3}, {"meets_node_tolerance", true}};
    for (int c = 0; c < 3; ++c) {
      drives.push_back({{"node", 1}, {"lnum", c}});
      units.push_back({{"stripe", 0},
                       {"unit", c},
                       {"role", "copy"},
                       {"drive", "1:" + std::to_string(c)},
                       {"length", size}});
    }
  }
  json record = {{"namespace", ns},
                 {"path", path},
                 {"size", size},
                 {"modified", "2026-11-21T19:40:01.123Z"},
                 {"created_ns", f.modified_ns},
                 {"crc32c", 0x1a2b3c4d},
                 {"sha256", corrupt_put_sha_ ? std::string(64, '0') : f.sha256},
                 {"protection", "+2"},
                 {"geometry", geometry},
                 {"drives", drives},
                 {"units", units}};
  return record.dump();
}

void FakeNode::Install() {
  server_.Put(
      R"(/v1/files/([^/]+)/(.+))", [this](const httplib::Request& req, httplib::Response& res,
                                          const httplib::ContentReader& reader) {
        const std::string ns = req.matches[1];
        const std::string path = req.matches[2];
        const std::string key = Key(ns, path);
        PutSeen seen{key, req.get_header_value("Content-Length"), 0, 0};
        std::string body;
        reader([&](const char* data, size_t size) {
          body.append(data, size);
          ++seen.chunks;
          seen.bytes += size;
          return true;
        });
        std::lock_guard<std::mutex> lock(mu_);
        puts_.push_back(seen);
        ++put_attempts_[key];
        if (auto it = put_failures_.find(key); it != put_failures_.end() && it->second.first > 0) {
          --it->second.first;
          Error(res, it->second.second, CodeFor(it->second.second), "injected failure for " + key);
          return;
        }
        bool existed = files_.count(key) > 0;
        File& f = files_[key];
        f.data = std::move(body);
        f.sha256 = Sha256::Hex(f.data);
        f.modified_ns = 1'700'000'000'123'000'000;
        res.status = existed ? 200 : 201;
        res.set_content(RecordJson(ns, path, f), "application/json");
      });

  server_.Get(R"(/v1/files/([^/]+)/)", [this](const httplib::Request& req, httplib::Response& res) {
    const std::string ns = req.matches[1];
    if (ns == "proxy") {
      res.status = 502;
      res.set_content("<html><body>Bad Gateway</body></html>", "text/html");
      return;
    }
    const std::string prefix = req.get_param_value("prefix");
    const std::string marker = req.get_param_value("marker");
    size_t limit = req.has_param("limit") ? std::stoul(req.get_param_value("limit")) : 1000;
    std::lock_guard<std::mutex> lock(mu_);
    list_queries_.push_back("prefix=" + prefix + ";marker=" + marker +
                            ";limit=" + req.get_param_value("limit"));
    limit = std::min(limit, max_page_);
    json files = json::array();
    bool truncated = false;
    std::string next;
    for (auto it = files_.upper_bound(Key(ns, marker)); it != files_.end(); ++it) {
      if (it->first.rfind(ns + "/", 0) != 0) break;
      std::string path = it->first.substr(ns.size() + 1);
      if (path.rfind(prefix, 0) != 0) continue;
      if (files.size() == limit) {
        truncated = true;
        break;
      }
      files.push_back({{"path", path},
                       {"size", it->second.data.size()},
                       {"modified", "2026-11-21T19:40:01.123Z"},
                       {"sha256", it->second.sha256}});
      next = path;
    }
    json page = {{"namespace", ns}, {"prefix", prefix}, {"files", files}, {"truncated", truncated}};
    if (truncated) page["next_marker"] = next;
    res.set_content(page.dump(), "application/json");
  });

  server_.Get(R"(/v1/files/([^/]+)/(.+))", [this](const httplib::Request& req,
                                                  httplib::Response& res) {
    const std::string key = Key(req.matches[1], req.matches[2]);
    std::lock_guard<std::mutex> lock(mu_);
    last_accept_encoding_ = req.get_header_value("Accept-Encoding");
    auto it = files_.find(key);
    if (it == files_.end()) return Error(res, 404, "NotFound", "no file " + key);
    auto data = std::make_shared<std::string>(it->second.data);
    std::string etag = get_mode_ == GetMode::kBadEtag ? std::string(64, 'f') : it->second.sha256;
    res.set_header("ETag", "\"" + etag + "\"");
    const bool truncate = get_mode_ == GetMode::kTruncate;
    res.set_content_provider(
        data->size(), "application/octet-stream",
        [data, truncate](size_t offset, size_t length, httplib::DataSink& sink) {
          if (truncate && offset >= data->size() / 2) return false;
          size_t n = std::min<size_t>(length, 64 * 1024);
          if (truncate) n = std::min(n, data->size() / 2 - offset);
          sink.write(data->data() + offset, n);
          return true;
        });
  });

  server_.Get(R"(/v1/stat/([^/]+)/(.+))",
              [this](const httplib::Request& req, httplib::Response& res) {
                const std::string ns = req.matches[1];
                const std::string path = req.matches[2];
                std::lock_guard<std::mutex> lock(mu_);
                auto it = files_.find(Key(ns, path));
                if (it == files_.end())
                  return Error(res, 404, "NotFound", "no file " + Key(ns, path));
                res.set_content(RecordJson(ns, path, it->second), "application/json");
              });

  server_.Delete(R"(/v1/files/([^/]+)/(.+))",
                 [this](const httplib::Request& req, httplib::Response& res) {
                   const std::string key = Key(req.matches[1], req.matches[2]);
                   std::lock_guard<std::mutex> lock(mu_);
                   if (files_.erase(key) == 0) return Error(res, 404, "NotFound", "no file " + key);
                   res.status = 204;
                 });

  server_.Get("/v1/node", [this](const httplib::Request&, httplib::Response& res) {
    std::lock_guard<std::mutex> lock(mu_);
    json info = {{"cluster_guid", "fake"},
                 {"array_id", 1},
                 {"protection", "+2"},
                 {"files", files_.size()},
                 {"drives", json::array()}};
    res.set_content(info.dump(), "application/json");
  });
}

void FakeNode::SetFile(const std::string& ns, const std::string& path, std::string data) {
  std::lock_guard<std::mutex> lock(mu_);
  File& f = files_[Key(ns, path)];
  f.sha256 = Sha256::Hex(data);
  f.data = std::move(data);
}

bool FakeNode::HasFile(const std::string& ns, const std::string& path) const {
  std::lock_guard<std::mutex> lock(mu_);
  return files_.count(Key(ns, path)) > 0;
}

std::string FakeNode::FileData(const std::string& ns, const std::string& path) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = files_.find(Key(ns, path));
  return it == files_.end() ? std::string() : it->second.data;
}

std::vector<std::string> FakeNode::Keys() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<std::string> keys;
  for (const auto& [key, file] : files_) keys.push_back(key);
  return keys;
}

void FakeNode::SetMaxPage(size_t n) {
  std::lock_guard<std::mutex> lock(mu_);
  max_page_ = n;
}

void FakeNode::SetGetMode(GetMode mode) {
  std::lock_guard<std::mutex> lock(mu_);
  get_mode_ = mode;
}

void FakeNode::FailPuts(const std::string& key, int count, int http_status) {
  std::lock_guard<std::mutex> lock(mu_);
  put_failures_[key] = {count, http_status};
}

void FakeNode::SetCorruptPutSha(bool on) {
  std::lock_guard<std::mutex> lock(mu_);
  corrupt_put_sha_ = on;
}

std::vector<FakeNode::PutSeen> FakeNode::Puts() const {
  std::lock_guard<std::mutex> lock(mu_);
  return puts_;
}

int FakeNode::PutAttempts(const std::string& key) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = put_attempts_.find(key);
  return it == put_attempts_.end() ? 0 : it->second;
}

std::vector<std::string> FakeNode::ListQueries() const {
  std::lock_guard<std::mutex> lock(mu_);
  return list_queries_;
}

std::string FakeNode::LastAcceptEncoding() const {
  std::lock_guard<std::mutex> lock(mu_);
  return last_accept_encoding_;
}

}  // namespace tessera::cli::testing
