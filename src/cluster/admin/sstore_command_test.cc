#include "cluster/admin/sstore_command.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace tessera::cluster::admin {
namespace {

using nlohmann::json;

constexpr int64_t kSecond = 1'000'000'000;

json Container(const std::string& sin, int64_t created_ns) {
  return {{"sin", sin},          {"lsize", 131203072},    {"psize", 197492736},
          {"refs", 32032},       {"filesize", 131203072}, {"created_ns", created_ns},
          {"type", "container"}, {"underfull", false},    {"fragmentation", 0.01},
          {"efficiency", 0.66},  {"protection", "+2"},    {"chunks", 4}};
}

TEST(SstoreCommandTest, ListHasTheColumnsAndSizesInKiB) {
  const int64_t now = 1'790'000'000 * kSecond;
  json list = {{"containers", {Container("4100:0001:0001:0000", now - 3600 * kSecond)}},
               {"dangling_refs", 0}};
  std::string plain = FormatContainerList(list, false, now);
  EXPECT_NE(plain.find("SIN"), std::string::npos) << plain;
  EXPECT_NE(plain.find("lsize"), std::string::npos) << plain;
  EXPECT_EQ(plain.find("frag score"), std::string::npos) << plain;
  EXPECT_NE(plain.find("4100:0001:0001:0000    128128K    192864K   32032    128128K"),
            std::string::npos)
      << plain;
  std::string verbose = FormatContainerList(list, true, now);
  EXPECT_NE(verbose.find("sin type  underfull frag score efficiency"), std::string::npos)
      << verbose;
  EXPECT_NE(verbose.find("container no        0.01       0.66"), std::string::npos) << verbose;
  EXPECT_EQ(verbose.find("WARNING"), std::string::npos);
}

TEST(SstoreCommandTest, VerboseListsChunksAndWarnsOfDanglingReferences) {
  const int64_t now = 1'790'000'000 * kSecond;
  json c = Container("0000:0000:0000:0001", now - 400 * 86400 * kSecond);
  c["chunk_list"] = {{{"chunk", 0},
                      {"freed", false},
                      {"size", 33554432},
                      {"live_bytes", 16777216},
                      {"refs", 100},
                      {"fragmentation", 0.5},
                      {"efficiency", 0.33},
                      {"max_efficiency", 0.67},
                      {"needs_defrag", true},
                      {"geometry", "4+2 stripe"}},
                     {{"chunk", 1}, {"freed", true}}};
  json list = {{"containers", {c}}, {"dangling_refs", 2}};
  std::string out = FormatContainerList(list, true, now);
  EXPECT_NE(out.find("chunk  0      16384K live of     32768K,   100 refs"), std::string::npos)
      << out;
  EXPECT_NE(out.find("(needs defrag)"), std::string::npos) << out;
  EXPECT_NE(out.find("chunk  1  freed"), std::string::npos) << out;
  EXPECT_NE(out.find("WARNING: 2 packed file(s) point into a missing chunk"), std::string::npos)
      << out;
  // Older than half a year: the year instead of the time.
  EXPECT_NE(out.find(" 2025"), std::string::npos) << out;
}

}  // namespace
}  // namespace tessera::cluster::admin
