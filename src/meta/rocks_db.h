// The meta module's RocksDB plumbing: opening a store's database, and
// RocksDB statuses as Tessera Status values.
#pragma once

#include <rocksdb/db.h>
#include <rocksdb/status.h>

#include <memory>
#include <string>
#include <string_view>

#include "common/status.h"

namespace tessera::meta {

inline Status FromRocks(const rocksdb::Status& s, std::string_view what) {
  if (s.ok()) return Status::Ok();
  if (s.IsNotFound()) return Status::NotFound(std::string(what));
  if (s.IsNoSpace()) return Status::NoSpace(std::string(what) + ": " + s.ToString());
  if (s.IsCorruption()) return Status::Corruption(std::string(what) + ": " + s.ToString());
  return Status::IOError(std::string(what) + ": " + s.ToString());
}

// Opens or creates the database in `dir`, with the options every metadata
// store uses. `what` names it in errors. FailedPrecondition when another
// process (or this one) has it open.
inline Result<std::unique_ptr<rocksdb::DB>> OpenRocksDb(const std::string& dir,
                                                        std::string_view what) {
  rocksdb::Options options;
  options.create_if_missing = true;
  options.write_buffer_size = 16 << 20;
  options.max_open_files = 256;
  options.keep_log_file_num = 2;
  rocksdb::DB* raw = nullptr;
  rocksdb::Status s = rocksdb::DB::Open(options, dir, &raw);
  // RocksDB's own LOCK file is what keeps two nodes off one state directory.
  if (s.IsIOError() && s.ToString().find("lock") != std::string::npos) {
    return Status::FailedPrecondition(std::string(what) + " in " + dir +
                                      " is in use by another process (is a node already running "
                                      "with this state directory?): " +
                                      s.ToString());
  }
  if (!s.ok()) return FromRocks(s, "opening " + std::string(what) + " in " + dir);
  return std::unique_ptr<rocksdb::DB>(raw);
}

}  // namespace tessera::meta
