#include "cli/node_client.h"

#include <fcntl.h>
#include <httplib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <filesystem>
#include <functional>
#include <random>
#include <vector>

#include "common/host_port.h"
#include "common/sha256.h"

namespace tessera::cli {
namespace {

using nlohmann::json;

constexpr size_t kIoChunk = 1 << 20;
// Error bodies are small JSON; anything longer is not from a node.
constexpr size_t kMaxErrorBody = 64 << 10;

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool IsHex64(std::string_view s) {
  return s.size() == 64 && std::all_of(s.begin(), s.end(), [](char c) {
           return std::isxdigit(static_cast<unsigned char>(c)) != 0;
         });
}

// The bytes of a body quoted for a message: short and without control bytes.
std::string Snippet(std::string_view body) {
  std::string out;
  for (unsigned char c : body.substr(0, 200)) out += (c < 0x20 || c == 0x7f) ? ' ' : char(c);
  if (body.size() > 200) out += "...";
  return out;
}

StatusCode CodeForHttpStatus(int http_status) {
  switch (http_status) {
    case 400:
    case 416:
      return StatusCode::kInvalidArgument;
    // The node forbids writes to its reserved namespaces (docs/api.md): the
    // request names the wrong place, and no StatusCode says "forbidden".
    case 403:
      return StatusCode::kInvalidArgument;
    case 404:
      return StatusCode::kNotFound;
    case 409:
      return StatusCode::kAlreadyExists;
    case 412:
      return StatusCode::kFailedPrecondition;
    case 413:
      return StatusCode::kTooLarge;
    case 502:
    case 503:
    case 504:
      return StatusCode::kUnavailable;
    case 507:
      return StatusCode::kNoSpace;
    default:
      return StatusCode::kInternal;
  }
}

// A node's error reply, {"error": {"code": ..., "message": ...}}, as a Status.
// Bodies that are not ours (a proxy's HTML, the wrong port) still give a
// Status whose code follows the HTTP status, and say what came back.
Status StatusFromHttp(int http_status, std::string_view body, std::string_view request) {
  json j = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (!j.is_discarded() && j.is_object() && j.contains("error") && j["error"].is_object()) {
    const json& e = j["error"];
    std::string name = e.value("code", "");
    std::string message = e.value("message", "");
    StatusCode code = CodeForHttpStatus(http_status);
    for (int c = static_cast<int>(StatusCode::kInvalidArgument);
         c <= static_cast<int>(StatusCode::kInternal); ++c) {
      if (StatusCodeName(static_cast<StatusCode>(c)) == name) code = static_cast<StatusCode>(c);
    }
    if (message.empty()) {
      message =
          "node answered " + std::string(request) + " with HTTP " + std::to_string(http_status);
    } else if (http_status == 403) {
      // The code (kInvalidArgument) alone would not say that it was refused.
      message = std::string(request) + " is forbidden: " + message;
    }
    return Status(code, std::move(message));
  }
  std::string message =
      "node answered " + std::string(request) + " with HTTP " + std::to_string(http_status);
  if (!body.empty()) message += ": " + Snippet(body);
  return Status(CodeForHttpStatus(http_status), std::move(message));
}

// httplib's transport errors, in words an operator can act on. All are
// kUnavailable: the request may be retried once the node is back.
Status TransportError(const std::string& url, httplib::Error error) {
  switch (error) {
    case httplib::Error::Connection:
      return Status::Unavailable("cannot reach node at " + url +
                                 ": connection failed (is a node listening there?)");
    case httplib::Error::ConnectionTimeout:
      return Status::Unavailable("cannot reach node at " + url + ": no connection within 5 s");
    case httplib::Error::Read:
      return Status::Unavailable("lost connection to node at " + url +
                                 " while reading its response (closed, or silent for 300 s)");
    case httplib::Error::Write:
      return Status::Unavailable("lost connection to node at " + url +
                                 " while sending the request (closed, or stalled for 300 s)");
    default:
      return Status::Unavailable("cannot reach node at " + url + ": " + httplib::to_string(error));
  }
}

std::string FileTarget(std::string_view ns, std::string_view path) {
  return "/v1/files/" + PercentEncode(ns, false) + "/" + PercentEncode(path, true);
}

std::string Describe(std::string_view method, std::string_view ns, std::string_view path) {
  return std::string(method) + " " + std::string(ns) + "/" + std::string(path);
}

Result<json> ParseJsonBody(const std::string& body, std::string_view request) {
  json j = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) {
    return Status::Internal("node answered " + std::string(request) +
                            " with a body that is not a JSON object: " + Snippet(body));
  }
  return j;
}

// ETag: "hex", W/"hex" or hex. Empty unless it looks like a sha256.
std::string Sha256FromEtag(std::string etag) {
  if (etag.rfind("W/", 0) == 0) etag.erase(0, 2);
  if (etag.size() >= 2 && etag.front() == '"' && etag.back() == '"') {
    etag = etag.substr(1, etag.size() - 2);
  }
  return IsHex64(etag) ? Lower(etag) : std::string();
}

class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  // close(2) can report a deferred write error, so its result matters.
  int Close() {
    int rc = ::close(fd_);
    fd_ = -1;
    return rc;
  }

