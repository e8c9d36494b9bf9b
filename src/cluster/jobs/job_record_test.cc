#include "cluster/jobs/job_record.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "tests/support/json_variants.h"

namespace tessera::cluster {
namespace {

constexpr JobState kStates[] = {JobState::kQueued,    JobState::kRunning,   JobState::kPaused,
                                JobState::kCancelled, JobState::kSucceeded, JobState::kFailed};

JobRecord Sample() {
  JobRecord r;
  r.id = 7;
  r.type = "FlexProtect";
  r.state = JobState::kRunning;
  r.trigger = "node 3 down for 300 s";
  r.created_ns = 1'700'000'000'000'000'000;
  r.started_ns = r.created_ns + 1'000'000'000;
  r.phases = {{"scan", r.started_ns, r.started_ns + 2'000'000'000},
              {"rebuild", r.started_ns + 2'000'000'000, 0}};
  r.done = 21;
  r.total = 50;
  r.counters = {{"files_scanned", 50}, {"files_rebuilt", 21}};
  r.details = {"a/b: rebuilt 1 unit"};
  r.master_token = 41;
  r.devices = {"node 3"};
  return r;
}

TEST(JobRecordTest, JsonRoundTripsEveryField) {
  JobRecord r = Sample();
  r.details_dropped = 3;
  r.error = "boom";
  auto parsed = ParseJobRecord(JobRecordJson(r));
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(*parsed, r);
  for (JobState s : kStates) {
    r.state = s;
    EXPECT_EQ(ParseJobRecord(JobRecordJson(r))->state, s);
  }
}

TEST(JobRecordTest, MalformedRecordsAreCorruption) {
  for (const char* bad : {"", "[]", "{}", R"({"id":0,"type":"x","state":"queued"})",
                          R"({"id":1,"type":"x","state":"sleeping"})", R"({"id":"1"})"}) {
    auto r = ParseJobRecord(bad);
    EXPECT_FALSE(r.ok()) << bad;
  }
}

// Job records come from etcd, where anything may have written them: every
// record that parses can be listed, reported and controlled.
TEST(JobRecordTest, EveryRecordThatParsesCanBeShownAndControlled) {
  JobRecord r = Sample();
  r.error = "boom";
  r.state = JobState::kPaused;
  size_t parsed = 0;
  for (const nlohmann::json& doc :
       testing::OneValueChanged(nlohmann::json::parse(JobRecordJson(r)))) {
    Result<JobRecord> changed = ParseJobRecord(doc.dump());
    if (!changed.ok()) {
      EXPECT_EQ(changed.status().code(), StatusCode::kCorruption) << doc.dump();
      continue;
    }
    ++parsed;
    EXPECT_GE(changed->Percent(), 0) << doc.dump();
    EXPECT_LE(changed->Percent(), 100) << doc.dump();
    EXPECT_FALSE(FormatJobList({*changed}).empty());
    EXPECT_FALSE(FormatJobReport(*changed, /*verbose=*/true).empty());
    for (JobControl control : {JobControl::kPause, JobControl::kResume, JobControl::kCancel}) {
      (void)ApplyJobControl(*changed, control, r.started_ns + 1);
    }
  }
  EXPECT_GT(parsed, 50u);
}

TEST(JobRecordTest, TypesAreCanonicalIgnoringCase) {
  EXPECT_EQ(*CanonicalJobType("flexprotect"), "FlexProtect");
  EXPECT_EQ(*CanonicalJobType("FLEXPROTECT"), "FlexProtect");
  EXPECT_EQ(*CanonicalJobType("smartpools"), "SmartPools");
  EXPECT_EQ(*CanonicalJobType("fsanalyze"), "FSAnalyze");
  EXPECT_EQ(*CanonicalJobType("shadowstoredelete"), "ShadowStoreDelete");
  EXPECT_EQ(*CanonicalJobType("mediascan"), "MediaScan");
  auto bad = CanonicalJobType("defrag");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("known: FlexProtect, SmartPools, FSAnalyze, "
                                        "ShadowStoreDelete, MediaScan"),
            std::string::npos);
}

// Every control against every state: exactly the documented transitions.
TEST(JobRecordTest, ControlsApplyOnlyWhereDocumented) {
  struct Expect {
    JobControl control;
    JobState from;
    std::optional<JobState> to;
  };
  std::vector<Expect> table;
  for (JobState s : kStates) {
    bool live = s == JobState::kQueued || s == JobState::kRunning;
    table.push_back(
        {JobControl::kPause, s, live ? std::optional(JobState::kPaused) : std::nullopt});
    table.push_back({JobControl::kResume, s,
                     s == JobState::kPaused ? std::optional(JobState::kQueued) : std::nullopt});
    table.push_back(
        {JobControl::kCancel, s, IsFinal(s) ? std::nullopt : std::optional(JobState::kCancelled)});
  }
  for (const Expect& e : table) {
    JobRecord r = Sample();
    r.state = e.from;
    auto next = ApplyJobControl(r, e.control, 99);
    SCOPED_TRACE(std::string(JobControlName(e.control)) + " from " +
                 std::string(JobStateName(e.from)));
    if (!e.to) {
      ASSERT_FALSE(next.ok());
      EXPECT_EQ(next.status().code(), StatusCode::kFailedPrecondition);
      EXPECT_NE(next.status().message().find("job 7 is " + std::string(JobStateName(e.from))),
                std::string::npos);
      continue;
    }
    ASSERT_TRUE(next.ok());
    EXPECT_EQ(next->state, *e.to);
    EXPECT_EQ(next->phases.size(), r.phases.size());
    EXPECT_EQ(next->counters, r.counters);  // progress is kept for the report
    if (*e.to == JobState::kCancelled) {
      EXPECT_EQ(next->ended_ns, 99);
      EXPECT_EQ(next->phases.back().ended_ns, 99);
    } else {
      EXPECT_EQ(next->ended_ns, 0);
    }
  }
}

TEST(JobRecordTest, PercentIsOfTheCurrentPhase) {
  JobRecord r = Sample();
  EXPECT_EQ(r.Percent(), 42);
  EXPECT_EQ(r.CurrentPhase(), "rebuild");
  r.done = 80;  // more than the total never shows past 100
  EXPECT_EQ(r.Percent(), 100);
  r.total = 0;
  EXPECT_EQ(r.Percent(), 0);
  r.state = JobState::kSucceeded;
  EXPECT_EQ(r.Percent(), 100);
  EXPECT_EQ(JobRecord().CurrentPhase(), "");
}

TEST(JobRecordTest, DetailsAreCappedAndCounted) {
  JobRecord r;
  for (size_t i = 0; i < kMaxJobDetails + 5; ++i) r.AddDetail("d" + std::to_string(i));
  EXPECT_EQ(r.details.size(), kMaxJobDetails);
  EXPECT_EQ(r.details_dropped, 5u);
  EXPECT_NE(FormatJobReport(r, true).find("(5 more not kept)"), std::string::npos);
}

TEST(JobRecordTest, ListShowsPhaseAndPercent) {
  std::string list = FormatJobList({Sample()});
  EXPECT_NE(list.find("Id  Type"), std::string::npos) << list;
  EXPECT_NE(list.find("     7  FlexProtect  running    rebuild   42%  node 3 down for 300 s"),
            std::string::npos)
      << list;
}

TEST(JobRecordTest, ListColumnsStayInLineWhateverTheirWidth) {
  JobRecord wide = Sample();
  wide.id = 12;
  wide.type = "ShadowStoreDelete";
  wide.phases.back().ended_ns = wide.started_ns + 3'000'000'000;
  wide.phases.push_back({"attributes", wide.started_ns + 3'000'000'000, 0});
  std::string list = FormatJobList({Sample(), wide});
  std::vector<size_t> done_columns;
  for (size_t start = 0, end; (end = list.find('\n', start)) != std::string::npos;
       start = end + 1) {
    const std::string line = list.substr(start, end - start);
    const size_t percent = line.find('%');
    done_columns.push_back(percent == std::string::npos ? line.find("Done") + 3 : percent);
  }
  ASSERT_EQ(done_columns.size(), 3u) << list;
  EXPECT_EQ(done_columns[0], done_columns[1]) << list;
  EXPECT_EQ(done_columns[1], done_columns[2]) << list;
}

TEST(JobRecordTest, ReportHasPhasesWithTimesCountersAndVerboseDetails) {
  JobRecord r = Sample();
  std::string report = FormatJobReport(r, false);
  EXPECT_NE(report.find("job 7: FlexProtect, running"), std::string::npos) << report;
  EXPECT_NE(report.find("  scan: 2023-11-14T22:13:21Z to 2023-11-14T22:13:23Z (2.0 s)"),
            std::string::npos)
      << report;
  EXPECT_NE(report.find("  rebuild: 2023-11-14T22:13:23Z to (running), 21 of 50 (42%)"),
            std::string::npos)
      << report;
  EXPECT_NE(report.find("  files_rebuilt: 21"), std::string::npos) << report;
  EXPECT_NE(report.find("devices: node 3"), std::string::npos) << report;
  EXPECT_EQ(report.find("details:"), std::string::npos);
  std::string verbose = FormatJobReport(r, true);
  EXPECT_NE(verbose.find("details:\n  a/b: rebuilt 1 unit\n"), std::string::npos) << verbose;
}

TEST(JobRecordTest, ReportGroupsPolicyCountersAndShowsWorkingTime) {
  JobRecord r = Sample();
  r.type = "SmartPools";
  r.state = JobState::kSucceeded;
  r.ended_ns = r.started_ns + 40'000'000'000;  // 40 s, 30 of them paced
  r.counters = {{"paced_ms", 30000},
                {"policy dicom: Files matched", 512},
                {"policy dicom: Files packed", 500},
                {"policy dicom: Skipped packing: empty files", 2},
                {"policy scans: Files matched", 3},
                {"bytes_packed", 4096}};
  std::string report = FormatJobReport(r, false);
  EXPECT_NE(report.find("elapsed time: 40 seconds\nworking time: 10 seconds\n"), std::string::npos)
      << report;
  EXPECT_NE(report.find("  bytes_packed: 4096\n"), std::string::npos) << report;
  EXPECT_EQ(report.find("paced_ms"), std::string::npos) << report;
  EXPECT_NE(report.find("policies:\n  'dicom':\n    Files matched: 512\n"
                        "    Directories matched: 0\n    Files packed: 500\n"
                        "    Files repacked: 0\n    Files unpacked: 0\n"
                        "    Packing changes skipped: 0\n"
                        "    Skipped packing: empty files: 2\n  'scans':\n"),
            std::string::npos)
      << report;
}

}  // namespace
}  // namespace tessera::cluster
