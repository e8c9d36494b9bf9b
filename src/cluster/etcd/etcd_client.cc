#include "cluster/etcd/etcd_client.h"

#include <httplib.h>

#include <algorithm>
#include <charconv>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "common/host_port.h"
#include "common/thread_name.h"

namespace tessera::cluster {
namespace {

using json = nlohmann::json;

// Thrown by the parsing helpers below; turned into a Corruption status.
struct MalformedResponse : std::runtime_error {
  using std::runtime_error::runtime_error;
};

constexpr char kBase64Chars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

std::string Base64Encode(const std::string& in) {
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    uint32_t v = (uint8_t(in[i]) << 16) | (uint8_t(in[i + 1]) << 8) | uint8_t(in[i + 2]);
    out += kBase64Chars[(v >> 18) & 63];
    out += kBase64Chars[(v >> 12) & 63];
    out += kBase64Chars[(v >> 6) & 63];
    out += kBase64Chars[v & 63];
  }
  if (i + 1 == in.size()) {
    uint32_t v = uint8_t(in[i]) << 16;
    out += kBase64Chars[(v >> 18) & 63];
    out += kBase64Chars[(v >> 12) & 63];
    out += "==";
  } else if (i + 2 == in.size()) {
    uint32_t v = (uint8_t(in[i]) << 16) | (uint8_t(in[i + 1]) << 8);
    out += kBase64Chars[(v >> 18) & 63];
    out += kBase64Chars[(v >> 12) & 63];
    out += kBase64Chars[(v >> 6) & 63];
    out += '=';
  }
  return out;
}

int Base64Value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+' || c == '-') return 62;
  if (c == '/' || c == '_') return 63;
  return -1;
}

std::string Base64Decode(const std::string& in) {
  std::string out;
  uint32_t acc = 0;
  int bits = 0;
  for (char c : in) {
    if (c == '=') break;
    int v = Base64Value(c);
    if (v < 0) throw MalformedResponse("invalid base64 in \"" + in.substr(0, 40) + "\"");
    acc = (acc << 6) | uint32_t(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += char((acc >> bits) & 0xff);
    }
  }
  return out;
}

// 64-bit numbers come as JSON strings ("12"); absent means 0 (proto3 default).
int64_t GetInt(const json& j, const char* field) {
  if (!j.is_object())
    throw MalformedResponse("expected an object holding \"" + std::string(field) + "\"");
  auto it = j.find(field);
  if (it == j.end() || it->is_null()) return 0;
  if (it->is_number_integer()) return it->get<int64_t>();
  if (it->is_string()) {
    const std::string& s = it->get_ref<const std::string&>();
    int64_t v = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec == std::errc() && p == s.data() + s.size()) return v;
  }
  throw MalformedResponse("field \"" + std::string(field) + "\" is not an integer: " + it->dump());
}

std::string GetBytes(const json& j, const char* field) {
  auto it = j.find(field);
  if (it == j.end() || it->is_null()) return {};
  if (!it->is_string()) {
    throw MalformedResponse("field \"" + std::string(field) + "\" is not a string");
  }
  return Base64Decode(it->get<std::string>());
}

bool GetBool(const json& j, const char* field) {
  auto it = j.find(field);
  if (it == j.end() || it->is_null()) return false;
  if (!it->is_boolean()) {
    throw MalformedResponse("field \"" + std::string(field) + "\" is not a boolean");
  }
  return it->get<bool>();
}

const json& GetObject(const json& j, const char* field) {
  static const json kEmpty = json::object();
  auto it = j.find(field);
  if (it == j.end() || it->is_null()) return kEmpty;
  if (!it->is_object()) {
    throw MalformedResponse("field \"" + std::string(field) + "\" is not an object");
  }
  return *it;
}

const json& GetArray(const json& j, const char* field) {
  static const json kEmpty = json::array();
  auto it = j.find(field);
  if (it == j.end() || it->is_null()) return kEmpty;
  if (!it->is_array()) {
    throw MalformedResponse("field \"" + std::string(field) + "\" is not an array");
  }
  return *it;
}

json ParseObject(const std::string& text) {
  json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) {
    throw MalformedResponse("not a JSON object: \"" + text.substr(0, 80) + "\"");
  }
  return j;
}

