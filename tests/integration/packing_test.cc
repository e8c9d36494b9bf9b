// Issue 5's proof on a `tessera up` cluster of 6 nodes at +2 (containers
// are 4+2 stripes): a reduced archive-mix set is packed by SmartPools under
// a file pool policy, reads back identical, costs less disk; deleting half
// of it and running the defragmenter gives space back; a policy that stops
// packing unpacks everything; and a SmartPools run whose master is killed
// mid-way is resumed by the next master without losing a file.
#include <regex>

#include "tests/integration/archive_cluster.h"

namespace tessera::testing {
namespace {

constexpr uint64_t kMaxPackedSize = 1016 * 1024;

class PackingTest : public ArchiveClusterTest {
 protected:
  void SetUpPacking(const std::string& impact, const std::string& container_max_size) {
    ASSERT_NO_FATAL_FAILURE(StartCluster("+2"));
    CommandResult set = admin_.Run({"packing", "set", "--enabled=true", "--min-age=0s",
                                    "--container-max-size=" + container_max_size});
    ASSERT_EQ(set.exit_code, 0) << set.output;
    for (const auto& [name, value] : std::map<std::string, std::string>{
             {"smartpools_impact", impact}, {"sstore_defrag_enabled", "true"}}) {
      CommandResult r = admin_.Run({"config", "set", name, value});
      ASSERT_EQ(r.exit_code, 0) << r.output;
    }
    ASSERT_EQ(admin_.Run({"config", "apply"}).exit_code, 0);
    ASSERT_NO_FATAL_FAILURE(LoadArchive());
    CommandResult policy =
        admin_.Run({"filepool", "policies", "create", "mix", "--enable-packing=true", "--path",
                    kNs + "/mix/", "--min-age", "0s"});
    ASSERT_EQ(policy.exit_code, 0) << policy.output;
    for (const auto& [name, body] : files_) {
      if (!body.empty() && body.size() <= kMaxPackedSize) ++packable_;
    }
    ASSERT_GT(packable_, kFiles / 2);
  }

  // Runs job `type` to success; its verbose report.
  std::string RunJob(const std::string& type) {
    const int id = StartJob(type);
    if (id < 0) return "";
    const std::string state = WaitForJob(id, 180s);
    const std::string report =
        admin_.Run({"job", "reports", "view", "-v", std::to_string(id)}).output;
    EXPECT_EQ(state, "succeeded") << report;
    return report;
  }

  // The value of "  NAME: N" in a report (-1 when absent).
  static int64_t Counter(const std::string& report, const std::string& name) {
    std::smatch m;
    if (!std::regex_search(report, m, std::regex(" " + name + ": ([0-9]+)\n"))) return -1;
    return std::stoll(m[1].str());
  }

  // Bytes the cluster's drives hold in live pieces (every node's sum).
  uint64_t LiveBytes() {
    uint64_t total = 0;
    for (int i : LiveNodes()) {
      json info = NodeInfo(cluster_.port(i));
      for (const json& d : info["drives"]) total += d.value("live_bytes", uint64_t{0});
    }
    return total;
  }
  json NodeInfo(int port) {
    httplib::Client client("127.0.0.1", port);
    auto res = client.Get("/v1/node");
    return StatusOf(res) == 200 ? json::parse(res->body) : json{};
  }

  // How many of the files are packed, by their stat.
  int PackedCount() {
    int packed = 0;
    for (const auto& [name, body] : files_) {
      if (FileStat(cluster_.port(LiveNodes().front()), kNs + "/" + name).contains("container")) {
        ++packed;
      }
    }
    return packed;
  }

