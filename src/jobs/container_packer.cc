#include "jobs/container_packer.h"

#include <chrono>
#include <future>

#include "common/crc32c.h"

namespace tessera::jobs {
namespace {

// Record switches in flight at once: each is a replicated metadata write,
// and the shard primaries commit concurrent ones together.
constexpr size_t kSwitchLanes = 8;

int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

std::string_view MoveOutcomeName(MoveOutcome outcome) {
  switch (outcome) {
    case MoveOutcome::kMoved:
      return "moved";
    case MoveOutcome::kRaced:
      return "raced";
    case MoveOutcome::kUnreadable:
      return "unreadable";
    case MoveOutcome::kIndeterminate:
      return "indeterminate";
    case MoveOutcome::kFailed:
      return "failed";
  }
  return "?";
}

ContainerPacker::ContainerPacker(io::PieceStore& pieces, meta::MetadataStore& metadata,
                                 Options options, ObjectIdFn new_object_id, OutcomeFn on_outcome)
    : pieces_(pieces),
      metadata_(metadata),
      options_(std::move(options)),
      new_object_id_(std::move(new_object_id)),
      on_outcome_(std::move(on_outcome)),
      container_(options_.append_to) {}

ContainerPacker::~ContainerPacker() {
  if (writer_) writer_->Abort();
}

uint64_t ContainerPacker::ChunkCapacity() const {
  uint64_t used = container_ ? container_->bytes : 0;
  uint64_t left = options_.container_max_size > used ? options_.container_max_size - used : 0;
  return std::min(io::kContainerChunkSize, left);
}

Status ContainerPacker::OpenChunk() {
  if (container_ && (container_->next_chunk >= io::kMaxContainerChunks || ChunkCapacity() == 0)) {
    container_.reset();
  }
  if (!container_) {
    ASSIGN_OR_RETURN(uint64_t sin, new_object_id_());
    container_ = OpenContainer{sin, 0, 0};
  }
  ASSIGN_OR_RETURN(chunk_object_id_, new_object_id_());
  writer_ = std::make_unique<io::FileWriter>(pieces_, options_.protection, chunk_object_id_);
  chunk_bytes_ = 0;
  return Status::Ok();
}

Status ContainerPacker::Add(meta::FileRecord file) {
  std::vector<uint8_t> bytes;
  bytes.reserve(file.size);
  Status read = io::ReadFileContent(pieces_, metadata_, file, 0, file.size,
                                    [&bytes](std::span<const uint8_t> b) {
                                      bytes.insert(bytes.end(), b.begin(), b.end());
                                      return Status::Ok();
                                    });
  if (read.ok() && Crc32c(bytes) != file.crc32c) {
    read = Status::Corruption("content read back does not match the record's CRC32C");
  }
  if (!read.ok()) {
    on_outcome_(file, MoveOutcome::kUnreadable, read);
    return Status::Ok();
  }
  if (writer_ && chunk_bytes_ + bytes.size() > ChunkCapacity()) RETURN_IF_ERROR(Flush());
  if (!writer_) {
    RETURN_IF_ERROR(OpenChunk());
    if (bytes.size() > ChunkCapacity()) {  // the container is nearly full: start another
      writer_->Abort();
      writer_.reset();
      container_.reset();
      RETURN_IF_ERROR(OpenChunk());
    }
  }
  if (Status s = writer_->Write(bytes); !s.ok()) {
    on_outcome_(file, MoveOutcome::kFailed, s);
    for (const Pending& p : pending_) on_outcome_(p.file, MoveOutcome::kFailed, s);
    pending_.clear();
    writer_->Abort();
    writer_.reset();
    return s;
  }
  pending_.push_back({std::move(file), chunk_bytes_});
  chunk_bytes_ += bytes.size();
  return Status::Ok();
}

Status ContainerPacker::Flush() {
  if (!writer_) return Status::Ok();
  std::unique_ptr<io::FileWriter> writer = std::move(writer_);
  std::vector<Pending> pending = std::move(pending_);
  pending_.clear();
  auto fail_all = [&](const Status& s) {
    for (const Pending& p : pending) on_outcome_(p.file, MoveOutcome::kFailed, s);
    return s;
  };
  Result<io::WrittenFile> written = writer->Finish();
  if (!written.ok()) {
    writer->Abort();
    return fail_all(written.status().WithContext("writing a container chunk"));
  }
  const io::ChunkName name{container_->sin, container_->next_chunk};
  const meta::FileRecord chunk =
      written->Record(std::string(io::kShadowStoreNamespace), io::ChunkPath(name), chunk_object_id_,
                      options_.protection.ToString(), NowNs());
  Result<std::optional<meta::FileRecord>> committed = metadata_.Put(chunk);
  if (!committed.ok()) {
    // An indeterminate commit may stand with no file pointing into it: the
    // ShadowStoreDelete job frees such a chunk.
    if (committed.status().code() != StatusCode::kIndeterminate) writer->Abort();
    return fail_all(committed.status().WithContext("committing container chunk " + chunk.path));
  }
  ++container_->next_chunk;
  container_->bytes += chunk.size;
  ++chunks_written_;

  struct Switched {
    meta::FileRecord record;
    MoveOutcome outcome = MoveOutcome::kFailed;
    Status why;
  };
  std::vector<Switched> results(pending.size());
  auto switch_one = [&](size_t i) {
    const meta::FileRecord& file = pending[i].file;
    Switched& out = results[i];
    out.record = file;
    Result<uint64_t> id = new_object_id_();
    if (!id.ok()) {
      out.why = id.status();
      return;
    }
    meta::FileRecord packed = file;
    packed.object_id = *id;
    packed.geometry = {};
    packed.drives.clear();
    packed.packed = meta::ContainerExtent{name.sin, io::ChunkBase(name.chunk) + pending[i].offset};
    Result<bool> replaced = metadata_.ReplacePlacement(packed, file.object_id);
    if (!replaced.ok()) {
      out.outcome = replaced.status().code() == StatusCode::kIndeterminate
                        ? MoveOutcome::kIndeterminate
                        : MoveOutcome::kFailed;
      out.why = replaced.status();
      return;
    }
    if (!*replaced) {
      out.outcome = MoveOutcome::kRaced;
      return;
    }
    if (!file.is_packed()) io::DeleteFilePieces(pieces_, file);
    out.record = std::move(packed);
    out.outcome = MoveOutcome::kMoved;
  };
  std::vector<std::future<void>> lanes;
  for (size_t lane = 0; lane < kSwitchLanes && lane < pending.size(); ++lane) {
    lanes.push_back(std::async(std::launch::async, [&, lane] {
      for (size_t i = lane; i < pending.size(); i += kSwitchLanes) switch_one(i);
    }));
  }
  for (auto& lane : lanes) lane.get();
  for (const Switched& s : results) {
    if (s.outcome == MoveOutcome::kMoved) bytes_packed_ += s.record.size;
    on_outcome_(s.record, s.outcome, s.why);
  }
  return Status::Ok();
}

}  // namespace tessera::jobs