KeyValue ParseKv(const json& j) {
  if (!j.is_object()) throw MalformedResponse("a key-value is not an object");
  KeyValue kv;
  kv.key = GetBytes(j, "key");
  kv.value = GetBytes(j, "value");
  kv.create_revision = GetInt(j, "create_revision");
  kv.mod_revision = GetInt(j, "mod_revision");
  kv.version = GetInt(j, "version");
  kv.lease = GetInt(j, "lease");
  return kv;
}

std::vector<KeyValue> ParseKvs(const json& j) {
  std::vector<KeyValue> kvs;
  for (const json& kv : GetArray(j, "kvs")) kvs.push_back(ParseKv(kv));
  return kvs;
}

int64_t HeaderRevision(const json& j) { return GetInt(GetObject(j, "header"), "revision"); }

// Runs `parse` on a response, turning malformed input into a Corruption.
template <typename T, typename F>
Result<T> ParseResponse(const std::string& what, const std::string& text, F&& parse) {
  try {
    return parse(ParseObject(text));
  } catch (const std::exception& e) {
    return Status::Corruption("malformed etcd response to " + what + ": " + e.what());
  }
}

Status CheckRevision(int64_t revision) {
  if (revision < 0) {
    return Status::InvalidArgument("etcd revision must be >= 0, got " + std::to_string(revision));
  }
  return Status::Ok();
}

// Maps a gateway error body {"error", "message", "code"} (gRPC codes).
Status GatewayError(const std::string& endpoint, const std::string& path, int http_status,
                    const std::string& body) {
  json j = json::parse(body, nullptr, false);
  std::string message;
  int code = -1;
  if (j.is_object()) {
    if (j.contains("message") && j["message"].is_string()) message = j["message"];
    if (j.contains("code") && j["code"].is_number_integer()) code = j["code"];
  }
  if (message.empty()) message = "HTTP " + std::to_string(http_status) + " " + body.substr(0, 80);
  std::string text = "etcd " + endpoint + path + ": " + message;
  switch (code) {
    case 3:  // InvalidArgument
      return Status::InvalidArgument(text);
    case 5:  // NotFound
      return Status::NotFound(text);
    case 9:   // FailedPrecondition
    case 11:  // OutOfRange: compacted or future revision
      return Status::FailedPrecondition(text);
    case 14:  // Unavailable
      return Status::Unavailable(text);
    default:
      return Status::Internal(text);
  }
}

json ModRequest(const TxnOp& op) {
  json body;
  body["key"] = Base64Encode(op.key);
  switch (op.type) {
    case TxnOp::Type::kPut:
      body["value"] = Base64Encode(op.value);
      if (op.lease != 0) body["lease"] = std::to_string(op.lease);
      return {{"request_put", body}};
    case TxnOp::Type::kDelete:
      if (!op.range_end.empty()) body["range_end"] = Base64Encode(op.range_end);
      return {{"request_delete_range", body}};
    case TxnOp::Type::kGet:
      if (!op.range_end.empty()) body["range_end"] = Base64Encode(op.range_end);
      return {{"request_range", body}};
  }
  return body;
}

json CompareJson(const Compare& c) {
  json j;
  j["key"] = Base64Encode(c.key);
  static const char* kOps[] = {"EQUAL", "NOT_EQUAL", "GREATER", "LESS"};
  j["result"] = kOps[static_cast<int>(c.op)];
  switch (c.target) {
    case Compare::Target::kVersion:
      j["target"] = "VERSION";
      j["version"] = std::to_string(c.number);
      break;
    case Compare::Target::kCreateRevision:
      j["target"] = "CREATE";
      j["create_revision"] = std::to_string(c.number);
      break;
    case Compare::Target::kModRevision:
      j["target"] = "MOD";
      j["mod_revision"] = std::to_string(c.number);
      break;
    case Compare::Target::kValue:
      j["target"] = "VALUE";
      j["value"] = Base64Encode(c.value);
      break;
  }
  return j;
}

std::unique_ptr<httplib::Client> MakeClient(const std::string& endpoint,
                                            std::chrono::milliseconds connect,
                                            std::chrono::milliseconds read) {
  auto cli = std::make_unique<httplib::Client>(endpoint);
  cli->set_connection_timeout(connect);
  cli->set_read_timeout(read);
  cli->set_write_timeout(read);
  return cli;
}

}  // namespace