 private:
  int fd_;
};

Status WriteAll(int fd, const char* data, size_t size, const std::string& what) {
  while (size > 0) {
    ssize_t n = ::write(fd, data, size);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Status::FromErrno(errno, "writing " + what);
    }
    data += n;
    size -= static_cast<size_t>(n);
  }
  return Status::Ok();
}

// "dir/" or "dir/.." names no file a download could become.
Status CheckNamesFile(const std::string& local_path) {
  const std::string name = std::filesystem::path(local_path).filename().string();
  if (name.empty() || name == "." || name == "..") {
    return Status::InvalidArgument("'" + local_path + "' does not name a file to write");
  }
  return Status::Ok();
}

// What a download to a local path lands on.
struct Destination {
  std::string path;  // the local path with any symlinks at its end followed
  bool exists = false;
  mode_t mode = 0;  // of `path`, if it exists
};

// Follows the symlinks that the local path itself names, so that a link is
// left in place and its target replaced (cp(1) does the same); a dangling
// link resolves to the file it would name.
Result<Destination> ResolveDestination(const std::string& local_path) {
  constexpr int kMaxSymlinks = 40;  // Linux's own limit for a path lookup
  Destination dest{local_path};
  for (int links = 0;; ++links) {
    struct stat st {};
    if (::lstat(dest.path.c_str(), &st) != 0) {
      if (errno == ENOENT) return dest;
      return Status::FromErrno(errno, "examining " + dest.path);
    }
    if (!S_ISLNK(st.st_mode)) {
      dest.exists = true;
      dest.mode = st.st_mode;
      return dest;
    }
    if (links == kMaxSymlinks) return Status::FromErrno(ELOOP, "following " + local_path);
    std::error_code ec;
    const std::filesystem::path target = std::filesystem::read_symlink(dest.path, ec);
    if (ec) return Status::FromErrno(ec.value(), "reading the symlink " + dest.path);
    // A relative target is relative to the link's directory.
    dest.path = target.is_absolute()
                    ? target.string()
                    : (std::filesystem::path(dest.path).parent_path() / target).string();
  }
}

using DownloadFn = std::function<Result<FetchedFile>(const NodeClient::SinkFn&)>;

// Streams the download into an open FIFO or device as the bytes arrive.
Result<FetchedFile> WriteThrough(Fd& fd, const std::string& local_path,
                                 const DownloadFn& download) {
  auto sink = [&](const char* data, size_t size) {
    return WriteAll(fd.get(), data, size, local_path);
  };
  ASSIGN_OR_RETURN(FetchedFile fetched, download(sink));
  // Flushes a block device's cache; FIFOs and most character devices have
  // nothing to flush and say EINVAL.
  if (::fsync(fd.get()) != 0 && errno != EINVAL && errno != EROFS) {
    return Status::FromErrno(errno, "flushing " + local_path);
  }
  if (fd.Close() != 0) return Status::FromErrno(errno, "closing " + local_path);
  return fetched;
}

