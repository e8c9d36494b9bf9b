#include "jobs/packing_plan.h"

#include <gtest/gtest.h>

#include "io/shadow_store.h"

namespace tessera::jobs {
namespace {

using meta::PackingPlace;

constexpr int64_t kNow = 1'000'000 * 1'000'000'000LL;
constexpr int64_t kDay = 86400;

meta::FileRecord File(uint64_t size, int64_t age_seconds, bool packed) {
  meta::FileRecord r;
  r.ns = "archive";
  r.path = "dicom/a.dcm";
  r.size = size;
  r.modified_ns = kNow - age_seconds * 1'000'000'000LL;
  if (packed) r.packed = meta::ContainerExtent{7, 0};
  return r;
}

TEST(PackingPlanTest, PacksAnEligibleNativeFile) {
  PackingRules rules{true, 1016 * 1024, 0};
  PackingPolicyRules policy{true, kDay, std::nullopt};
  PackingDecision d = DecidePacking(File(4096, 2 * kDay, false), &policy, rules, kNow, "", "+2");
  EXPECT_EQ(d.action, PackAction::kPack);
  EXPECT_EQ(d.policy, PackingPlace::kContainer);
  EXPECT_EQ(d.target, PackingPlace::kContainer);
  EXPECT_EQ(d.skip, PackSkip::kNone);
}

TEST(PackingPlanTest, SkipsWithTheReasonTheReportCounts) {
  PackingRules rules{true, 1016 * 1024, 0};
  PackingPolicyRules policy{true, kDay, 512 * 1024};
  auto skip = [&](const meta::FileRecord& f, const PackingRules& r) {
    PackingDecision d = DecidePacking(f, &policy, r, kNow, "", "+2");
    EXPECT_EQ(d.target == PackingPlace::kNative, d.skip != PackSkip::kNone);
    EXPECT_EQ(d.policy, PackingPlace::kContainer);
    return d.skip;
  };
  EXPECT_EQ(skip(File(4096, kDay - 1, false), rules), PackSkip::kTooRecent);
  EXPECT_EQ(skip(File(4096, kDay, false), rules), PackSkip::kNone);
  EXPECT_EQ(skip(File(512 * 1024 + 1, 2 * kDay, false), rules), PackSkip::kTooLarge);
  EXPECT_EQ(skip(File(0, 2 * kDay, false), rules), PackSkip::kEmpty);
  EXPECT_EQ(skip(File(4096, 2 * kDay, false), {false, 1016 * 1024, 0}), PackSkip::kPackingDisabled);
  // The setting's minimum age wins when it is the larger.
  EXPECT_EQ(skip(File(4096, 2 * kDay, false), {true, 1016 * 1024, 3 * kDay}), PackSkip::kTooRecent);
  // The setting's maximum size wins when it is the smaller.
  EXPECT_EQ(skip(File(5000, 2 * kDay, false), {true, 4096, 0}), PackSkip::kTooLarge);
  // Nothing larger than a container chunk is ever packed.
  PackingPolicyRules big{true, 0, std::nullopt};
  PackingDecision d = DecidePacking(File(io::kContainerChunkSize + 1, kDay, false), &big,
                                    {true, 1ull << 30, 0}, kNow, "", "+2");
  EXPECT_EQ(d.skip, PackSkip::kTooLarge);
  EXPECT_EQ(PackSkipCounter(PackSkip::kTooRecent), "Skipped packing: modified within minimum age");
}

TEST(PackingPlanTest, UnpacksOnlyWhenThePolicyStopsPacking) {
  PackingPolicyRules off{false, 0, std::nullopt};
  PackingPolicyRules on{true, 0, std::nullopt};
  meta::FileRecord packed = File(4096, kDay, true);
  EXPECT_EQ(DecidePacking(packed, &off, {true, 1 << 20, 0}, kNow, "+2", "+2").action,
            PackAction::kUnpack);
  EXPECT_EQ(DecidePacking(packed, nullptr, {true, 1 << 20, 0}, kNow, "+2", "+2").action,
            PackAction::kUnpack);
  // Packing disabled in the settings, or a lowered maximum size: stays packed.
  packed.packing_policy = packed.packing_target = PackingPlace::kContainer;
  EXPECT_EQ(DecidePacking(packed, &on, {false, 1, 0}, kNow, "+2", "+2").action, PackAction::kNone);
}

TEST(PackingPlanTest, UnpacksRecentlyModifiedPackedFilesOnlyWhenAsked) {
  PackingPolicyRules on{true, 2 * kDay, std::nullopt};
  meta::FileRecord packed = File(4096, kDay, true);  // younger than the policy's 2 days
  packed.packing_policy = packed.packing_target = PackingPlace::kContainer;
  PackingRules rules{true, 1 << 20, 0, false};
  EXPECT_EQ(DecidePacking(packed, &on, rules, kNow, "+2", "+2").action, PackAction::kNone);
  rules.unpack_recently_modified = true;
  PackingDecision d = DecidePacking(packed, &on, rules, kNow, "+2", "+2");
  EXPECT_EQ(d.action, PackAction::kUnpack);
  EXPECT_EQ(d.target, PackingPlace::kNative);
  EXPECT_EQ(d.skip, PackSkip::kTooRecent);
  packed.modified_ns -= 2 * kDay * 1'000'000'000LL;  // now old enough
  EXPECT_EQ(DecidePacking(packed, &on, rules, kNow, "+2", "+2").action, PackAction::kNone);
}

TEST(PackingPlanTest, RepacksWhenTheContainerProtectionDiffers) {
  PackingPolicyRules on{true, 0, std::nullopt};
  meta::FileRecord packed = File(4096, kDay, true);
  EXPECT_EQ(DecidePacking(packed, &on, {true, 1 << 20, 0}, kNow, "+1", "+2d:1n").action,
            PackAction::kRepack);
}

// Every combination of the inputs, checked against the rules in the header.
TEST(PackingPlanTest, EveryCombinationFollowsTheRules) {
  const uint64_t sizes[] = {0, 1, 4096, 1016 * 1024, 1016 * 1024 + 1, io::kContainerChunkSize + 1};
  const int64_t ages[] = {0, kDay - 1, kDay, 30 * kDay};
  const std::optional<PackingPolicyRules> policies[] = {
      std::nullopt,
      PackingPolicyRules{false, 0, std::nullopt},
      PackingPolicyRules{true, 0, std::nullopt},
      PackingPolicyRules{true, kDay, 4096},
  };
  const PackingPlace places[] = {PackingPlace::kNative, PackingPlace::kContainer};
  int cases = 0;
  for (uint64_t size : sizes)
    for (int64_t age : ages)
      for (bool packed : {false, true})
        for (const auto& policy : policies)
          for (bool enabled : {false, true})
            for (int64_t setting_age : {int64_t{0}, 2 * kDay})
              for (bool unpack_recent : {false, true})
                for (bool same_protection : {false, true})
                  for (PackingPlace old_policy : places)
                    for (PackingPlace old_target : places) {
                      ++cases;
                      meta::FileRecord f = File(size, age, packed);
                      f.packing_policy = old_policy;
                      f.packing_target = old_target;
                      PackingRules rules{enabled, 1016 * 1024, setting_age, unpack_recent};
                      const PackingPolicyRules* p = policy ? &*policy : nullptr;
                      PackingDecision d =
                          DecidePacking(f, p, rules, kNow, same_protection ? "+2" : "+1", "+2");
                      bool packing_policy = p && p->enable_packing;
                      bool too_recent =
                          packing_policy && age < std::max(setting_age, p->min_age_seconds);
                      bool recent_unpack = packed && packing_policy && unpack_recent && too_recent;
                      SCOPED_TRACE(testing::Message()
                                   << "size " << size << " age " << age << " packed " << packed
                                   << " policy "
                                   << (p ? (p->enable_packing ? "on" : "off") : "none")
                                   << " enabled " << enabled << " setting age " << setting_age);
                      EXPECT_EQ(d.policy == PackingPlace::kContainer, packing_policy);
                      if (d.target == PackingPlace::kContainer) {
                        EXPECT_TRUE(packing_policy);
                      }
                      if (packed && packing_policy && !recent_unpack) {
                        EXPECT_EQ(d.target, PackingPlace::kContainer);
                      }
                      EXPECT_EQ(d.action == PackAction::kUnpack,
                                packed && (!packing_policy || recent_unpack));
                      EXPECT_EQ(d.action == PackAction::kRepack,
                                packed && packing_policy && !recent_unpack && !same_protection);
                      if (d.action == PackAction::kPack) {
                        int64_t min_age = std::max(setting_age, p->min_age_seconds);
                        uint64_t max = std::min<uint64_t>(1016 * 1024, p->max_size.value_or(~0ull));
                        EXPECT_FALSE(packed);
                        EXPECT_TRUE(enabled);
                        EXPECT_TRUE(size > 0 && size <= max);
                        EXPECT_GE(age, min_age);
                      }
                      EXPECT_EQ(d.skip != PackSkip::kNone,
                                (!packed && packing_policy && d.target == PackingPlace::kNative) ||
                                    recent_unpack);
                      if (!packed && packing_policy && d.skip == PackSkip::kNone) {
                        EXPECT_EQ(d.action, PackAction::kPack);
                      }
                      bool moves = d.action == PackAction::kPack ||
                                   d.action == PackAction::kRepack ||
                                   d.action == PackAction::kUnpack;
                      bool attrs_differ = old_policy != d.policy || old_target != d.target;
                      if (!moves) {
                        EXPECT_EQ(d.action == PackAction::kSetAttributes, attrs_differ);
                      }
                    }
  EXPECT_EQ(cases, 6 * 4 * 2 * 4 * 2 * 2 * 2 * 2 * 2 * 2);
}

}  // namespace
}  // namespace tessera::jobs
