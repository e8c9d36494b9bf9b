#include "meta/shard_entry.h"

#include "common/coding.h"

namespace tessera::meta {

std::string LogVersion::ToString() const {
  return std::to_string(epoch) + "." + std::to_string(seq);
}

std::string EncodeLogVersion(LogVersion version) {
  std::string out;
  AppendBE64(&out, static_cast<uint64_t>(version.epoch));
  AppendBE64(&out, version.seq);
  return out;
}

Result<LogVersion> DecodeLogVersion(std::string_view bytes) {
  if (bytes.size() != 16)
    return Status::Corruption("log version of " + std::to_string(bytes.size()) + " bytes");
  const auto* p = reinterpret_cast<const uint8_t*>(bytes.data());
  LogVersion v;
  v.epoch = static_cast<int64_t>(GetBE64(p));
  v.seq = GetBE64(p + 8);
  return v;
}

// Layout: version (16 bytes), kind ('P' put, 'D' remove), then the record
// (EncodeFileRecord) or, for a remove, ns '\0' path.
std::string EncodeShardEntry(const ShardEntry& entry) {
  std::string out = EncodeLogVersion(entry.version);
  if (entry.remove) {
    out.push_back('D');
    out += entry.record.ns;
    out.push_back('\0');
    out += entry.record.path;
  } else {
    out.push_back('P');
    out += EncodeFileRecord(entry.record);
  }
  return out;
}

Result<ShardEntry> DecodeShardEntry(std::string_view bytes) {
  if (bytes.size() < 17) return Status::Corruption("shard entry too short");
  ShardEntry entry;
  ASSIGN_OR_RETURN(entry.version, DecodeLogVersion(bytes.substr(0, 16)));
  std::string_view body = bytes.substr(17);
  switch (bytes[16]) {
    case 'P': {
      ASSIGN_OR_RETURN(entry.record, DecodeFileRecord(body));
      return entry;
    }
    case 'D': {
      size_t nul = body.find('\0');
      if (nul == std::string_view::npos) return Status::Corruption("remove entry without a path");
      entry.remove = true;
      entry.record.ns = std::string(body.substr(0, nul));
      entry.record.path = std::string(body.substr(nul + 1));
      return entry;
    }
    default:
      return Status::Corruption("shard entry of unknown kind");
  }
}

}  // namespace tessera::meta