// Downloads into a temporary file beside `target`, then renames it over
// `target` once complete and checked.
Result<FetchedFile> ReplaceFile(const std::string& target, const DownloadFn& download) {
  namespace fs = std::filesystem;
  RETURN_IF_ERROR(CheckNamesFile(target));
  const fs::path dest(target);
  const std::string name = dest.filename().string();
  const fs::path dir = dest.has_parent_path() ? dest.parent_path() : fs::path(".");

  // A hidden sibling, so the rename is atomic (same directory, same file
  // system) and a crash leaves only an obviously temporary file. Opened with
  // O_EXCL under a random name rather than mkstemp so the umask applies as
  // for any new file.
  std::random_device random;
  std::string tmp;
  int raw_fd = -1;
  for (int attempt = 0; attempt < 100 && raw_fd < 0; ++attempt) {
    char suffix[16];
    std::snprintf(suffix, sizeof(suffix), "%08x", static_cast<unsigned>(random()));
    std::string tmp_name = ".";
    tmp_name.append(name, 0, 200).append(".tessera-").append(suffix);
    tmp = (dir / tmp_name).string();
    raw_fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (raw_fd < 0 && errno != EEXIST) {
      return Status::FromErrno(errno, "creating a temporary file in " + dir.string());
    }
  }
  if (raw_fd < 0) {
    return Status::IOError("could not create a temporary file in " + dir.string());
  }
  Fd fd(raw_fd);
  bool keep = false;
  struct Cleanup {
    const std::string& tmp;
    const bool& keep;
    ~Cleanup() {
      if (!keep) ::unlink(tmp.c_str());
    }
  } cleanup{tmp, keep};

  auto sink = [&](const char* data, size_t size) { return WriteAll(fd.get(), data, size, tmp); };
  ASSIGN_OR_RETURN(FetchedFile fetched, download(sink));
  // Durable before it becomes visible: after a crash the destination holds
  // either its old content or all of the new.
  if (::fsync(fd.get()) != 0) return Status::FromErrno(errno, "flushing " + tmp);
  if (fd.Close() != 0) return Status::FromErrno(errno, "closing " + tmp);
  if (::rename(tmp.c_str(), target.c_str()) != 0) {
    return Status::FromErrno(errno, "renaming " + tmp + " to " + target);
  }
  keep = true;
  return fetched;
}

}  // namespace

std::string NodeUrl::ToString() const { return "http://" + HostPort{host, port}.ToString(); }

Result<NodeUrl> ParseNodeUrl(std::string_view url) {
  const std::string quoted = "node URL '" + Snippet(url) + "'";
  const std::string example = " (e.g. http://127.0.0.1:8080)";
  if (url.empty()) return Status::InvalidArgument("node URL is empty" + example);
  std::string lower = Lower(url);
  if (lower.rfind("https://", 0) == 0) {
    return Status::InvalidArgument(quoted + ": https is not supported, nodes serve plain http" +
                                   example);
  }
  if (lower.rfind("http://", 0) != 0) {
    if (lower.find("://") != std::string::npos) {
      return Status::InvalidArgument(quoted + ": the scheme must be http" + example);
    }
    return Status::InvalidArgument(quoted + " must start with http://" + example);
  }
  std::string_view rest = url.substr(7);
  if (!rest.empty() && rest.back() == '/') rest.remove_suffix(1);
  if (size_t bad = rest.find_first_of("/?#"); bad != std::string_view::npos) {
    return Status::InvalidArgument(quoted + " has a path or query ('" + Snippet(rest.substr(bad)) +
                                   "'); give only http://HOST:PORT");
  }
  if (rest.find('@') != std::string_view::npos) {
    return Status::InvalidArgument(quoted + " has user info; give only http://HOST:PORT");
  }
  ASSIGN_OR_RETURN(HostPort address, ParseHostPort(rest, quoted));
  return NodeUrl{std::move(address.host), address.port};
}

