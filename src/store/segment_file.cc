#include "store/segment_file.h"

#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>

#include "common/fs_util.h"

namespace tessera::store {
namespace {

// Moves rest[first..] past `n` bytes just transferred (a short transfer
// resumes inside an iovec) and `first` past every iovec left empty.
void Advance(std::vector<iovec>& rest, size_t& first, size_t n) {
  while (first < rest.size()) {
    size_t take = std::min(n, rest[first].iov_len);
    rest[first].iov_base = static_cast<uint8_t*>(rest[first].iov_base) + take;
    rest[first].iov_len -= take;
    n -= take;
    if (rest[first].iov_len > 0) break;
    ++first;
  }
}

}  // namespace

std::string SegmentFile::FileName(uint32_t id) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%08u.seg", id);
  return buf;
}

std::optional<uint32_t> SegmentFile::ParseFileName(std::string_view name) {
  if (name.size() != 12 || name.substr(8) != ".seg") return std::nullopt;
  uint64_t id = 0;
  for (char c : name.substr(0, 8)) {
    if (c < '0' || c > '9') return std::nullopt;
    id = id * 10 + static_cast<uint64_t>(c - '0');
  }
  return static_cast<uint32_t>(id);
}

Result<std::shared_ptr<SegmentFile>> SegmentFile::Create(const std::string& dir, uint32_t id) {
  std::string path = dir + "/" + FileName(id);
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  // ENOENT: the segments directory is gone, a drive fault, not a missing file.
  if (fd < 0 && errno == ENOENT) {
    return Status::Unavailable("creating segment " + path + ": the directory is gone");
  }
  if (fd < 0) return Status::FromErrno(errno, "creating segment " + path);
  std::shared_ptr<SegmentFile> file(new SegmentFile(id, path, fd));
  RETURN_IF_ERROR(SyncDir(dir));
  return file;
}

Result<std::shared_ptr<SegmentFile>> SegmentFile::Open(const std::string& dir, uint32_t id) {
  std::string path = dir + "/" + FileName(id);
  int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
  if (fd < 0) return Status::FromErrno(errno, "opening segment " + path);
  return std::shared_ptr<SegmentFile>(new SegmentFile(id, path, fd));
}

SegmentFile::~SegmentFile() { ::close(fd_); }

Status SegmentFile::WriteAt(uint64_t offset, std::span<const iovec> iov) const {
  std::vector<iovec> rest(iov.begin(), iov.end());
  size_t first = 0;
  Advance(rest, first, 0);
  while (first < rest.size()) {
    int count = static_cast<int>(std::min<size_t>(rest.size() - first, IOV_MAX));
    ssize_t n = ::pwritev(fd_, rest.data() + first, count, static_cast<off_t>(offset));
    if (n < 0) {
      if (errno == EINTR) continue;
      return Status::FromErrno(errno, "writing " + path_ + " at offset " + std::to_string(offset));
    }
    offset += static_cast<uint64_t>(n);
    Advance(rest, first, static_cast<size_t>(n));
  }
  return Status::Ok();
}

Result<uint64_t> SegmentFile::ReadAt(uint64_t offset, std::span<const iovec> iov) const {
  std::vector<iovec> rest(iov.begin(), iov.end());
  uint64_t total = 0;
  size_t first = 0;
  Advance(rest, first, 0);
  while (first < rest.size()) {
    int count = static_cast<int>(std::min<size_t>(rest.size() - first, IOV_MAX));
    ssize_t n = ::preadv(fd_, rest.data() + first, count, static_cast<off_t>(offset));
    if (n < 0) {
      if (errno == EINTR) continue;
      return Status::FromErrno(errno, "reading " + path_ + " at offset " + std::to_string(offset));
    }
    if (n == 0) break;  // end of file
    offset += static_cast<uint64_t>(n);
    total += static_cast<uint64_t>(n);
    Advance(rest, first, static_cast<size_t>(n));
  }
  return total;
}

Status SegmentFile::DataSync() const {
  if (::fdatasync(fd_) != 0) return Status::FromErrno(errno, "fdatasync " + path_);
  return Status::Ok();
}

