#include "meta/shard_entry.h"

#include <gtest/gtest.h>

#include "meta/shard_request.h"

namespace tessera::meta {
namespace {

FileRecord SampleRecord() {
  FileRecord r;
  r.ns = "ns";
  r.path = "a/b.dcm";
  r.object_id = 42;
  r.size = 10;
  r.created_ns = 1;
  r.modified_ns = 2;
  r.protection = "+1";
  r.geometry.kind = layout::Geometry::Kind::kMirror;
  r.geometry.copies = 2;
  r.drives = {{1, 0}, {2, 1}};
  return r;
}

TEST(ShardEntryTest, PutAndRemoveRoundTrip) {
  ShardEntry put{{57, 1203}, false, SampleRecord()};
  auto back = DecodeShardEntry(EncodeShardEntry(put));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, put);

  ShardEntry remove;
  remove.version = {58, 1};
  remove.remove = true;
  remove.record.ns = "ns";
  remove.record.path = "x/y";
  back = DecodeShardEntry(EncodeShardEntry(remove));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, remove);
}

TEST(ShardEntryTest, VersionsEncodeInOrder) {
  std::vector<LogVersion> ordered = {{0, 0}, {0, 1}, {1, 0}, {1, 255}, {1, 256}, {2, 0}, {300, 1}};
  for (size_t i = 1; i < ordered.size(); ++i) {
    EXPECT_LT(ordered[i - 1], ordered[i]);
    EXPECT_LT(EncodeLogVersion(ordered[i - 1]), EncodeLogVersion(ordered[i]));
    EXPECT_EQ(*DecodeLogVersion(EncodeLogVersion(ordered[i])), ordered[i]);
  }
  EXPECT_EQ((LogVersion{57, 3}).ToString(), "57.3");
}

TEST(ShardEntryTest, GarbageIsCorruption) {
  std::string valid = EncodeShardEntry({{1, 1}, false, SampleRecord()});
  for (size_t cut = 0; cut < 18; ++cut) {
    EXPECT_FALSE(DecodeShardEntry(valid.substr(0, cut)).ok()) << cut;
  }
  std::string wrong_kind = valid;
  wrong_kind[16] = 'X';
  EXPECT_EQ(DecodeShardEntry(wrong_kind).status().code(), StatusCode::kCorruption);
  std::string remove_without_nul = EncodeLogVersion({1, 1}) + "Dnopath";
  EXPECT_EQ(DecodeShardEntry(remove_without_nul).status().code(), StatusCode::kCorruption);
  EXPECT_FALSE(DecodeLogVersion("short").ok());
}

TEST(ShardRequestTest, RequestsAndRepliesRoundTrip) {
  ShardRequest put;
  put.op = ShardRequest::Op::kPut;
  put.epoch = 9;
  put.shard = 3;
  put.record = SampleRecord();
  auto back = DecodeShardRequest(EncodeShardRequest(put));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->op, ShardRequest::Op::kPut);
  EXPECT_EQ(back->epoch, 9);
  EXPECT_EQ(back->shard, 3u);
  EXPECT_EQ(back->record, put.record);
  EXPECT_FALSE(back->expected_modified_ns);

  ShardRequest replace = put;
  replace.op = ShardRequest::Op::kReplacePlacement;
  replace.expected_object_id = 41;
  replace.expected_modified_ns = -7;
  back = DecodeShardRequest(EncodeShardRequest(replace));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->expected_object_id, 41u);
  EXPECT_EQ(back->expected_modified_ns, -7);

  ShardRequest list;
  list.op = ShardRequest::Op::kList;
  list.record.ns = "ns";
  list.prefix = "a/";
  list.marker = "a/b";
  list.limit = 17;
  back = DecodeShardRequest(EncodeShardRequest(list));
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->op, ShardRequest::Op::kList);
  EXPECT_EQ(back->record.ns, "ns");
  EXPECT_EQ(back->prefix, "a/");
  EXPECT_EQ(back->marker, "a/b");
  EXPECT_EQ(back->limit, 17u);

  ShardReply reply;
  reply.record = SampleRecord();
  reply.replaced = true;
  reply.listing.files = {SampleRecord()};
  reply.listing.truncated = true;
  reply.listing.next_marker = "a/b.dcm";
  auto reply_back = DecodeShardReply(EncodeShardReply(reply));
  ASSERT_TRUE(reply_back.ok()) << reply_back.status().ToString();
  EXPECT_EQ(reply_back->record, reply.record);
  EXPECT_TRUE(reply_back->replaced);
  EXPECT_EQ(reply_back->listing.files, reply.listing.files);
  EXPECT_TRUE(reply_back->listing.truncated);
  EXPECT_EQ(reply_back->listing.next_marker, "a/b.dcm");
}

TEST(ShardRequestTest, GarbageIsCorruption) {
  for (const char* bad :
       {"", "[]", "{}", "{\"op\":\"explode\"}", "not json", "{\"op\":\"get\",\"epoch\":\"x\"}"}) {
    EXPECT_EQ(DecodeShardRequest(bad).status().code(), StatusCode::kCorruption) << bad;
    EXPECT_EQ(DecodeShardReply(bad).status().code(), StatusCode::kCorruption) << bad;
  }
}

}  // namespace
}  // namespace tessera::meta