std::string PercentEncode(std::string_view text, bool keep_slash) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size());
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~' ||
        (keep_slash && c == '/')) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

NodeClient::NodeClient(NodeUrl url, std::unique_ptr<httplib::Client> http)
    : url_(url.ToString()), http_(std::move(http)) {}

NodeClient::~NodeClient() = default;

Result<std::unique_ptr<NodeClient>> NodeClient::Create(std::string_view base_url) {
  ASSIGN_OR_RETURN(NodeUrl url, ParseNodeUrl(base_url));
  auto http = std::make_unique<httplib::Client>(url.host, url.port);
  http->set_connection_timeout(5, 0);
  http->set_read_timeout(300, 0);
  http->set_write_timeout(300, 0);
  http->set_keep_alive(true);
  http->set_tcp_nodelay(true);
  // Targets are percent-encoded here; httplib's own pass would leave '%' as
  // is but is not a documented contract, so it is off.
  http->set_url_encode(false);
  // Compressed bodies would make Content-Length count the wire bytes, not the
  // file's, and file data rarely compresses: ask for none.
  http->set_default_headers({{"Accept-Encoding", "identity"}});
  return std::unique_ptr<NodeClient>(new NodeClient(std::move(url), std::move(http)));
}

Result<json> NodeClient::GetJson(const std::string& target) {
  httplib::Result res = http_->Get(target);
  if (!res) return TransportError(url_, res.error());
  if (res->status != 200) return StatusFromHttp(res->status, res->body, "GET " + target);
  return ParseJsonBody(res->body, "GET " + target);
}