std::string PrefixRangeEnd(const std::string& prefix) {
  std::string end = prefix;
  while (!end.empty()) {
    if (static_cast<uint8_t>(end.back()) < 0xff) {
      end.back() = static_cast<char>(static_cast<uint8_t>(end.back()) + 1);
      return end;
    }
    end.pop_back();
  }
  return std::string(1, '\0');  // every key
}

TxnOp TxnOp::DeletePrefix(std::string prefix) {
  TxnOp op{Type::kDelete, prefix, PrefixRangeEnd(prefix), {}, 0};
  return op;
}

TxnOp TxnOp::GetPrefix(std::string prefix) {
  TxnOp op{Type::kGet, prefix, PrefixRangeEnd(prefix), {}, 0};
  return op;
}

Result<std::unique_ptr<EtcdClient>> EtcdClient::Create(const std::string& endpoints,
                                                       EtcdClientOptions options) {
  std::vector<std::string> list;
  size_t start = 0;
  while (start <= endpoints.size()) {
    size_t comma = endpoints.find(',', start);
    if (comma == std::string::npos) comma = endpoints.size();
    std::string e = endpoints.substr(start, comma - start);
    start = comma + 1;
    e.erase(0, e.find_first_not_of(" \t"));
    e.erase(e.find_last_not_of(" \t/") + 1);
    if (e.empty()) continue;
    if (e.rfind("https://", 0) == 0) {
      return Status::InvalidArgument("etcd endpoint " + e + ": https is not supported");
    }
    if (e.rfind("http://", 0) != 0) {
      if (e.find("://") != std::string::npos) {
        return Status::InvalidArgument("etcd endpoint " + e + ": only http:// is supported");
      }
      e = "http://" + e;
    }
    if (Result<HostPort> parsed = ParseHostPort(e.substr(7), "etcd endpoint '" + e + "'");
        !parsed.ok()) {
      return parsed.status();
    }
    list.push_back(e);
  }
  if (list.empty()) {
    return Status::InvalidArgument("no etcd endpoints given in \"" + endpoints + "\"");
  }
  return std::unique_ptr<EtcdClient>(new EtcdClient(std::move(list), options));
}

std::string EtcdClient::EndpointList() const {
  std::string s;
  for (const std::string& e : endpoints_) s += (s.empty() ? "" : ", ") + e;
  return s;
}

Result<std::string> EtcdClient::Call(const std::string& path, const std::string& body,
                                     CallKind kind) {
  size_t n = endpoints_.size();
  size_t first = preferred_.load() % n;
  std::string tried;
  for (size_t i = 0; i < n; ++i) {
    size_t idx = (first + i) % n;
    const std::string& endpoint = endpoints_[idx];
    auto cli = MakeClient(endpoint, options_.connect_timeout, options_.request_timeout);
    // The gateway ends error answers with an HTTP trailer, which this
    // httplib cannot parse (it reports a Read error after the whole body);
    // so collect status and body as they arrive and judge them ourselves.
    httplib::Request req;
    req.method = "POST";
    req.path = path;
    req.body = body;
    req.set_header("Content-Type", "application/json");
    int status = 0;
    std::string got;
    req.response_handler = [&](const httplib::Response& r) {
      status = r.status;
      return true;
    };
    req.content_receiver = [&](const char* data, size_t len, uint64_t, uint64_t) {
      got.append(data, len);
      return true;
    };
    httplib::Response res;
    httplib::Error err = httplib::Error::Success;
    bool sent = cli->send(req, res, err);
    bool answered = sent || (status >= 400 && json::accept(got));
    if (!answered) {
      if (kind == CallKind::kMutation && err != httplib::Error::Connection) {
        // The request may have reached etcd: sending it again elsewhere
        // could apply it twice (and make a CAS that won look lost).
        return Status::Unavailable("etcd " + endpoint + path + ": " + httplib::to_string(err) +
                                   "; the write may or may not have been applied");
      }
      tried += (tried.empty() ? "" : "; ") + endpoint + ": " + httplib::to_string(err);
      continue;
    }
    if (status != 200) {
      Status st = GatewayError(endpoint, path, status, got);
      // A member without a leader did nothing; other Unavailable errors
      // (timeouts, leader changed) leave a write's outcome unknown.
      bool retry =
          kind == CallKind::kIdempotent || st.message().find("no leader") != std::string::npos;
      if (st.code() == StatusCode::kUnavailable && retry) {
        tried += (tried.empty() ? "" : "; ") + st.message();
        continue;
      }
      preferred_.store(idx);
      return st;
    }
    preferred_.store(idx);
    return got;
  }
  return Status::Unavailable("no etcd endpoint answered " + path + " (tried " + tried + ")");
}

