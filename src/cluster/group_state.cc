#include "cluster/group_state.h"

#include <algorithm>
#include <cassert>

namespace tessera::cluster {

IdSet::IdSet(std::initializer_list<uint32_t> ids) {
  for (uint32_t id : ids) Insert(id);
}

void IdSet::InsertRange(uint32_t first, uint32_t last) {
  assert(first <= last);
  // Find the first range that could touch [first, last] (its end + 1 >= first).
  auto it = std::lower_bound(ranges_.begin(), ranges_.end(), first, [](const Range& r, uint32_t v) {
    return static_cast<uint64_t>(r.last) + 1 < v;
  });
  Range merged{first, last};
  auto end = it;
  while (end != ranges_.end() && end->first <= static_cast<uint64_t>(last) + 1) {
    merged.first = std::min(merged.first, end->first);
    merged.last = std::max(merged.last, end->last);
    ++end;
  }
  it = ranges_.erase(it, end);
  ranges_.insert(it, merged);
}

bool IdSet::Contains(uint32_t id) const {
  auto it = std::lower_bound(ranges_.begin(), ranges_.end(), id,
                             [](const Range& r, uint32_t v) { return r.last < v; });
  return it != ranges_.end() && it->first <= id;
}

uint64_t IdSet::size() const {
  uint64_t n = 0;
  for (const Range& r : ranges_) n += static_cast<uint64_t>(r.last) - r.first + 1;
  return n;
}

std::vector<uint32_t> IdSet::ToVector() const {
  std::vector<uint32_t> out;
  for (const Range& r : ranges_) {
    for (uint64_t id = r.first; id <= r.last; ++id) out.push_back(static_cast<uint32_t>(id));
  }
  return out;
}

std::string IdSet::ToString() const {
  std::string out;
  for (const Range& r : ranges_) {
    if (!out.empty()) out += ',';
    out += std::to_string(r.first);
    if (r.last != r.first) {
      out += '-';
      out += std::to_string(r.last);
    }
  }
  return out;
}

std::string DeviceRef::ToString() const {
  std::string out = std::to_string(node);
  if (drives) {
    out += ':';
    out += drives->ToString();
  }
  return out;
}

IdSet GroupState::NodesDown() const {
  IdSet out;
  for (const DeviceRef& ref : down) {
    if (ref.whole_node()) out.Insert(ref.node);
  }
  return out;
}

IdSet GroupState::NodesNotWritable() const {
  IdSet out = read_only;
  for (const DeviceRef& ref : soft_failed) {
    if (ref.whole_node()) out.Insert(ref.node);
  }
  return out;
}

}  // namespace tessera::cluster
