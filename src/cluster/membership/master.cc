#include "cluster/membership/master.h"

#include <nlohmann/json.hpp>

#include "cluster/membership/registry.h"

namespace tessera::cluster {

using nlohmann::json;

std::string MasterKey(const std::string& cluster) { return ClusterPrefix(cluster) + "master"; }

std::string PriorityKey(const std::string& cluster, uint32_t array_id) {
  return ClusterPrefix(cluster) + "priorities/" + std::to_string(array_id);
}

std::string MasterRecordJson(const MasterRecord& record) {
  return json{{"array_id", record.array_id}, {"priority", record.priority}}.dump();
}

Result<MasterRecord> ParseMasterRecord(const std::string& text, int64_t token) {
  json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object() || !j.contains("array_id") || !j["array_id"].is_number_unsigned() ||
      !j.contains("priority") || !j["priority"].is_number_integer()) {
    return Status::Corruption("master record is not {\"array_id\", \"priority\"}: " + text);
  }
  MasterRecord record;
  record.array_id = j["array_id"].get<uint32_t>();
  record.priority = j["priority"].get<int64_t>();
  record.token = token;
  if (record.array_id == 0) return Status::Corruption("master record names array id 0");
  return record;
}

Result<std::optional<MasterRecord>> ReadMaster(EtcdClient* client, const std::string& cluster) {
  ASSIGN_OR_RETURN(GetResult got, client->Get(MasterKey(cluster)));
  if (!got.kv) return std::optional<MasterRecord>();
  ASSIGN_OR_RETURN(MasterRecord record, ParseMasterRecord(got.kv->value, got.kv->create_revision));
  return std::optional<MasterRecord>(record);
}

Result<std::map<uint32_t, int64_t>> ReadPriorities(EtcdClient* client, const std::string& cluster) {
  ASSIGN_OR_RETURN(RangeResult range, client->GetPrefix(ClusterPrefix(cluster) + "priorities/"));
  std::map<uint32_t, int64_t> out;
  for (const KeyValue& kv : range.kvs) {
    ASSIGN_OR_RETURN(uint32_t id, IdAfterLastSlash(kv.key));
    try {
      size_t used = 0;
      int64_t priority = std::stoll(kv.value, &used);
      if (used != kv.value.size()) throw std::invalid_argument("trailing");
      out[id] = priority;
    } catch (const std::exception&) {
      return Status::Corruption(kv.key + " is not a decimal priority: '" + kv.value + "'");
    }
  }
  return out;
}

Status SetPriority(EtcdClient* client, const std::string& cluster, uint32_t array_id,
                   int64_t priority) {
  if (array_id == 0) return Status::InvalidArgument("array id 0 has no priority");
  return client->Put(PriorityKey(cluster, array_id), std::to_string(priority)).status();
}

Compare MasterTokenHolds(const std::string& cluster, int64_t token) {
  return {MasterKey(cluster), Compare::Target::kCreateRevision, Compare::Op::kEqual, token, {}};
}

std::optional<uint32_t> ChooseMaster(const std::map<uint32_t, int64_t>& candidates) {
  std::optional<uint32_t> best;
  int64_t best_priority = 0;
  for (const auto& [id, priority] : candidates) {  // ascending ids: '>' keeps the lowest on ties
    if (!best || priority > best_priority) {
      best = id;
      best_priority = priority;
    }
  }
  return best;
}

}  // namespace tessera::cluster