Result<RangeResult> EtcdClient::GetRange(const std::string& key, const std::string& range_end,
                                         int64_t revision) {
  RETURN_IF_ERROR(CheckRevision(revision));
  json req;
  req["key"] = Base64Encode(key);
  if (!range_end.empty()) req["range_end"] = Base64Encode(range_end);
  if (revision > 0) req["revision"] = std::to_string(revision);
  ASSIGN_OR_RETURN(std::string text, Call("/v3/kv/range", req.dump()));
  return ParseResponse<RangeResult>("/v3/kv/range", text, [](const json& j) {
    RangeResult r;
    r.revision = HeaderRevision(j);
    r.kvs = ParseKvs(j);
    return r;
  });
}

Result<GetResult> EtcdClient::Get(const std::string& key, int64_t revision) {
  ASSIGN_OR_RETURN(RangeResult range, GetRange(key, "", revision));
  GetResult r;
  r.revision = range.revision;
  if (!range.kvs.empty()) r.kv = std::move(range.kvs.front());
  return r;
}

Result<RangeResult> EtcdClient::GetPrefix(const std::string& prefix, int64_t revision) {
  return GetRange(prefix, PrefixRangeEnd(prefix), revision);
}

Result<int64_t> EtcdClient::Put(const std::string& key, const std::string& value, int64_t lease) {
  if (key.empty()) return Status::InvalidArgument("etcd key must not be empty");
  json req;
  req["key"] = Base64Encode(key);
  req["value"] = Base64Encode(value);
  if (lease != 0) req["lease"] = std::to_string(lease);
  ASSIGN_OR_RETURN(std::string text, Call("/v3/kv/put", req.dump(), CallKind::kMutation));
  return ParseResponse<int64_t>("/v3/kv/put", text,
                                [](const json& j) { return HeaderRevision(j); });
}

namespace {
Result<DeleteResult> ParseDelete(const std::string& text) {
  return ParseResponse<DeleteResult>("/v3/kv/deleterange", text, [](const json& j) {
    DeleteResult r;
    r.revision = HeaderRevision(j);
    r.deleted = GetInt(j, "deleted");
    return r;
  });
}
}  // namespace

Result<DeleteResult> EtcdClient::Delete(const std::string& key) {
  if (key.empty()) return Status::InvalidArgument("etcd key must not be empty");
  json req;
  req["key"] = Base64Encode(key);
  ASSIGN_OR_RETURN(std::string text, Call("/v3/kv/deleterange", req.dump(), CallKind::kMutation));
  return ParseDelete(text);
}

Result<DeleteResult> EtcdClient::DeletePrefix(const std::string& prefix) {
  json req;
  req["key"] = Base64Encode(prefix);
  req["range_end"] = Base64Encode(PrefixRangeEnd(prefix));
  ASSIGN_OR_RETURN(std::string text, Call("/v3/kv/deleterange", req.dump(), CallKind::kMutation));
  return ParseDelete(text);
}

