// Test-only: a MetadataStore that forwards to another and lets a test act
// just before a ReplacePlacement reaches it, e.g. as another request that
// commits in between (a racing snapshot, a clone moving the file).
//
// Not thread-safe beyond what the inner store is; the hook runs `times`
// times (once by default), never from within itself.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <utility>

#include "meta/metadata_store.h"

namespace tessera::meta {

class RaceBeforeReplace final : public MetadataStore {
 public:
  // `race` runs before the first ReplacePlacement of a record `matches` takes.
  RaceBeforeReplace(MetadataStore& inner, std::function<bool(const FileRecord&)> matches,
                    std::function<void()> race, int times = 1)
      : inner_(inner), matches_(std::move(matches)), race_(std::move(race)), times_(times) {}

  Result<uint64_t> NewObjectId() override { return inner_.NewObjectId(); }
  Result<FileRecord> Get(const std::string& ns, const std::string& path) override {
    return inner_.Get(ns, path);
  }
  Result<std::optional<FileRecord>> Put(FileRecord record) override {
    return inner_.Put(std::move(record));
  }
  Result<bool> ReplacePlacement(const FileRecord& record, uint64_t expected_object_id,
                                std::optional<int64_t> expected_modified_ns) override {
    if (times_ > 0 && !racing_ && matches_(record)) {
      --times_;
      racing_ = true;
      race_();
      racing_ = false;
    }
    return inner_.ReplacePlacement(record, expected_object_id, expected_modified_ns);
  }
  Result<FileRecord> Delete(const std::string& ns, const std::string& path) override {
    return inner_.Delete(ns, path);
  }
  Result<Listing> List(const std::string& ns, const std::string& prefix, const std::string& marker,
                       size_t limit) override {
    return inner_.List(ns, prefix, marker, limit);
  }
  Status ForEach(const std::function<bool(const FileRecord&)>& visit) override {
    return inner_.ForEach(visit);
  }

 private:
  MetadataStore& inner_;
  std::function<bool(const FileRecord&)> matches_;
  std::function<void()> race_;
  int times_;
  bool racing_ = false;
};

}  // namespace tessera::meta
