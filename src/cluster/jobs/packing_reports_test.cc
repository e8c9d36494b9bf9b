#include "cluster/jobs/packing_reports.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace tessera::cluster {
namespace {

TEST(PackingReportsTest, FsaSummaryRoundTripsThroughCountersAndPrintsTheReport) {
  FsaSummary s{300, 280, 3, 41189630, 61830072, 58000000};
  Result<FsaSummary> back = FsaSummary::FromCounters(s.ToCounters());
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, s);
  EXPECT_NEAR(s.efficiency(), 0.6662, 0.0001);
  std::string report = FormatFsaReport(7, 1'790'000'000LL * 1'000'000'000, s);
  EXPECT_EQ(report.rfind("FSAnalyze job: 7 (", 0), 0u) << report;
  EXPECT_NE(
      report.find("\nLogical size:  39.281M\nPhysical size: 58.966M\nEfficiency:    66.62%\n"),
      std::string::npos)
      << report;

  auto counters = s.ToCounters();
  counters.erase("physical_bytes");
  EXPECT_EQ(FsaSummary::FromCounters(counters).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(FsaSummary::FromCounters({{"files_scanned", 3}}).status().code(),
            StatusCode::kInvalidArgument);
}

TEST(PackingReportsTest, DefragAssessmentRoundTripsAndPrintsTheSummary) {
  DefragAssessment a{3, 2, 1, 0, 4, 1, 31 << 20};
  Result<DefragAssessment> back = DefragAssessmentFromJson(ToJson(a));
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, a);
  EXPECT_EQ(FormatDefragAssessment(a),
            "Summary:\n"
            "    Shadow stores total:        3\n"
            "    Shadow stores processed:    2\n"
            "    Shadow stores skipped:      1\n"
            "    Shadow stores with error:   0\n"
            "    Chunks needing defrag:      4\n"
            "    Chunks unreferenced:        1\n"
            "    Estimated space savings:    31.0M\n");
  nlohmann::json bad = ToJson(a);
  bad.erase("chunks_needing_defrag");
  EXPECT_EQ(DefragAssessmentFromJson(bad).status().code(), StatusCode::kCorruption);
  EXPECT_EQ(DefragAssessmentFromJson(nlohmann::json::array()).status().code(),
            StatusCode::kCorruption);
}

TEST(PackingReportsTest, SfseEstimateSavingsAndReductionAreOfTheWhole) {
  SfseEstimate e;
  e.files = 100;
  e.packable_files = 80;
  e.physical_bytes = 1000;
  e.packable_logical_bytes = 300;
  e.packable_physical_bytes = 600;
  e.packed_physical_bytes = 450;
  e.protection_groups = 200;
  e.packable_protection_groups = 120;
  e.packed_protection_groups = 20;
  e.container_geometry = "16+2 stripe";
  EXPECT_EQ(e.raw_space_saving(), 150u);
  EXPECT_DOUBLE_EQ(e.raw_space_saving_percent(), 15.0);
  EXPECT_EQ(e.pg_reduction(), 100u);
  EXPECT_DOUBLE_EQ(e.pg_reduction_percent(), 50.0);
  Result<SfseEstimate> back = SfseEstimateFromJson(ToJson(e));
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, e);
  EXPECT_EQ(FormatSfseEstimate(e),
            "SFSE estimation summary:\n"
            "* Raw space saving: 150 (15.00%)\n"
            "* PG reduction: 100 (50.00%)\n"
            "  (80 of 100 files packable, 300 of data; containers 16+2 stripe)\n");
  // Packing never costs more than it saves in the figures: no negative savings.
  e.packed_physical_bytes = 700;
  e.packed_protection_groups = 500;
  EXPECT_EQ(e.raw_space_saving(), 0u);
  EXPECT_EQ(e.pg_reduction(), 0u);
  EXPECT_DOUBLE_EQ(SfseEstimate{}.raw_space_saving_percent(), 0.0);
}

}  // namespace
}  // namespace tessera::cluster
