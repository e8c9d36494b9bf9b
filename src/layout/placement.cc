#include "layout/placement.h"

#include <algorithm>
#include <climits>
#include <string>

#include "layout/internal.h"

namespace tessera::layout {
namespace {

// splitmix64 (Steele, Lea, Flood 2014): tiny, fast, well mixed, and fully
// specified, so placements are reproducible everywhere.
class SplitMix64 {
 public:
  explicit SplitMix64(uint64_t seed) : state_(seed) {}

  uint64_t Next() {
    uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }

  // Uniform in [0, bound), bound > 0. Rejects the few values that would make
  // the modulo biased.
  uint64_t Below(uint64_t bound) {
    const uint64_t threshold = (0 - bound) % bound;  // 2^64 mod bound
    for (;;) {
      const uint64_t r = Next();
      if (r >= threshold) return r % bound;
    }
  }

 private:
  uint64_t state_;
};

// Free bytes are scaled down just enough that the weights of all drives sum
// without overflow; only ratios matter.
int WeightShift(const std::vector<DriveSlot>& drives) {
  uint64_t max_free = 0;
  for (const DriveSlot& d : drives) max_free = std::max(max_free, d.free_bytes);
  const uint64_t limit = (uint64_t{1} << 62) / std::max<uint64_t>(1, drives.size());
  int shift = 0;
  while ((max_free >> shift) >= limit) ++shift;
  return shift;
}

}  // namespace

Result<std::vector<DriveSlot>> PlaceUnits(const ProtectionPolicy& policy, const Geometry& geometry,
                                          const Topology& topology, uint64_t seed) {
  RETURN_IF_ERROR(internal::ValidatePolicy(policy));
  RETURN_IF_ERROR(internal::ValidateTopology(topology));
  const bool stripe = geometry.kind == Geometry::Kind::kStripe;
  // The per-node limit comes from the policy, so it must be the policy the
  // stripe was planned for.
  if (stripe && (policy.kind != ProtectionPolicy::Kind::kParity ||
                 geometry.parity_units != policy.parity_units())) {
    return Status::InvalidArgument("cannot place geometry " + geometry.ToString() +
                                   " under protection " + policy.ToString() +
                                   ": parity does not match");
  }
  if (stripe && (geometry.data_units < 1 || geometry.data_units > kMaxDataUnits)) {
    return Status::InvalidArgument("cannot place geometry " + geometry.ToString() +
                                   ": data units must be 1 to " + std::to_string(kMaxDataUnits));
  }
  const int width = geometry.width();  // bounded by the checks above
  if (width < 1) {
    return Status::InvalidArgument("cannot place geometry " + geometry.ToString() +
                                   ": it has no units");
  }

  // Canonical order, so the caller's listing order cannot change the result.
  std::vector<DriveSlot> drives = topology.drives;
  std::sort(drives.begin(), drives.end(), [](const DriveSlot& a, const DriveSlot& b) {
    return a.node != b.node ? a.node < b.node : a.lnum < b.lnum;
  });
  std::vector<int> node_of(drives.size());
  std::vector<int> per_node;
  for (size_t i = 0; i < drives.size(); ++i) {
    if (i == 0 || drives[i].node != drives[i - 1].node) per_node.push_back(0);
    node_of[i] = static_cast<int>(per_node.size()) - 1;
    ++per_node.back();
  }
  const int nodes = static_cast<int>(per_node.size());
  // A stripe across nodes is limited by its per-node cap, reported below.
  if ((!stripe || nodes <= 1) && drives.size() < static_cast<size_t>(width)) {
    return Status::Unavailable(internal::NotEnoughDrives(policy, width, drives.size()));
  }

  int cap = INT_MAX;  // one node: drives are the fault domain
  if (nodes > 1 && stripe) {
    cap = policy.max_units_per_node();
  } else if (nodes > 1) {
    // Copies on distinct nodes if there are enough nodes, otherwise the most
    // even spread (the smallest per-node count that still fits them all).
    cap = 1;
    while (cap < width && internal::UnitsThatFit(per_node, cap) < width) ++cap;
  }
  const int fit = internal::UnitsThatFit(per_node, cap);
  if (fit < width) {  // only a multi-node stripe gets here
    return Status::Unavailable(
        "protection " + policy.ToString() + " cannot place a " +
        std::to_string(geometry.data_units) + "+" + std::to_string(geometry.parity_units) +
        " stripe: at most " + std::to_string(cap) + (cap == 1 ? " unit" : " units") +
        " per node fits " + std::to_string(fit) + " of its " + std::to_string(width) +
        " units on " + std::to_string(nodes) + " nodes");
  }

  // Greedy, one drive at a time, cannot dead-end: if node n has d_n unused
  // drives and room for c_n more units, any pick on it lowers min(d_n, c_n) by
  // exactly one, so "units that still fit" and "units still to place" fall
  // together and the check above holds after every pick, whichever drive was
  // picked. That leaves us free to order the picks: all non-full drives
  // before any full one (by the same argument, this uses as many non-full
  // drives as can be used at all), and each pick among the least-loaded nodes
  // (water filling, so units reach as many nodes as possible).
  const int shift = WeightShift(drives);
  SplitMix64 rng(seed);
  std::vector<int> load(nodes, 0);
  std::vector<bool> taken(drives.size(), false);
  std::vector<size_t> candidates;
  std::vector<DriveSlot> placement;
  placement.reserve(width);
  for (const bool full_tier : {false, true}) {
    while (static_cast<int>(placement.size()) < width) {
      auto eligible = [&](size_t i) {
        return !taken[i] && (drives[i].free_bytes == 0) == full_tier && load[node_of[i]] < cap;
      };
      int least = INT_MAX;
      for (size_t i = 0; i < drives.size(); ++i) {
        if (eligible(i)) least = std::min(least, load[node_of[i]]);
      }
      if (least == INT_MAX) break;  // this tier is used up
      candidates.clear();
      uint64_t total = 0;
      for (size_t i = 0; i < drives.size(); ++i) {
        if (eligible(i) && load[node_of[i]] == least) {
          candidates.push_back(i);
          total += (drives[i].free_bytes >> shift) + 1;
        }
      }
      uint64_t r = rng.Below(total);
      size_t chosen = candidates.back();
      for (size_t i : candidates) {
        const uint64_t weight = (drives[i].free_bytes >> shift) + 1;
        if (r < weight) {
          chosen = i;
          break;
        }
        r -= weight;
      }
      taken[chosen] = true;
      ++load[node_of[chosen]];
      placement.push_back(drives[chosen]);
    }
  }
  if (static_cast<int>(placement.size()) != width) {
    return Status::Internal("placement of " + geometry.ToString() + " under " + policy.ToString() +
                            " dead-ended");
  }
  return placement;
}

}  // namespace tessera::layout
