#include "images/image_query.h"

#include <gtest/gtest.h>

#include <random>

namespace tessera::images {
namespace {

using json = nlohmann::json;
using Params = std::multimap<std::string, std::string>;

ListQuery Parse(const Params& params) {
  ListQuery q;
  ApiStatus s = ParseListQuery(params, &q);
  EXPECT_TRUE(s.ok()) << s.message;
  return q;
}

std::string Id(int i) {
  char buf[37];
  std::snprintf(buf, sizeof(buf), "00000000-0000-4000-8000-%012d", i);
  return buf;
}

// Image i: created at second i/2 (pairs tie), sizes and names vary.
std::vector<json> Images(int n) {
  std::vector<json> images;
  for (int i = 0; i < n; ++i) {
    json tags = json::array({"all"});
    if (i % 3 == 0) tags.push_back("three");
    images.push_back({{"id", Id(i)},
                      {"name", "img-" + std::to_string(i % 7)},
                      {"status", i % 4 == 0 ? "queued" : "active"},
                      {"visibility", i % 10 == 9 ? "community" : (i % 2 ? "public" : "private")},
                      {"os_hidden", i == 5},
                      {"protected", i % 5 == 0},
                      {"owner", nullptr},
                      {"size", i % 4 == 0 ? json(nullptr) : json(i * 100)},
                      {"disk_format", i % 2 ? "raw" : "qcow2"},
                      {"container_format", "bare"},
                      {"created_at", "2026-11-22T00:00:" + std::string(i / 2 < 10 ? "0" : "") +
                                         std::to_string(i / 2) + "Z"},
                      {"tags", tags},
                      {"os_distro", i % 2 ? "debian" : "cirros"}});
  }
  return images;
}

std::vector<std::string> Ids(const ListPage& page) {
  std::vector<std::string> ids;
  for (const json& r : page.images) ids.push_back(r["id"]);
  return ids;
}

TEST(ImageQueryTest, DefaultsAreNewestFirstTwentyFiveNoCommunityNoHidden) {
  ListQuery q = Parse({});
  EXPECT_EQ(q.limit, kDefaultListLimit);
  ListPage page;
  ASSERT_TRUE(SelectPage(Images(40), q, &page).ok());
  ASSERT_EQ(page.images.size(), 25u);
  EXPECT_TRUE(page.more);
  // created_at desc, then id desc: 39 is community (skipped), 38, 37, ...
  EXPECT_EQ(page.images[0]["id"], Id(38));
  EXPECT_EQ(page.images[1]["id"], Id(37));
  for (const json& r : page.images) {
    EXPECT_NE(r["visibility"], "community");
    EXPECT_FALSE(r["os_hidden"].get<bool>());
  }
}

TEST(ImageQueryTest, MarkerPagingVisitsEveryImageOnce) {
  std::vector<json> images = Images(237);
  for (const char* sort : {"", "name:asc", "size:desc,name", "status,id:asc"}) {
    std::set<std::string> seen;
    std::string marker;
    for (int pages = 0; pages < 1000; ++pages) {
      Params params = {{"limit", "20"}, {"visibility", "all"}, {"os_hidden", "false"}};
      if (*sort) params.emplace("sort", sort);
      if (!marker.empty()) params.emplace("marker", marker);
      ListPage page;
      ASSERT_TRUE(SelectPage(images, Parse(params), &page).ok());
      for (const std::string& id : Ids(page)) EXPECT_TRUE(seen.insert(id).second) << id;
      if (!page.more) break;
      marker = page.images.back()["id"];
    }
    EXPECT_EQ(seen.size(), 236u) << sort;  // all but the hidden one
  }
}

TEST(ImageQueryTest, Filters) {
  std::vector<json> images = Images(40);
  auto count = [&](const Params& p) {
    ListPage page;
    Params params = p;
    params.emplace("limit", "1000");
    EXPECT_TRUE(SelectPage(images, Parse(params), &page).ok());
    return page.images.size();
  };
  EXPECT_EQ(count({{"visibility", "community"}}), 4u);
  EXPECT_EQ(count({{"visibility", "all"}}), 39u);
  EXPECT_EQ(count({{"visibility", "all"}, {"os_hidden", "true"}}), 1u);
  EXPECT_EQ(count({{"visibility", "all"}, {"os_hidden", "True"}}), 1u);
  EXPECT_EQ(count({{"visibility", "all"}, {"name", "img-3"}}), 6u);
  EXPECT_EQ(count({{"visibility", "all"}, {"name", "in:img-3,img-4"}}), 12u);
  EXPECT_EQ(count({{"visibility", "all"}, {"name", "in:\"img-3\""}}), 6u);
  EXPECT_EQ(count({{"visibility", "all"}, {"status", "queued"}}), 10u);
  EXPECT_EQ(count({{"visibility", "all"}, {"tag", "three"}}), 14u);
  EXPECT_EQ(count({{"visibility", "all"}, {"tag", "three"}, {"tag", "all"}}), 14u);
  EXPECT_EQ(count({{"visibility", "all"}, {"tag", "none"}}), 0u);
  EXPECT_EQ(count({{"visibility", "all"}, {"size_min", "1000"}, {"size_max", "2000"}}), 8u);
  EXPECT_EQ(count({{"visibility", "all"}, {"disk_format", "raw"}}), 20u - 1u);  // one hidden
  EXPECT_EQ(count({{"visibility", "all"}, {"os_distro", "debian"}}), 19u);
  EXPECT_EQ(count({{"visibility", "all"}, {"protected", "true"}}), 7u);  // 8, one hidden
  EXPECT_EQ(count({{"visibility", "all"}, {"unknown_property", "x"}}), 0u);
}

TEST(ImageQueryTest, SortKeyAndDirForms) {
  ListQuery q = Parse({{"sort_key", "name"}, {"sort_key", "size"}, {"sort_dir", "asc"}});
  ASSERT_EQ(q.sort.size(), 3u);
  EXPECT_EQ(q.sort[0], std::make_pair(std::string("name"), true));
  EXPECT_EQ(q.sort[1], std::make_pair(std::string("size"), true));
  EXPECT_EQ(q.sort[2].first, "id");
  q = Parse({{"sort", "name:desc,size"}});
  EXPECT_EQ(q.sort[0], std::make_pair(std::string("name"), false));
  EXPECT_EQ(q.sort[1], std::make_pair(std::string("size"), false));
  ListPage page;
  ASSERT_TRUE(SelectPage(Images(20), Parse({{"sort", "size:asc"}, {"limit", "3"}}), &page).ok());
  // Null sizes sort first ascending; among them id decides.
  EXPECT_TRUE(page.images[0]["size"].is_null());
}

TEST(ImageQueryTest, BadQueriesAre400) {
  std::vector<Params> bad = {
      {{"limit", "x"}},
      {{"limit", "-1"}},
      {{"sort_key", "checksum"}},
      {{"sort_dir", "up"}},
      {{"sort", "name:up"}},
      {{"sort", "name:asc:x"}},
      {{"sort", ""}},
      {{"sort", "name"}, {"sort_key", "size"}},
      {{"sort_key", "name"},
       {"sort_key", "size"},
       {"sort_dir", "asc"},
       {"sort_dir", "asc"},
       {"sort_dir", "desc"}},
      {{"size_min", "big"}},
      {{"visibility", "everyone"}},
  };
  for (const Params& p : bad) {
    ListQuery q;
    EXPECT_EQ(ParseListQuery(p, &q).http, 400) << p.begin()->first << "=" << p.begin()->second;
  }
  ListPage page;
  EXPECT_EQ(SelectPage(Images(3), Parse({{"marker", Id(99)}}), &page).http, 400);
}

TEST(ImageQueryTest, LimitIsCapped) {
  EXPECT_EQ(Parse({{"limit", "100000"}}).limit, kMaxListLimit);
  ListPage page;
  ASSERT_TRUE(SelectPage(Images(5), Parse({{"limit", "0"}}), &page).ok());
  EXPECT_TRUE(page.images.empty());
}

TEST(ImageQueryTest, RandomParametersNeverCrash) {
  std::mt19937 rng(7);
  std::vector<std::string> keys = {"limit",      "marker", "sort", "sort_key",
                                   "sort_dir",   "name",   "tag",  "size_min",
                                   "visibility", "status", ""};
  std::vector<std::string> values = {
      "",    "1", "in:", "in:,", ":", "name:asc", ",", "asc", "all", Id(1), "999999999999999999999",
      "\xff"};
  for (int i = 0; i < 3000; ++i) {
    Params p;
    for (int k = rng() % 5; k > 0; --k)
      p.emplace(keys[rng() % keys.size()], values[rng() % values.size()]);
    ListQuery q;
    if (!ParseListQuery(p, &q).ok()) continue;
    ListPage page;
    (void)SelectPage(Images(10), q, &page);
    EXPECT_LE(page.images.size(), q.limit);
  }
}

}  // namespace
}  // namespace tessera::images
