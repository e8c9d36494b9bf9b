#include "io/deferred_delete_piece_store.h"

#include <spdlog/spdlog.h>

#include <cstdio>
#include <filesystem>
#include <sstream>

#include "common/fs_util.h"
#include "common/thread_name.h"

namespace tessera::io {
namespace {

constexpr const char* kJournalHeader = "tessera pending piece deletes v1";

}  // namespace

DeferredDeletePieceStore::DeferredDeletePieceStore(PieceStore* target,
                                                   std::chrono::milliseconds grace,
                                                   std::string journal_path)
    : target_(target), grace_(grace), journal_path_(std::move(journal_path)) {
  if (!journal_path_.empty()) LoadJournal();
  if (grace_ > std::chrono::milliseconds::zero() || !queue_.empty()) {
    deleter_ = std::thread([this] { Run(); });
  }
}

DeferredDeletePieceStore::~DeferredDeletePieceStore() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
    drain_until_ = std::chrono::steady_clock::now() + kDrainTime;
  }
  wake_.notify_all();
  if (deleter_.joinable()) deleter_.join();
}

void DeferredDeletePieceStore::LoadJournal() {
  Result<std::string> text = ReadWholeFile(journal_path_);
  if (!text.ok()) {
    if (text.status().code() != StatusCode::kNotFound) {
      spdlog::warn("cannot read {}: {}; the pieces it lists stay on the drives", journal_path_,
                   text.status().ToString());
    }
    return;
  }
  std::istringstream in(*text);
  std::string line;
  if (!std::getline(in, line) || line != kJournalHeader) {
    spdlog::warn("{} is not a journal of piece deletes; the pieces it lists stay on the drives",
                 journal_path_);
    return;
  }
  const auto due = std::chrono::steady_clock::now() + grace_;
  size_t bad = 0;
  while (std::getline(in, line)) {
    unsigned node = 0, lnum = 0, index = 0;
    unsigned long long object = 0;
    if (std::sscanf(line.c_str(), "%u %u %llu %u", &node, &lnum, &object, &index) != 4) {
      ++bad;  // a torn last line cannot happen (atomic writes), but be safe
      continue;
    }
    queue_.push_back({due, {node, lnum}, {object, index}});
  }
  if (!queue_.empty() || bad > 0) {
    spdlog::info("{}: {} piece delete(s) left by the last run resume in {} ms ({} unreadable)",
                 journal_path_, queue_.size(), grace_.count(), bad);
  }
}

void DeferredDeletePieceStore::WriteJournal(std::unique_lock<std::mutex>& lock) {
  std::string text = std::string(kJournalHeader) + "\n";
  for (const Queued& q : queue_) {
    char line[96];
    std::snprintf(line, sizeof(line), "%u %u %llu %u\n", q.drive.node, q.drive.lnum,
                  static_cast<unsigned long long>(q.id.object), q.id.index);
    text += line;
  }
  journal_stale_ = false;
  lock.unlock();
  if (Status s = WriteFileAtomically(journal_path_, text); !s.ok()) {
    spdlog::warn("cannot write {}: {}", journal_path_, s.ToString());
  }
  lock.lock();
}

Status DeferredDeletePieceStore::Delete(const meta::DriveRef& drive, const store::PieceId& id) {
  if (grace_ <= std::chrono::milliseconds::zero()) return target_->Delete(drive, id);
  {
    std::lock_guard lock(mu_);
    queue_.push_back({std::chrono::steady_clock::now() + grace_, drive, id});
    journal_stale_ = true;
  }
  wake_.notify_one();
  return Status::Ok();
}

size_t DeferredDeletePieceStore::pending() const {
  std::lock_guard lock(mu_);
  return queue_.size();
}

void DeferredDeletePieceStore::Run() {
  SetThreadName("piece-deleter");
  const bool journaled = !journal_path_.empty();
  auto next_journal = std::chrono::steady_clock::now();
  std::unique_lock lock(mu_);
  while (true) {
    const auto now = std::chrono::steady_clock::now();
    if (journaled && journal_stale_ && (stopping_ || now >= next_journal)) {
      WriteJournal(lock);
      next_journal = now + kJournalInterval;
      continue;
    }
    if (stopping_ && (journaled || queue_.empty())) return;  // the journal keeps the rest
    if (queue_.empty()) {
      if (journaled && journal_stale_) {
        wake_.wait_until(lock, next_journal);
      } else {
        wake_.wait(lock);
      }
      continue;
    }
    if (!stopping_ && now < queue_.front().due) {
      auto until = queue_.front().due;
      if (journaled && journal_stale_) until = std::min(until, next_journal);
      wake_.wait_until(lock, until);
      continue;
    }
    if (stopping_ && now >= drain_until_) {
      spdlog::warn("stopping with {} piece(s) not yet deleted: they stay on the drives",
                   queue_.size());
      queue_.clear();
      return;
    }
    Queued next = queue_.front();
    queue_.pop_front();
    journal_stale_ = true;
    lock.unlock();
    (void)target_->Delete(next.drive, next.id);  // missing pieces are not errors
    lock.lock();
  }
}

}  // namespace tessera::io