  int packable_ = 0;
  std::string rewritten_;  // a file rewritten after packing: native again
};

TEST_F(PackingTest, PackReportDefragmentAndUnpack) {
  ASSERT_NO_FATAL_FAILURE(SetUpPacking("high", "16M"));
  // A clone (outside the policy's path) shares a clone store while packing runs.
  const std::string clone_image = Content(3 << 20, 77);
  {
    httplib::Client c("127.0.0.1", cluster_.port(0));
    ASSERT_EQ(StatusOf(PutFile(c, "vm/base.img", clone_image)), 201);
    CommandResult clone = admin_.Run({"clone", "vm/base.img", "vm/copy.img"});
    ASSERT_EQ(clone.exit_code, 0) << clone.output;
  }

  const uint64_t native_bytes = LiveBytes();

  CommandResult assess = admin_.Run({"sfse-assess", "--path", kNs + "/mix/"});
  ASSERT_EQ(assess.exit_code, 0) << assess.output;
  EXPECT_NE(assess.output.find("SFSE estimation summary:"), std::string::npos) << assess.output;
  EXPECT_NE(assess.output.find(std::to_string(packable_) + " of " + std::to_string(kFiles) +
                               " files packable"),
            std::string::npos)
      << assess.output;

  const std::string fsa_before = RunJob("FSAnalyze");
  const int64_t physical_before = Counter(fsa_before, "physical_bytes");
  ASSERT_GT(physical_before, 0) << fsa_before;

  // Pack.
  const std::string packed = RunJob("SmartPools");
  EXPECT_NE(packed.find("'mix':"), std::string::npos) << packed;
  EXPECT_EQ(Counter(packed, "Files matched"), kFiles) << packed;
  EXPECT_EQ(Counter(packed, "Files packed"), packable_) << packed;
  EXPECT_EQ(std::max<int64_t>(0, Counter(packed, "Skipped packing: larger than maximum size")),
            kFiles - packable_)
      << packed;
  EXPECT_GT(Counter(packed, "Directories matched"), 0) << packed;
  EXPECT_NE(packed.find("working time:"), std::string::npos) << packed;
  EXPECT_EQ(PackedCount(), packable_);
  ExpectEveryFileIdenticalVia({0, 3});

  // A packed file's attributes.
  for (const auto& [name, body] : files_) {
    if (body.size() > kMaxPackedSize) continue;
    CommandResult stat = admin_.Run({"stat", kNs + "/" + name});
    EXPECT_TRUE(std::regex_search(stat.output, std::regex("packing_policy +container\n")))
        << stat.output;
    EXPECT_TRUE(std::regex_search(stat.output, std::regex("packing_complete +complete\n")))
        << stat.output;
    EXPECT_TRUE(std::regex_search(stat.output, std::regex("container +[0-9a-f:]{19} chunk")))
        << stat.output;
    break;
  }

  // Containers are the cluster's own: clients cannot write or delete them,
  // and the packing API refuses a malformed size.
  {
    httplib::Client client("127.0.0.1", cluster_.port(2));
    json list = json::parse(admin_.Run({"sstore", "list", "--json"}).output);
    ASSERT_FALSE(list["containers"].empty());
    auto chunks = client.Get("/v1/files/_sstore/?limit=1");
    ASSERT_EQ(StatusOf(chunks), 200);
    const std::string chunk = json::parse(chunks->body)["files"][0]["path"];
    EXPECT_EQ(StatusOf(client.Delete(("/v1/files/_sstore/" + chunk).c_str())), 403);
    EXPECT_EQ(StatusOf(PutFile(client, "_sstore/" + chunk, "x")), 403);
    EXPECT_EQ(StatusOf(client.Get("/v1/sstores?min_size=lots")), 400);
    EXPECT_EQ(StatusOf(client.Get("/v1/sfse/assess?max_size=-1")), 400);
    // Overwriting a packed file makes it native again with the new bytes.
    const std::string name = files_.begin()->first;
    rewritten_ = name;
    files_[name] = "rewritten after packing";
    ASSERT_EQ(StatusOf(PutFile(client, kNs + "/" + name, files_[name])), 200);
    json stat = FileStat(cluster_.port(0), kNs + "/" + name);
    EXPECT_FALSE(stat.contains("container")) << stat.dump();
    EXPECT_EQ(stat.value("packing_policy", ""), "native") << stat.dump();
    --packable_;  // the test below counts the files still packed
  }

  // Physical bytes drop to what 4+2 containers cost (small files were 3
  // copies, larger ones partial stripes), and the drives agree with FSAnalyze.
  const std::string fsa_after = RunJob("FSAnalyze");
  const int64_t physical_after = Counter(fsa_after, "physical_bytes");
  const double efficiency = static_cast<double>(Counter(fsa_after, "logical_bytes")) /
                            static_cast<double>(physical_after);
  EXPECT_LT(physical_after, physical_before * 17 / 20) << fsa_before << fsa_after;
  EXPECT_GT(efficiency, 0.95 * 4.0 / 6.0) << fsa_after;
  ASSERT_TRUE(WaitFor([&] { return LiveBytes() < native_bytes * 17 / 20; }, 60s))
      << "drives hold " << LiveBytes() << " live bytes, " << native_bytes << " before packing";
  CommandResult fsa = admin_.Run({"packing", "--fsa"});
  ASSERT_EQ(fsa.exit_code, 0) << fsa.output;
  EXPECT_NE(fsa.output.find("Efficiency:"), std::string::npos) << fsa.output;

  CommandResult list = admin_.Run({"sstore", "list", "--json"});
  ASSERT_EQ(list.exit_code, 0) << list.output;
  json containers = json::parse(list.output);
  uint64_t refs = 0;
  for (const json& c : containers["containers"]) refs += c["refs"].get<uint64_t>();
  EXPECT_EQ(refs, static_cast<uint64_t>(packable_) + 2) << list.output;
  int clone_stores = 0;
  for (const json& c : containers["containers"]) {
    if (c["type"] == "clone") {
      ++clone_stores;
      EXPECT_EQ(c["refs"], 2) << "SmartPools never appends to a clone store: " << c.dump();
      EXPECT_EQ(c["chunks"], 1) << c.dump();
    }
  }
  EXPECT_EQ(clone_stores, 1) << list.output;
  EXPECT_GE(containers["containers"].size(), 2u) << "16M containers: several" << list.output;
  EXPECT_EQ(containers["dangling_refs"], 0);
  CommandResult table = admin_.Run({"sstore", "list", "-v"});
  EXPECT_NE(table.output.find("frag score"), std::string::npos) << table.output;

  // Delete every other packed file: the defragmenter gives the space back.
  httplib::Client client("127.0.0.1", cluster_.port(1));
  int deleted = 0;
  for (auto it = files_.begin(); it != files_.end();) {
    if (it->first == rewritten_) {
      ++it;
      continue;
    }
    if (it->second.size() <= kMaxPackedSize && !it->second.empty() && deleted % 2 == 0 &&
        ++deleted) {
      auto res = client.Delete(("/v1/files/" + kNs + "/" + it->first).c_str());
      ASSERT_EQ(StatusOf(res), 204) << it->first;
      it = files_.erase(it);
      continue;
    }
    if (it->second.size() <= kMaxPackedSize && !it->second.empty()) ++deleted;
    ++it;
  }
  // A clone store nothing refers to any more is freed by the same job.
  {
    httplib::Client c("127.0.0.1", cluster_.port(0));
    ASSERT_EQ(StatusOf(c.Delete("/v1/files/vm/base.img")), 204);
    auto copy = GetFile(c, "vm/copy.img");
    ASSERT_EQ(StatusOf(copy), 200);
    EXPECT_EQ(copy->body, clone_image) << "the clone outlives its source";
    ASSERT_EQ(StatusOf(c.Delete("/v1/files/vm/copy.img")), 204);
  }
  CommandResult dry = admin_.Run({"sstore", "defrag", "--dry-run"});
  ASSERT_EQ(dry.exit_code, 0) << dry.output;
  EXPECT_NE(dry.output.find("Shadow stores total:"), std::string::npos) << dry.output;
  EXPECT_NE(dry.output.find("Chunks unreferenced:        1"), std::string::npos) << dry.output;
  EXPECT_EQ(dry.output.rfind("Assessed ", 0), 0u) << dry.output;
  EXPECT_EQ(dry.output.find("Processed "), std::string::npos) << "contradicts the summary\n"
                                                              << dry.output;
  std::smatch m;
  ASSERT_TRUE(std::regex_search(dry.output, m, std::regex("Chunks needing defrag: +([0-9]+)")))
      << dry.output;
  EXPECT_GT(std::stoi(m[1].str()), 0) << dry.output;
  const uint64_t before_defrag = LiveBytes();
  const std::string defrag = RunJob("ShadowStoreDelete");
  EXPECT_GT(Counter(defrag, "chunks_defragmented"), 0) << defrag;
  EXPECT_EQ(Counter(defrag, "chunks_freed"), Counter(defrag, "chunks_defragmented") + 1)
      << "the unreferenced clone store is freed too\n"
      << defrag;
  EXPECT_GT(Counter(defrag, "files_moved"), 0) << defrag;
  ASSERT_TRUE(WaitFor([&] { return LiveBytes() < before_defrag * 4 / 5; }, 60s))
      << "drives hold " << LiveBytes() << " live bytes, " << before_defrag << " before defrag\n"
      << defrag;
  ExpectEveryFileIdenticalVia({2});

  // A policy that stops packing: SmartPools unpacks every file.
  CommandResult off =
      admin_.Run({"filepool", "policies", "modify", "mix", "--enable-packing=false"});
  ASSERT_EQ(off.exit_code, 0) << off.output;
  const std::string unpacked = RunJob("SmartPools");
  EXPECT_EQ(Counter(unpacked, "Files unpacked"), packable_ - (packable_ + 1) / 2) << unpacked;
  EXPECT_EQ(PackedCount(), 0);
  ExpectEveryFileIdenticalVia({4});
}

TEST_F(PackingTest, SmartPoolsResumesAfterTheMasterIsKilled) {
  // Small containers: many chunks, so the kill lands between two of them.
  ASSERT_NO_FATAL_FAILURE(SetUpPacking("low", "4M"));
  const int master = MasterIndex();
  ASSERT_GE(master, 0);
  const int id = StartJob("SmartPools");
  ASSERT_GT(id, 0);
  // Kill the master once it has packed some files but not all.
  json job;
  ASSERT_TRUE(WaitFor(
      [&] {
        job = admin_.Job(id);
        return job.value("phase", "") == "pack" && job.value("done", 0) > 0;
      },
      120s))
      << admin_.Run({"job", "list"}).output;
  std::string why;
  ASSERT_TRUE(cluster_.CrashAndKeepDown({master}, &why)) << why;
  down_.insert(master);
  ASSERT_LT(job.value("done", 0), job.value("total", 0)) << "the run finished before the kill";
  ExpectEveryFileIdenticalVia({LiveNodes().front()});

  ASSERT_TRUE(WaitFor([&] { return MasterIndex() >= 0; }, 60s));
  const std::string state = WaitForJob(id, 240s);
  const std::string report =
      admin_.Run({"job", "reports", "view", "-v", std::to_string(id)}).output;
  ASSERT_EQ(state, "succeeded") << report;
  EXPECT_NE(report.find("resumed by master token"), std::string::npos) << report;
  EXPECT_EQ(PackedCount(), packable_);
  ExpectEveryFileIdenticalVia({LiveNodes().back()});

  // A chunk the killed master wrote but never switched files to is freed.
  ASSERT_NO_FATAL_FAILURE(BringBack());
  RunJob("ShadowStoreDelete");
  CommandResult dry = admin_.Run({"sstore", "defrag", "--dry-run"});
  EXPECT_NE(dry.output.find("Chunks unreferenced:        0"), std::string::npos) << dry.output;
  ExpectEveryFileIdenticalVia(AllNodes());
}

}  // namespace
}  // namespace tessera::testing