Result<TxnResult> EtcdClient::Txn(const std::vector<Compare>& compares,
                                  const std::vector<TxnOp>& success,
                                  const std::vector<TxnOp>& failure) {
  json req;
  req["compare"] = json::array();
  req["success"] = json::array();
  req["failure"] = json::array();
  for (const Compare& c : compares) {
    if (c.key.empty()) return Status::InvalidArgument("etcd txn compare on an empty key");
    req["compare"].push_back(CompareJson(c));
  }
  for (const TxnOp& op : success) {
    if (op.key.empty() && op.range_end.empty()) {
      return Status::InvalidArgument("etcd txn op on an empty key");
    }
    req["success"].push_back(ModRequest(op));
  }
  for (const TxnOp& op : failure) {
    if (op.key.empty() && op.range_end.empty()) {
      return Status::InvalidArgument("etcd txn op on an empty key");
    }
    req["failure"].push_back(ModRequest(op));
  }
  ASSIGN_OR_RETURN(std::string text, Call("/v3/kv/txn", req.dump(), CallKind::kMutation));
  return ParseResponse<TxnResult>("/v3/kv/txn", text, [](const json& j) {
    TxnResult r;
    r.succeeded = GetBool(j, "succeeded");
    r.revision = HeaderRevision(j);
    for (const json& resp : GetArray(j, "responses")) {
      if (!resp.is_object()) throw MalformedResponse("a txn response is not an object");
      TxnOpResult op;
      if (resp.contains("response_range")) op.kvs = ParseKvs(GetObject(resp, "response_range"));
      if (resp.contains("response_delete_range")) {
        op.deleted = GetInt(GetObject(resp, "response_delete_range"), "deleted");
      }
      r.responses.push_back(std::move(op));
    }
    return r;
  });
}

Result<int64_t> EtcdClient::GrantLease(int64_t ttl_seconds) {
  if (ttl_seconds <= 0) {
    return Status::InvalidArgument("lease TTL must be positive, got " +
                                   std::to_string(ttl_seconds));
  }
  json req;
  req["TTL"] = std::to_string(ttl_seconds);
  ASSIGN_OR_RETURN(std::string text, Call("/v3/lease/grant", req.dump(), CallKind::kMutation));
  return ParseResponse<int64_t>("/v3/lease/grant", text, [](const json& j) -> int64_t {
    if (j.contains("error") && j["error"].is_string() && !j["error"].get<std::string>().empty()) {
      throw MalformedResponse("lease grant failed: " + j["error"].get<std::string>());
    }
    int64_t id = GetInt(j, "ID");
    if (id == 0) throw MalformedResponse("no lease ID in the answer");
    return id;
  });
}

Result<int64_t> EtcdClient::KeepAliveOnce(int64_t lease_id) {
  json req;
  req["ID"] = std::to_string(lease_id);
  ASSIGN_OR_RETURN(std::string text, Call("/v3/lease/keepalive", req.dump()));
  // A stream of {"result": ...} lines; the first answers our one request.
  std::string first = text.substr(0, text.find('\n'));
  ASSIGN_OR_RETURN(int64_t ttl,
                   ParseResponse<int64_t>("/v3/lease/keepalive", first, [](const json& j) {
                     if (j.contains("error")) {
                       throw MalformedResponse("stream error " + j["error"].dump());
                     }
                     return GetInt(GetObject(j, "result"), "TTL");
                   }));
  if (ttl <= 0) {
    return Status::NotFound("etcd lease " + std::to_string(lease_id) +
                            " has expired or does not exist");
  }
  return ttl;
}

Status EtcdClient::RevokeLease(int64_t lease_id) {
  json req;
  req["ID"] = std::to_string(lease_id);
  Result<std::string> r = Call("/v3/lease/revoke", req.dump());
  return r.status();
}

Status EtcdClient::Compact(int64_t revision) {
  if (revision <= 0) return Status::InvalidArgument("compaction revision must be positive");
  json req;
  req["revision"] = std::to_string(revision);
  req["physical"] = true;
  Result<std::string> r = Call("/v3/kv/compaction", req.dump());
  return r.status();
}

// -------------------------------------------------------------------- Watcher

Watcher::Watcher(EtcdClient* client, WatchOptions options, Callback callback)
    : client_(client),
      options_(std::move(options)),
      range_end_(options_.prefix ? PrefixRangeEnd(options_.key) : std::string()),
      callback_(std::move(callback)),
      next_revision_(options_.start_revision) {
  if (next_revision_ > 0) last_revision_.store(next_revision_ - 1);
  thread_ = std::thread([this] {
    SetThreadName("etcd-watch");
    Run();
  });
}

Watcher::~Watcher() { Stop(); }

void Watcher::Stop() {
  stopping_.store(true);
  cv_.notify_all();
  while (!done_.load()) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (active_ != nullptr) active_->stop();  // unblocks a stream read
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  if (thread_.joinable()) thread_.join();
}

