#include "cluster/config/config_store.h"

#include <gtest/gtest.h>

#include "cluster/config/config_test_util.h"

namespace tessera::cluster::config {
namespace {

class ConfigStoreTest : public EtcdTest {
 protected:
  void SetUp() override {
    EtcdTest::SetUp();
    if (client_) store_ = std::make_unique<ConfigStore>(client_.get(), root_);
  }
  // Every key under the root, for "nothing was written" checks.
  std::vector<std::pair<std::string, std::string>> Dump() {
    Result<RangeResult> range = client_->GetPrefix(root_ + "/");
    EXPECT_TRUE(range.ok());
    std::vector<std::pair<std::string, std::string>> out;
    if (range.ok()) {
      for (const KeyValue& kv : range->kvs) out.emplace_back(kv.key, kv.value);
    }
    return out;
  }
  std::string Value(const ConfigSnapshot& s, const std::string& name) {
    auto it = s.values.find(name);
    return it == s.values.end() ? "<missing>" : it->second.value.canonical;
  }
  std::unique_ptr<ConfigStore> store_;
};

TEST_F(ConfigStoreTest, DefaultsWhenNothingIsStored) {
  Result<ConfigSnapshot> s = store_->Load();
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_TRUE(s->errors.empty());
  ASSERT_EQ(s->values.size(), SettingRegistry().size());
  EXPECT_EQ(Value(*s, "max_file_size"), "1099511627776");
  EXPECT_EQ(s->values.at("max_file_size").source, "default");
  EXPECT_EQ(s->update_revision, 0);
}

TEST_F(ConfigStoreTest, SetGetRoundTrip) {
  ASSERT_TRUE(store_->Set("max_file_size", "512G").ok());
  ASSERT_TRUE(store_->Set("protection", "+2:1").ok());
  ASSERT_TRUE(store_->Set("debug_logging", "on").ok());
  Result<std::optional<std::string>> raw = store_->GetRaw("max_file_size");
  ASSERT_TRUE(raw.ok());
  EXPECT_EQ(raw->value_or("<absent>"), "512G");
  Result<GetResult> direct = client_->Get(root_ + "/max_file_size");
  ASSERT_TRUE(direct.ok() && direct->kv);
  EXPECT_EQ(direct->kv->value, "512G");

  Result<ConfigSnapshot> s = store_->Load();
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(Value(*s, "max_file_size"), "549755813888");
  EXPECT_EQ(s->values.at("max_file_size").source, "max_file_size");
  EXPECT_EQ(Value(*s, "protection"), "+2d:1n");
  EXPECT_EQ(Value(*s, "debug_logging"), "true");
  EXPECT_EQ(Value(*s, "segment_size"), "67108864");  // untouched: default

  ASSERT_TRUE(store_->Unset("max_file_size").ok());
  s = store_->Load();
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->values.at("max_file_size").source, "default");
  EXPECT_EQ(store_->Unset("max_file_size").code(), StatusCode::kNotFound);
}

TEST_F(ConfigStoreTest, BadValuesAreRefusedAndNothingIsWritten) {
  ASSERT_TRUE(store_->Set("max_file_size", "2T").ok());
  auto before = Dump();
  struct Bad {
    const char* name;
    const char* value;
    std::optional<std::string> host;
    StatusCode code;
    const char* says;
  };
  const Bad cases[] = {
      {"max_file_size", "lots", std::nullopt, StatusCode::kInvalidArgument, "not a size"},
      {"max_file_size", "0", "3", StatusCode::kInvalidArgument, "must be between"},
      {"segment_size", "1k", std::nullopt, StatusCode::kInvalidArgument, "must be between"},
      {"protection", "+9", std::nullopt, StatusCode::kInvalidArgument, "protection '+9'"},
      {"http_threads", "-1", std::nullopt, StatusCode::kInvalidArgument, "must be between"},
      {"no_such_setting", "1", std::nullopt, StatusCode::kNotFound, "no setting named"},
      {"max_file_size", "1T", "0", StatusCode::kInvalidArgument, "array id '0'"},
      {"shared/a b", "1", std::nullopt, StatusCode::kInvalidArgument, "shared id"},
      {"shared/x", "1", "3", StatusCode::kInvalidArgument, "no per-host override"},
      {"max_file_size", "@ref:shared/missing", std::nullopt, StatusCode::kNotFound, "dangling"},
      {"max_file_size", "@ref:../etc", std::nullopt, StatusCode::kInvalidArgument, "not a key"},
  };
  for (const Bad& c : cases) {
    SCOPED_TRACE(std::string(c.name) + " = " + c.value);
    Status st = store_->Set(c.name, c.value, c.host);
    ASSERT_FALSE(st.ok());
    EXPECT_EQ(st.code(), c.code) << st.ToString();
    EXPECT_NE(st.message().find(c.says), std::string::npos) << st.message();
  }
  EXPECT_EQ(Dump(), before);
}

TEST_F(ConfigStoreTest, ReferencesResolveOnRead) {
  ASSERT_TRUE(store_->Set("shared/big-files", "4T").ok());
  ASSERT_TRUE(store_->Set("max_file_size", "@ref:shared/big-files").ok());
  // A chain: host 5's override refers to the cluster value, which refers on.
  ASSERT_TRUE(store_->Set("max_file_size", "@ref:max_file_size", "5").ok());
  Result<ConfigSnapshot> s = store_->Load("5");
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(Value(*s, "max_file_size"), std::to_string(4 * (int64_t{1} << 40)));
  EXPECT_EQ(s->values.at("max_file_size").source, "shared/big-files");
  EXPECT_EQ(s->values.at("max_file_size").raw, "@ref:max_file_size");

  // Changing the shared entry changes every setting that refers to it.
  ASSERT_TRUE(store_->Set("shared/big-files", "8T").ok());
  s = store_->Load();
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(Value(*s, "max_file_size"), std::to_string(8 * (int64_t{1} << 40)));

  // ...but not to a value that is invalid for a setting referring to it.
  auto before = Dump();
  Status bad = store_->Set("shared/big-files", "huge");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.message().find("max_file_size"), std::string::npos) << bad.message();
  // And a referenced entry cannot be removed out from under its users.
  Status gone = store_->Unset("shared/big-files");
  ASSERT_FALSE(gone.ok());
  EXPECT_NE(gone.message().find("dangling"), std::string::npos) << gone.message();
  EXPECT_EQ(Dump(), before);
}

