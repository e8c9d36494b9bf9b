#include "cluster/admin/node_view.h"

#include <httplib.h>

#include <nlohmann/json.hpp>
#include <thread>

namespace tessera::cluster::admin {
namespace {

using json = nlohmann::json;

// Reads `key` into `*out` when present; Corruption when it has another type.
template <typename T>
Status Field(const json& j, const char* key, T* out) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return Status::Ok();
  bool fits;
  if constexpr (std::is_same_v<T, bool>) {
    fits = it->is_boolean();
  } else if constexpr (std::is_same_v<T, std::string>) {
    fits = it->is_string();
  } else if constexpr (std::is_unsigned_v<T>) {
    fits = it->is_number_unsigned() && it->template get<uint64_t>() <= UINT32_MAX;
  } else {
    fits = it->is_number_integer();
  }
  if (!fits)
    return Status::Corruption(std::string("node view: field '") + key + "' has a wrong type");
  *out = it->template get<T>();
  return Status::Ok();
}

}  // namespace

Result<NodeView> ParseNodeView(const std::string& text) {
  json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return Status::Corruption("node view: not a JSON object");
  NodeView v;
  RETURN_IF_ERROR(Field(j, "array_id", &v.array_id));
  RETURN_IF_ERROR(Field(j, "lnn", &v.lnn));
  RETURN_IF_ERROR(Field(j, "cluster", &v.cluster));
  RETURN_IF_ERROR(Field(j, "writable", &v.writable));
  RETURN_IF_ERROR(Field(j, "reason", &v.reason));
  RETURN_IF_ERROR(Field(j, "session_lost", &v.session_lost));
  RETURN_IF_ERROR(Field(j, "epoch", &v.epoch));
  RETURN_IF_ERROR(Field(j, "group", &v.group));
  RETURN_IF_ERROR(Field(j, "is_master", &v.is_master));
  RETURN_IF_ERROR(Field(j, "master", &v.master));
  return v;
}

Result<std::string> GetNodeBody(const std::string& address, const std::string& path,
                                std::chrono::milliseconds connect_timeout,
                                std::chrono::milliseconds timeout) {
  httplib::Client http("http://" + address);
  if (!http.is_valid()) return Status::InvalidArgument("bad node address '" + address + "'");
  http.set_connection_timeout(connect_timeout);
  http.set_read_timeout(timeout);
  http.set_write_timeout(timeout);
  httplib::Result res = http.Get(path);
  if (!res) return Status::Unavailable("unreachable: " + httplib::to_string(res.error()));
  if (res->status != 200) {
    std::string why = res->body;
    json j = json::parse(res->body, nullptr, false);
    if (j.is_object() && j.contains("error") && j["error"].is_string()) {
      why = j["error"].get<std::string>();
    }
    return Status::FailedPrecondition("HTTP " + std::to_string(res->status) +
                                      (why.empty() ? "" : ": " + why));
  }
  return res->body;
}

Result<NodeView> FetchNodeView(const std::string& address, std::chrono::milliseconds timeout) {
  ASSIGN_OR_RETURN(std::string body, GetNodeBody(address, "/v1/cluster/view", timeout, timeout));
  return ParseNodeView(body);
}

std::vector<Result<NodeView>> FetchNodeViews(const std::vector<std::string>& addresses,
                                             std::chrono::milliseconds timeout) {
  std::vector<Result<NodeView>> results(addresses.size(), Status::Internal("not asked"));
  std::vector<std::thread> threads;
  for (size_t i = 0; i < addresses.size(); ++i) {
    threads.emplace_back([&, i] { results[i] = FetchNodeView(addresses[i], timeout); });
  }
  for (std::thread& t : threads) t.join();
  return results;
}

}  // namespace tessera::cluster::admin
