#include "meta/shard_request.h"

#include <array>
#include <nlohmann/json.hpp>

namespace tessera::meta {

using nlohmann::json;

namespace {

constexpr std::array<std::pair<ShardRequest::Op, std::string_view>, 6> kOps = {{
    {ShardRequest::Op::kGet, "get"},
    {ShardRequest::Op::kPut, "put"},
    {ShardRequest::Op::kReplacePlacement, "replace_placement"},
    {ShardRequest::Op::kDelete, "delete"},
    {ShardRequest::Op::kList, "list"},
    {ShardRequest::Op::kScan, "scan"},
}};

json RecordsJson(const std::vector<FileRecord>& records) {
  json out = json::array();
  for (const FileRecord& r : records) out.push_back(ToJson(r));
  return out;
}

}  // namespace

std::string_view ShardOpName(ShardRequest::Op op) {
  for (const auto& [value, name] : kOps) {
    if (value == op) return name;
  }
  return "unknown";
}

std::string EncodeShardRequest(const ShardRequest& r) {
  json j = {{"op", ShardOpName(r.op)},
            {"epoch", r.epoch},
            {"shard", r.shard},
            {"prefix", r.prefix},
            {"marker", r.marker},
            {"limit", r.limit},
            {"expected_object_id", r.expected_object_id}};
  if (r.expected_modified_ns) j["expected_modified_ns"] = *r.expected_modified_ns;
  if (r.op == ShardRequest::Op::kPut || r.op == ShardRequest::Op::kReplacePlacement) {
    j["record"] = ToJson(r.record);
  } else {
    j["ns"] = r.record.ns;
    j["path"] = r.record.path;
  }
  return j.dump();
}

Result<ShardRequest> DecodeShardRequest(std::string_view bytes) {
  json j = json::parse(bytes, nullptr, false);
  if (!j.is_object()) return Status::Corruption("shard request is not a JSON object");
  try {
    ShardRequest r;
    std::string op = j.at("op").get<std::string>();
    bool known = false;
    for (const auto& [value, name] : kOps) {
      if (name == op) {
        r.op = value;
        known = true;
      }
    }
    if (!known) return Status::Corruption("unknown shard request '" + op + "'");
    r.epoch = j.at("epoch").get<int64_t>();
    r.shard = j.at("shard").get<uint32_t>();
    r.prefix = j.at("prefix").get<std::string>();
    r.marker = j.at("marker").get<std::string>();
    r.limit = j.at("limit").get<size_t>();
    r.expected_object_id = j.value("expected_object_id", uint64_t{0});
    if (j.contains("expected_modified_ns")) {
      r.expected_modified_ns = j.at("expected_modified_ns").get<int64_t>();
    }
    if (j.contains("record")) {
      ASSIGN_OR_RETURN(r.record, FileRecordFromJson(j.at("record")));
    } else {
      r.record.ns = j.at("ns").get<std::string>();
      r.record.path = j.at("path").get<std::string>();
    }
    return r;
  } catch (const json::exception& e) {
    return Status::Corruption(std::string("shard request: ") + e.what());
  }
}

std::string EncodeShardReply(const ShardReply& r) {
  json j = {{"replaced", r.replaced},
            {"files", RecordsJson(r.listing.files)},
            {"truncated", r.listing.truncated},
            {"next_marker", r.listing.next_marker}};
  if (r.record) j["record"] = ToJson(*r.record);
  return j.dump();
}

Result<ShardReply> DecodeShardReply(std::string_view bytes) {
  json j = json::parse(bytes, nullptr, false);
  if (!j.is_object()) return Status::Corruption("shard reply is not a JSON object");
  try {
    ShardReply r;
    r.replaced = j.at("replaced").get<bool>();
    r.listing.truncated = j.at("truncated").get<bool>();
    r.listing.next_marker = j.at("next_marker").get<std::string>();
    for (const json& f : j.at("files")) {
      ASSIGN_OR_RETURN(FileRecord record, FileRecordFromJson(f));
      r.listing.files.push_back(std::move(record));
    }
    if (j.contains("record")) {
      ASSIGN_OR_RETURN(FileRecord record, FileRecordFromJson(j.at("record")));
      r.record = std::move(record);
    }
    return r;
  } catch (const json::exception& e) {
    return Status::Corruption(std::string("shard reply: ") + e.what());
  }
}

}  // namespace tessera::meta