TEST_F(ConfigStoreTest, ReferenceCyclesAreReported) {
  ASSERT_TRUE(store_->Set("shared/a", "1T").ok());
  ASSERT_TRUE(store_->Set("shared/b", "@ref:shared/a").ok());
  ASSERT_TRUE(store_->Set("max_file_size", "@ref:shared/b").ok());
  auto before = Dump();
  // Closing the loop a -> b -> a is refused by Set.
  Status st = store_->Set("shared/a", "@ref:shared/b");
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.code(), StatusCode::kFailedPrecondition) << st.ToString();
  EXPECT_NE(st.message().find("reference cycle: shared/a -> shared/b -> shared/a"),
            std::string::npos)
      << st.message();
  EXPECT_NE(store_->Set("max_file_size", "@ref:max_file_size").message().find("reference cycle"),
            std::string::npos);
  EXPECT_EQ(Dump(), before);

  // A cycle written behind the store's back is reported on read, per setting.
  ASSERT_TRUE(client_->Put(root_ + "/shared/a", "@ref:shared/b").ok());
  Result<ConfigSnapshot> s = store_->Load();
  ASSERT_TRUE(s.ok());
  ASSERT_EQ(s->errors.count("max_file_size"), 1u);
  EXPECT_EQ(s->errors.at("max_file_size").code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(s->errors.at("max_file_size").message().find("reference cycle"), std::string::npos);
  EXPECT_EQ(s->values.count("max_file_size"), 0u);
  EXPECT_EQ(s->values.count("segment_size"), 1u);  // other settings unaffected
}

TEST_F(ConfigStoreTest, ResolveReferenceIsBounded) {
  std::map<std::string, std::string> tree;
  for (int i = 0; i < 20; ++i) {
    tree["shared/k" + std::to_string(i)] = "@ref:shared/k" + std::to_string(i + 1);
  }
  tree["shared/k20"] = "1";
  Result<Resolution> r = ResolveReference(tree, "shared/k15");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->value, "1");
  EXPECT_EQ(r->chain.size(), 6u);
  r = ResolveReference(tree, "shared/k0");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("longer than"), std::string::npos);
}

TEST_F(ConfigStoreTest, HostOverrideWins) {
  ASSERT_TRUE(store_->Set("max_file_size", "1T").ok());
  ASSERT_TRUE(store_->Set("max_file_size", "2G", "7").ok());
  Result<ConfigSnapshot> host7 = store_->Load("7");
  Result<ConfigSnapshot> host8 = store_->Load("8");
  Result<ConfigSnapshot> cluster = store_->Load();
  ASSERT_TRUE(host7.ok() && host8.ok() && cluster.ok());
  EXPECT_EQ(Value(*host7, "max_file_size"), std::to_string(2 * (int64_t{1} << 30)));
  EXPECT_EQ(host7->values.at("max_file_size").source, "hosts/7/max_file_size");
  EXPECT_EQ(Value(*host8, "max_file_size"), "1099511627776");
  EXPECT_EQ(Value(*cluster, "max_file_size"), "1099511627776");
  Result<GetResult> direct = client_->Get(root_ + "/hosts/7/max_file_size");
  ASSERT_TRUE(direct.ok() && direct->kv);
  EXPECT_EQ(direct->kv->value, "2G");
  // Removing the override falls back to the cluster value.
  ASSERT_TRUE(store_->Unset("max_file_size", "7").ok());
  host7 = store_->Load("7");
  ASSERT_TRUE(host7.ok());
  EXPECT_EQ(Value(*host7, "max_file_size"), "1099511627776");
}

