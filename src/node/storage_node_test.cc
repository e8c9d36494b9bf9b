// StorageNode's commit gate: a write the gate refuses at commit time leaves
// no file and no pieces behind.
#include "node/storage_node.h"

#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "meta/metadata_store_testing.h"
#include "meta/rocksdb_metadata_store.h"
#include "tests/support/segment_damage.h"
#include "tests/support/temp_dir.h"

namespace tessera::node {
namespace {

// `drives` drives and the state under `dir`, protection +1, no compactor.
NodeOptions TestNodeOptions(testing::TempDir& dir, int drives) {
  NodeOptions options;
  for (int d = 0; d < drives; ++d) options.drive_paths.push_back(dir.Sub("d" + std::to_string(d)));
  options.state_dir = dir.Sub("state");
  options.protection = *layout::ProtectionPolicy::Parse("+1");
  options.compact_interval_seconds = 0;
  return options;
}

TEST(StorageNodeTest, CommitGateRefusalLeavesNothingBehind) {
  testing::TempDir dir;
  NodeOptions options = TestNodeOptions(dir, 4);
  auto node = StorageNode::Open(options);
  ASSERT_TRUE(node.ok()) << node.status().ToString();
  std::string body(300 * 1024, 'x');
  auto source = [&](const io::ByteSink& sink) {
    return sink({reinterpret_cast<const uint8_t*>(body.data()), body.size()});
  };
  bool open = true;
  (*node)->SetCommitGate(
      [&] { return open ? Status::Ok() : Status::Unavailable("writes suspended: test"); });
  ASSERT_TRUE((*node)->PutFile("ns", "kept", body.size(), source).ok());

  open = false;
  auto refused = (*node)->PutFile("ns", "refused", body.size(), source);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), StatusCode::kUnavailable);
  EXPECT_EQ((*node)->StatFile("ns", "refused").status().code(), StatusCode::kNotFound);
  uint64_t pieces = 0;
  nlohmann::json info = (*node)->Info();
  for (const auto& d : info["drives"]) pieces += d["pieces"].get<uint64_t>();
  auto kept = (*node)->StatFile("ns", "kept");
  ASSERT_TRUE(kept.ok());
  EXPECT_EQ(pieces, StorageNode::StatJson(*kept)["units"].size())
      << info.dump() << "only the kept file's pieces remain";
}

// A drive refused at start is shown down with the reason it was refused.
TEST(StorageNodeTest, ARefusedDriveSaysWhy) {
  testing::TempDir dir;
  NodeOptions options = TestNodeOptions(dir, 2);
  ASSERT_TRUE(StorageNode::Open(options).ok());
  const std::string identity = dir.Sub("d1") + "/identity.json";
  nlohmann::json j = nlohmann::json::parse(std::ifstream(identity));
  j["format_version"] = 99;
  std::ofstream(identity) << j.dump();
  auto node = StorageNode::Open(options);
  ASSERT_TRUE(node.ok()) << node.status().ToString();
  nlohmann::json drives = (*node)->Info()["drives"];
  ASSERT_EQ(drives.size(), 2u) << drives.dump();
  EXPECT_EQ(drives[1].value("status", ""), "down") << drives.dump();
  EXPECT_NE(drives[1].value("reason", "").find("format version"), std::string::npos)
      << drives.dump();
}

// A clone (or packing) that moves the file's content to a new object id
// between an If-Match PUT's check and its commit does not make it fail: the
// content is still the one the ETag names.
TEST(StorageNodeTest, IfMatchSurvivesTheContentMovingMeanwhile) {
  testing::TempDir dir;
  NodeOptions options = TestNodeOptions(dir, 4);
  auto inner = meta::RocksDbMetadataStore::Open(dir.Sub("meta"));
  ASSERT_TRUE(inner.ok()) << inner.status().ToString();
  meta::MetadataStore& records = **inner;
  StorageNode* node_ptr = nullptr;
  auto racing = std::make_unique<meta::RaceBeforeReplace>(
      records, [](const meta::FileRecord& r) { return r.path == "f"; },
      [&] { ASSERT_TRUE(node_ptr->CloneFile("ns", "f", "ns", "copy").ok()); });
  auto node = StorageNode::Open(options, std::move(racing));
  ASSERT_TRUE(node.ok()) << node.status().ToString();
  node_ptr = node->get();
  std::string first(5000, 'a'), second(7000, 'b');
  auto source = [](const std::string& body) {
    return [&body](const io::ByteSink& sink) {
      return sink({reinterpret_cast<const uint8_t*>(body.data()), body.size()});
    };
  };
  auto created = (*node)->PutFile("ns", "f", first.size(), source(first));
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  PutCondition condition;
  condition.if_match = created->record.sha256;
  auto replaced = (*node)->PutFile("ns", "f", second.size(), source(second), condition);
  ASSERT_TRUE(replaced.ok()) << replaced.status().ToString();
  EXPECT_FALSE(replaced->created);
  EXPECT_EQ((*node)->StatFile("ns", "f")->size, second.size());
  EXPECT_EQ((*node)->StatFile("ns", "copy")->size, first.size()) << "the clone took place";
}

// Flips a byte of `pattern` where it lies in drive `drive`'s segments;
// false if it is not there.
// A read that finds a copy with bad bytes writes it back from a good one, so
// that losing the other copy later loses nothing.
TEST(StorageNodeTest, AReadRepairsACopyThatFailsItsChecksums) {
  testing::TempDir dir;
  NodeOptions options = TestNodeOptions(dir, 4);  // +1: two copies of a small file
  auto node = StorageNode::Open(options);
  ASSERT_TRUE(node.ok()) << node.status().ToString();
  std::string body = "read-repair:";
  while (body.size() < 6000) body += std::to_string(body.size());
  auto source = [&](const io::ByteSink& sink) {
    return sink({reinterpret_cast<const uint8_t*>(body.data()), body.size()});
  };
  auto put = (*node)->PutFile("ns", "f", body.size(), source);
  ASSERT_TRUE(put.ok()) << put.status().ToString();
  ASSERT_EQ(put->record.drives.size(), 2u);
  auto read = [&]() -> Result<std::string> {
    std::string out;
    RETURN_IF_ERROR((*node)->ReadFile(put->record, 0, body.size(), [&](auto bytes) {
      out.append(reinterpret_cast<const char*>(bytes.data()), bytes.size());
      return Status::Ok();
    }));
    return out;
  };
  const std::string first = options.drive_paths[put->record.drives[0].lnum];
  const std::string second = options.drive_paths[put->record.drives[1].lnum];
  ASSERT_TRUE(testing::FlipByteInSegments(first, body.substr(0, 200)));
  ASSERT_EQ(*read(), body);  // from the second copy; the first is rewritten
  ASSERT_TRUE(testing::FlipByteInSegments(second, body.substr(0, 200)));
  Result<std::string> after = read();
  ASSERT_TRUE(after.ok()) << "the first copy was not repaired: " << after.status().ToString();
  EXPECT_EQ(*after, body);
}

}  // namespace
}  // namespace tessera::node