Status SegmentFile::CheckLinked() const {
  struct stat st {};
  if (::fstat(fd_, &st) == 0 && st.st_nlink == 0) {
    return Status::IOError("segment " + path_ + " was removed from the drive; its pieces are lost");
  }
  return Status::Ok();
}

Status SegmentFile::Truncate(uint64_t size) const {
  if (::ftruncate(fd_, static_cast<off_t>(size)) != 0) {
    return Status::FromErrno(errno, "truncating " + path_ + " to " + std::to_string(size));
  }
  return Status::Ok();
}

Result<uint64_t> SegmentFile::Size() const {
  struct stat sb;
  if (::fstat(fd_, &sb) != 0) return Status::FromErrno(errno, "stat " + path_);
  return static_cast<uint64_t>(sb.st_size);
}

Status ReadRecord(const SegmentFile& file, uint64_t offset, const PieceId& id, uint64_t length,
                  std::vector<uint8_t>* prefix, std::vector<uint8_t>* payload) {
  if (length > kMaxPieceLength) {
    return Status::Corruption("index gives an impossible length " + std::to_string(length));
  }
  prefix->resize(RecordPrefixSize(length));
  payload->resize(length);
  iovec iov[2] = {{prefix->data(), prefix->size()}, {payload->data(), payload->size()}};
  ASSIGN_OR_RETURN(uint64_t got, file.ReadAt(offset, iov));
  if (got != RecordSize(length)) {
    return Status::Corruption("record truncated: " + std::to_string(got) + " of " +
                              std::to_string(RecordSize(length)) + " bytes present");
  }
  RecordHeader header;
  RETURN_IF_ERROR(DecodeRecordHeader(*prefix, &header));
  if (header.id != id || header.length != length) {
    return Status::Corruption("record holds piece " + header.id.ToString() + " of length " +
                              std::to_string(header.length) + ", index expects piece " +
                              id.ToString() + " of length " + std::to_string(length));
  }
  RETURN_IF_ERROR(VerifyRecordPrefix(*prefix));
  return VerifyRecordPayload(*prefix, *payload);
}

Result<ScanResult> ScanSegment(const SegmentFile& file, uint64_t start, uint64_t end,
                               const std::function<void(const ScannedRecord&)>& fn) {
  uint64_t offset = start;
  std::vector<uint8_t> prefix, payload;
  auto stop = [&](std::string reason) {
    return ScanResult{offset, "at offset " + std::to_string(offset) + ": " + reason};
  };
  while (offset < end) {
    if (end - offset < kRecordHeaderSize) return stop("torn record header");
    uint8_t header_bytes[kRecordHeaderSize];
    iovec hiov{header_bytes, kRecordHeaderSize};
    ASSIGN_OR_RETURN(uint64_t got, file.ReadAt(offset, {&hiov, 1}));
    if (got != kRecordHeaderSize) return stop("torn record header");
    ScannedRecord rec;
    rec.offset = offset;
    Status st = DecodeRecordHeader({header_bytes, kRecordHeaderSize}, &rec.header);
    if (!st.ok()) return stop(st.message());
    const uint64_t size = RecordSize(rec.header.length);
    if (size > end - offset) return stop("torn record (" + std::to_string(size) + " bytes)");
    prefix.resize(RecordPrefixSize(rec.header.length));
    payload.resize(rec.header.length);
    iovec iov[2] = {{prefix.data(), prefix.size()}, {payload.data(), payload.size()}};
    ASSIGN_OR_RETURN(got, file.ReadAt(offset, iov));
    if (got != size) return stop("torn record (" + std::to_string(size) + " bytes)");
    st = VerifyRecordPrefix(prefix);
    if (!st.ok()) return stop(st.message());
    st = VerifyRecordPayload(prefix, payload);
    rec.payload_ok = st.ok();
    rec.payload_error = st.message();
    fn(rec);
    offset += size;
  }
  return ScanResult{offset, ""};
}

}  // namespace tessera::store