TEST_F(ConfigStoreTest, BoundsBetweenSettingsHoldForTheClusterAndEveryHost) {
  // Defaults: container minimum and maximum file size 1016K, maximum 1G.
  ASSERT_TRUE(store_->Set("packing_container_max_size", "2M").ok());
  auto before = Dump();
  struct Bad {
    const char* name;
    const char* value;
    std::optional<std::string> host;
    const char* says;
  };
  const Bad cases[] = {
      {"packing_container_min_size", "3M", std::nullopt,
       "packing_container_min_size (3145728) may not exceed packing_container_max_size (2097152)"},
      {"packing_max_file_size", "4M", std::nullopt, "a packed file must fit in a container"},
      {"packing_container_max_size", "512K", std::nullopt, "may not exceed"},
      {"packing_container_max_size", "512K", "4", "for host 4"},
      {"packing_container_min_size", "3M", "4", "for host 4"},
  };
  for (const Bad& c : cases) {
    SCOPED_TRACE(std::string(c.name) + " = " + c.value);
    Status st = store_->Set(c.name, c.value, c.host);
    ASSERT_FALSE(st.ok());
    EXPECT_EQ(st.code(), StatusCode::kInvalidArgument) << st.ToString();
    EXPECT_NE(st.message().find(c.says), std::string::npos) << st.message();
    EXPECT_NE(st.message().find("refusing to set"), std::string::npos) << st.message();
  }
  EXPECT_EQ(Dump(), before);

  // A host's own bound counts, whichever level the values come from.
  ASSERT_TRUE(store_->Set("packing_container_max_size", "8M", "4").ok());
  ASSERT_TRUE(store_->Set("packing_container_min_size", "4M", "4").ok());
  Status st = store_->Unset("packing_container_max_size", "4");
  EXPECT_NE(st.message().find("for host 4"), std::string::npos) << st.ToString();
  EXPECT_FALSE(store_->Set("packing_container_max_size", "3M", "4").ok());

  // Several values at once are checked together and written together.
  ASSERT_TRUE(store_
                  ->SetAll({{"packing_container_max_size", "512K"},
                            {"packing_container_min_size", "256K"},
                            {"packing_max_file_size", "128K"}})
                  .ok());
  Result<ConfigSnapshot> s = store_->Load();
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(Value(*s, "packing_container_max_size"), "524288");
  EXPECT_EQ(Value(*s, "packing_container_min_size"), "262144");
  before = Dump();
  st = store_->SetAll({{"packing_container_max_size", "64K"}, {"packing_max_file_size", "32K"}});
  EXPECT_NE(st.message().find("packing_container_min_size (262144) may not exceed"),
            std::string::npos)
      << st.ToString();
  st = store_->SetAll({{"packing_container_max_size", "1M"}, {"packing_max_file_size", "lots"}});
  EXPECT_NE(st.message().find("not a size"), std::string::npos) << st.ToString();
  EXPECT_EQ(Dump(), before);

  // A bound broken behind the store's back (etcdctl) blocks no other write,
  // and a write that mends it goes through.
  ASSERT_TRUE(client_->Put(root_ + "/packing_container_min_size", "900K").ok());
  EXPECT_TRUE(store_->Set("max_file_size", "2T").ok());
  EXPECT_TRUE(store_->Set("packing_container_max_size", "1M").ok());
  EXPECT_FALSE(store_->Set("packing_container_max_size", "512K").ok());
}

TEST_F(ConfigStoreTest, ApplyAndFeedback) {
  Result<int64_t> first = store_->Apply();
  ASSERT_TRUE(first.ok());
  Result<int64_t> second = store_->Apply();
  ASSERT_TRUE(second.ok());
  EXPECT_GT(*second, *first);
  Result<ConfigSnapshot> s = store_->Load();
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->update_revision, *second);
  ASSERT_TRUE(store_->WriteFeedback("3", "{\"x\":1}").ok());
  ASSERT_TRUE(store_->WriteFeedback("12", "{\"x\":2}").ok());
  EXPECT_FALSE(store_->WriteFeedback("x", "{}").ok());
  Result<std::map<std::string, std::string>> fb = store_->ReadFeedback();
  ASSERT_TRUE(fb.ok());
  EXPECT_EQ(*fb, (std::map<std::string, std::string>{{"12", "{\"x\":2}"}, {"3", "{\"x\":1}"}}));
}

}  // namespace
}  // namespace tessera::cluster::config
