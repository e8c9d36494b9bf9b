// A client's metadata request as a shard's primary serves it, and its reply:
// what one node forwards to another when the file's shard is led elsewhere.
// Value types; the JSON encoding is their wire form.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"
#include "meta/file_record.h"
#include "meta/metadata_store.h"

namespace tessera::meta {

struct ShardRequest {
  enum class Op { kGet, kPut, kReplacePlacement, kDelete, kList, kScan };
  Op op = Op::kGet;
  int64_t epoch = 0;   // the shard map epoch the sender routed by
  uint32_t shard = 0;  // unused by kList, which covers every shard the primary leads
  // kPut, kReplacePlacement: the record. kGet, kDelete: ns and path.
  // kScan: ns and path of the last record seen ("" for the start).
  FileRecord record;
  std::string prefix;                           // kList
  std::string marker;                           // kList
  size_t limit = 0;                             // kList, kScan
  uint64_t expected_object_id = 0;              // kReplacePlacement: the content it must still be
  std::optional<int64_t> expected_modified_ns;  // kReplacePlacement, if set: and this version
};

struct ShardReply {
  // kGet, kDelete: the record. kPut: the record it replaced, if any.
  std::optional<FileRecord> record;
  bool replaced = false;  // kReplacePlacement
  Listing listing;        // kList; kScan (truncated: more records follow)
};

std::string_view ShardOpName(ShardRequest::Op op);

std::string EncodeShardRequest(const ShardRequest& request);
Result<ShardRequest> DecodeShardRequest(std::string_view bytes);
std::string EncodeShardReply(const ShardReply& reply);
Result<ShardReply> DecodeShardReply(std::string_view bytes);

}  // namespace tessera::meta