Result<json> NodeClient::PutFile(std::string_view ns, std::string_view path,
                                 const std::string& local_path, ProgressFn progress) {
  Fd fd(::open(local_path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) return Status::FromErrno(errno, "opening " + local_path);
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return Status::FromErrno(errno, "examining " + local_path);
  if (!S_ISREG(st.st_mode)) {
    return Status::InvalidArgument(local_path + " is not a regular file");
  }
  const auto size = static_cast<uint64_t>(st.st_size);

  Sha256 sha;
  uint64_t hashed = 0;
  bool hash_in_order = true;
  Status local_error;
  std::vector<char> buffer(std::min<uint64_t>(kIoChunk, std::max<uint64_t>(size, 1)));
  auto provider = [&](size_t offset, size_t length, httplib::DataSink& sink) -> bool {
    size_t want = std::min(length, buffer.size());
    ssize_t n;
    do {
      n = ::pread(fd.get(), buffer.data(), want, static_cast<off_t>(offset));
    } while (n < 0 && errno == EINTR);
    if (n < 0) {
      local_error = Status::FromErrno(errno, "reading " + local_path);
      return false;
    }
    if (n == 0) {
      local_error =
          Status::IOError(local_path + " shrank to " + std::to_string(offset) +
                          " bytes while it was being sent (it had " + std::to_string(size) + ")");
      return false;
    }
    // httplib asks for the body in order; should that ever change, the check
    // below is skipped rather than computed over shuffled bytes.
    if (offset == hashed) {
      sha.Update(buffer.data(), static_cast<size_t>(n));
      hashed += static_cast<uint64_t>(n);
    } else {
      hash_in_order = false;
    }
    // A failed write is httplib's to report (Error::Write); returning false
    // would make it look like a cancellation.
    if (!sink.write(buffer.data(), static_cast<size_t>(n))) return true;
    if (progress) progress(offset + static_cast<uint64_t>(n), size);
    return true;
  };
  const std::string request = Describe("PUT", ns, path);
  httplib::Result res = http_->Put(FileTarget(ns, path), httplib::Headers{}, size, provider,
                                   "application/octet-stream");
  if (!local_error.ok()) return local_error;
  if (!res) return TransportError(url_, res.error());
  if (res->status != 200 && res->status != 201) {
    return StatusFromHttp(res->status, res->body, request);
  }
  ASSIGN_OR_RETURN(json record, ParseJsonBody(res->body, request));

  if (record.contains("size") && record["size"].is_number_unsigned() &&
      record["size"].get<uint64_t>() != size) {
    return Status::Corruption("node recorded " + std::to_string(record["size"].get<uint64_t>()) +
                              " bytes for " + std::string(ns) + "/" + std::string(path) + " but " +
                              std::to_string(size) + " were sent");
  }
  if (hash_in_order && hashed == size && record.contains("sha256") &&
      record["sha256"].is_string()) {
    std::string local = sha.HexDigest();
    std::string remote = Lower(record["sha256"].get<std::string>());
    if (remote != local) {
      return Status::Corruption("node recorded sha256 " + remote + " for " + std::string(ns) + "/" +
                                std::string(path) + " but the bytes sent hash to " + local);
    }
  }
  return record;
}

Result<FetchedFile> NodeClient::Download(std::string_view ns, std::string_view path,
                                         const SinkFn& sink, const ProgressFn& progress) {
  int http_status = 0;
  uint64_t total = 0;
  bool check_length = false;
  std::string etag;
  std::string error_body;
  Status sink_error;
  Sha256 sha;
  uint64_t received = 0;

  auto on_response = [&](const httplib::Response& r) {
    http_status = r.status;
    if (r.status == 200) {
      etag = r.get_header_value("ETag");
      const std::string length = r.get_header_value("Content-Length");
      auto [p, ec] = std::from_chars(length.data(), length.data() + length.size(), total);
      // With a content coding the header counts encoded bytes, not ours.
      check_length = ec == std::errc() && p == length.data() + length.size() &&
                     !r.has_header("Content-Encoding");
      if (!check_length) total = 0;
    }
    return true;
  };
  auto on_data = [&](const char* data, size_t size) {
    if (http_status != 200) {
      size_t room = kMaxErrorBody - std::min(kMaxErrorBody, error_body.size());
      error_body.append(data, std::min(size, room));
      return true;
    }
    sha.Update(data, size);
    received += size;
    sink_error = sink(data, size);
    if (!sink_error.ok()) return false;
    if (progress) progress(received, total);
    return true;
  };
  const std::string request = Describe("GET", ns, path);
  httplib::Result res = http_->Get(FileTarget(ns, path), on_response, on_data);
  if (!sink_error.ok()) return sink_error;
  if (!res) return TransportError(url_, res.error());
  if (res->status != 200) {
    return StatusFromHttp(res->status, error_body.empty() ? res->body : error_body, request);
  }
  if (check_length && received != total) {
    return Status::Unavailable("node at " + url_ + " sent " + std::to_string(received) + " of " +
                               std::to_string(total) + " bytes of " + std::string(ns) + "/" +
                               std::string(path));
  }
  FetchedFile fetched;
  fetched.size = received;
  fetched.sha256 = sha.HexDigest();
  std::string expected = Sha256FromEtag(etag);
  if (!expected.empty()) {
    if (expected != fetched.sha256) {
      return Status::Corruption("node at " + url_ + " says " + std::string(ns) + "/" +
                                std::string(path) + " has sha256 " + expected +
                                " but the bytes received hash to " + fetched.sha256);
    }
    fetched.sha256_checked = true;
  }
  return fetched;
}

Result<FetchedFile> NodeClient::GetToSink(std::string_view ns, std::string_view path,
                                          const SinkFn& sink, ProgressFn progress) {
  return Download(ns, path, sink, progress);
}

Result<FetchedFile> NodeClient::GetFile(std::string_view ns, std::string_view path,
                                        const std::string& local_path, ProgressFn progress) {
  RETURN_IF_ERROR(CheckNamesFile(local_path));
  ASSIGN_OR_RETURN(Destination dest, ResolveDestination(local_path));
  auto download = [&](const SinkFn& sink) { return Download(ns, path, sink, progress); };
  if (dest.exists && S_ISDIR(dest.mode)) {
    return Status::InvalidArgument("'" + local_path + "' is a directory");
  }
  if (dest.exists && !S_ISREG(dest.mode)) {
    // Blocks until a FIFO has a reader, as cp(1) does.
    Fd fd(::open(dest.path.c_str(), O_WRONLY | O_CLOEXEC | O_NOCTTY));
    if (fd.get() < 0) return Status::FromErrno(errno, "opening " + local_path);
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) return Status::FromErrno(errno, "examining " + local_path);
    // Writing in place into a regular file that took the special file's name
    // meanwhile would clobber it without truncating it: it gets the
    // temporary file instead, like any regular file.
    if (!S_ISREG(st.st_mode)) return WriteThrough(fd, local_path, download);
  }
  return ReplaceFile(dest.path, download);
}