bool Watcher::Resync() {
  Result<RangeResult> r = client_->GetRange(options_.key, range_end_, 0);
  if (!r.ok()) return false;
  WatchUpdate update;
  update.resync = true;
  update.revision = r->revision;
  update.snapshot = std::move(r->kvs);
  next_revision_ = update.revision + 1;
  callback_(update);
  // Published after the callback: last_revision() means "delivered".
  last_revision_.store(update.revision);
  return true;
}

void Watcher::RunStream(const std::string& endpoint, bool* connected, bool* compacted) {
  auto cli = MakeClient(endpoint, client_->options().connect_timeout, options_.idle_timeout);
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_.load()) return;
    active_ = cli.get();
  }
  json create;
  create["key"] = Base64Encode(options_.key);
  if (!range_end_.empty()) create["range_end"] = Base64Encode(range_end_);
  if (next_revision_ > 0) create["start_revision"] = std::to_string(next_revision_);
  json body = {{"create_request", create}};

  std::string buffer;
  auto handle_line = [&](const std::string& line) -> bool {
    try {
      json j = ParseObject(line);
      if (j.contains("error")) return false;  // stream-level error: reopen
      const json& result = GetObject(j, "result");
      if (GetBool(result, "created")) {
        *connected = true;
        if (next_revision_ == 0) {
          next_revision_ = HeaderRevision(result) + 1;
          last_revision_.store(next_revision_ - 1);
        }
      }
      if (GetInt(result, "compact_revision") > 0) {
        *compacted = true;
        return false;
      }
      if (GetBool(result, "canceled")) return false;
      WatchUpdate update;
      for (const json& e : GetArray(result, "events")) {
        if (!e.is_object()) throw MalformedResponse("a watch event is not an object");
        WatchEvent ev;
        auto type = e.find("type");
        if (type != e.end() && type->is_string() && *type == "DELETE") {
          ev.type = WatchEvent::Type::kDelete;
        }
        ev.kv = ParseKv(GetObject(e, "kv"));
        if (ev.kv.mod_revision < next_revision_) continue;  // already delivered
        update.revision = std::max(update.revision, ev.kv.mod_revision);
        update.events.push_back(std::move(ev));
      }
      if (!update.events.empty()) {
        next_revision_ = update.revision + 1;
        callback_(update);
        // Published after the callback: last_revision() means "delivered".
        last_revision_.store(update.revision);
      }
      return true;
    } catch (const std::exception&) {
      return false;  // a malformed line: drop the stream and reopen
    }
  };

  httplib::Request req;
  req.method = "POST";
  req.path = "/v3/watch";
  req.body = body.dump();
  req.set_header("Content-Type", "application/json");
  req.content_receiver = [&](const char* data, size_t n, uint64_t, uint64_t) {
    if (stopping_.load()) return false;
    buffer.append(data, n);
    size_t nl;
    while ((nl = buffer.find('\n')) != std::string::npos) {
      std::string line = buffer.substr(0, nl);
      buffer.erase(0, nl + 1);
      if (line.find_first_not_of(" \r\t") == std::string::npos) continue;
      if (!handle_line(line)) return false;
    }
    return !stopping_.load();
  };
  streams_opened_.fetch_add(1);
  httplib::Response res;
  httplib::Error err = httplib::Error::Success;
  cli->send(req, res, err);
  std::lock_guard<std::mutex> lock(mu_);
  active_ = nullptr;
}

void Watcher::Run() {
  const size_t n = client_->endpoints().size();
  size_t idx = client_->preferred_endpoint() % n;
  size_t failures = 0;
  auto pause = [this](std::chrono::milliseconds d) {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait_for(lock, d, [this] { return stopping_.load(); });
  };
  while (!stopping_.load()) {
    bool connected = false;
    bool compacted = false;
    RunStream(client_->endpoints()[idx], &connected, &compacted);
    if (stopping_.load()) break;
    if (compacted) {
      while (!stopping_.load() && !Resync()) pause(options_.retry_delay);
      continue;
    }
    if (connected) {
      failures = 0;
      pause(options_.retry_delay);
      continue;
    }
    // The endpoint did not answer (or broke the stream before it began): try
    // the next one, pausing after each full round.
    idx = (idx + 1) % n;
    if (++failures % n == 0) pause(options_.retry_delay);
  }
  done_.store(true);
}

}  // namespace tessera::cluster
