// GroupState: one cluster group as a plain value (no I/O, no locking).
//
// A group says which nodes (by array id) and which of their drives (by
// logical drive number, "lnum") are members, which devices are down,
// soft-failed, dead or stalled, which nodes are read-only or diskless, and
// which nodes run each service. It is what the OneFS-style group notation
// (group_notation.h) describes; equality is field-by-field, so two states
// are equal exactly when they mean the same group.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace tessera::cluster {

// Node array ids run 1..kMaxNodeId and drive lnums 0..kMaxDriveLnum. The
// bounds keep a hostile string from describing billions of devices.
inline constexpr uint32_t kMaxNodeId = 4095;
inline constexpr uint32_t kMaxDriveLnum = 4095;

// A set of small unsigned ids kept as sorted, disjoint, non-adjacent closed
// ranges, so "0-4095" costs one range, not 4096 entries.
class IdSet {
 public:
  struct Range {
    uint32_t first;
    uint32_t last;  // inclusive; first <= last
    bool operator==(const Range&) const = default;
  };

  IdSet() = default;
  IdSet(std::initializer_list<uint32_t> ids);

  // Adds [first, last]; requires first <= last.
  void InsertRange(uint32_t first, uint32_t last);
  void Insert(uint32_t id) { InsertRange(id, id); }

  bool Contains(uint32_t id) const;
  bool empty() const { return ranges_.empty(); }
  // Number of ids (not ranges).
  uint64_t size() const;
  // Largest id; requires !empty().
  uint32_t max() const { return ranges_.back().last; }
  const std::vector<Range>& ranges() const { return ranges_; }
  std::vector<uint32_t> ToVector() const;

  // "0-5,7,9-10": ',' between ranges, "a-b" for two or more consecutive ids,
  // "" for the empty set.
  std::string ToString() const;

  bool operator==(const IdSet&) const = default;

 private:
  std::vector<Range> ranges_;
};

// The group's sequence stamp, as the notation's optional prefix shows it.
struct SerialSequence {  // "<initiator,serial>"
  uint32_t initiator = 0;
  uint64_t serial = 0;
  bool operator==(const SerialSequence&) const = default;
};
struct CookieSequence {  // "<cookie> (generation)"
  std::string cookie;    // 1-16 hex digits, kept as written
  uint64_t generation = 0;
  bool operator==(const CookieSequence&) const = default;
};
// std::monostate: no sequence (no prefix, or the bare ':' prefix).
using Sequence = std::variant<std::monostate, SerialSequence, CookieSequence>;

// A whole node (drives == nullopt) or some of its drives (a non-empty set).
struct DeviceRef {
  uint32_t node = 0;
  std::optional<IdSet> drives;

  bool whole_node() const { return !drives.has_value(); }
  // "5" or "5:0-3,7".
  std::string ToString() const;
  bool operator==(const DeviceRef&) const = default;
};

struct GroupState {
  Sequence sequence;
  // Member node -> its member drives; a diskless member maps to an empty set.
  std::map<uint32_t, IdSet> members;
  // Device lists keep the order in which the notation names them.
  std::vector<DeviceRef> down;
  std::vector<DeviceRef> soft_failed;
  std::vector<DeviceRef> dead;
  std::vector<DeviceRef> stalled;
  IdSet read_only;
  IdSet diskless;
  // Service name -> nodes running it, in order of first appearance. Names
  // are unique; a service with no nodes cannot be written in the notation.
  std::vector<std::pair<std::string, IdSet>> services;

  // Nodes named as whole nodes in `down`.
  IdSet NodesDown() const;
  // Nodes whose drives take no new data: soft-failed ones (being emptied)
  // and read-only ones (docs/states.md). Their data is still read.
  IdSet NodesNotWritable() const;

  bool operator==(const GroupState&) const = default;
};

}  // namespace tessera::cluster