Result<json> NodeClient::Stat(std::string_view ns, std::string_view path) {
  httplib::Result res =
      http_->Get("/v1/stat/" + PercentEncode(ns, false) + "/" + PercentEncode(path, true));
  if (!res) return TransportError(url_, res.error());
  std::string request = Describe("stat", ns, path);
  if (res->status != 200) return StatusFromHttp(res->status, res->body, request);
  return ParseJsonBody(res->body, request);
}

Result<json> NodeClient::List(std::string_view ns, std::string_view prefix, std::string_view marker,
                              uint32_t limit) {
  std::string target = "/v1/files/" + PercentEncode(ns, false) + "/";
  std::string query;
  auto add = [&](std::string_view key, std::string_view value) {
    query += query.empty() ? "?" : "&";
    query += std::string(key) + "=" + PercentEncode(value, false);
  };
  if (!prefix.empty()) add("prefix", prefix);
  if (!marker.empty()) add("marker", marker);
  if (limit > 0) add("limit", std::to_string(limit));
  httplib::Result res = http_->Get(target + query);
  if (!res) return TransportError(url_, res.error());
  std::string request = "list " + std::string(ns) + "/" + std::string(prefix);
  if (res->status != 200) return StatusFromHttp(res->status, res->body, request);
  ASSIGN_OR_RETURN(json page, ParseJsonBody(res->body, request));
  if (!page.contains("files") || !page["files"].is_array()) {
    return Status::Internal("node answered " + request + " without a \"files\" array");
  }
  return page;
}

Status NodeClient::Delete(std::string_view ns, std::string_view path) {
  httplib::Result res = http_->Delete(FileTarget(ns, path));
  if (!res) return TransportError(url_, res.error());
  if (res->status != 204 && res->status != 200) {
    return StatusFromHttp(res->status, res->body, Describe("DELETE", ns, path));
  }
  return Status::Ok();
}

Result<json> NodeClient::NodeInfo() { return GetJson("/v1/node"); }

Result<json> NodeClient::PostJson(const std::string& target, const json& body) {
  httplib::Result res = http_->Post(target, body.dump(), "application/json");
  if (!res) return TransportError(url_, res.error());
  if (res->status != 200 && res->status != 201) {
    return StatusFromHttp(res->status, res->body, "POST " + target);
  }
  return ParseJsonBody(res->body, "POST " + target);
}

Result<json> NodeClient::Clone(const std::string& from, const std::string& to) {
  return PostJson("/v1/clone", {{"from", from}, {"to", to}});
}

Result<json> NodeClient::CreateSnapshot(const std::string& name,
                                        const std::vector<std::string>& files) {
  return PostJson("/v1/snapshots", {{"name", name}, {"files", files}});
}

Result<json> NodeClient::ListSnapshots() { return GetJson("/v1/snapshots"); }

Result<json> NodeClient::ShowSnapshot(const std::string& name) {
  return GetJson("/v1/snapshots/" + PercentEncode(name, false));
}

Status NodeClient::DeleteSnapshot(const std::string& name) {
  const std::string target = "/v1/snapshots/" + PercentEncode(name, false);
  httplib::Result res = http_->Delete(target);
  if (!res) return TransportError(url_, res.error());
  if (res->status != 204) return StatusFromHttp(res->status, res->body, "DELETE " + target);
  return Status::Ok();
}

}  // namespace tessera::cli
