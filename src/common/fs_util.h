// POSIX file helpers for crash-safe updates of files and directories.
//
// A rename or a newly created file is durable only once its directory has
// been fsynced too; these helpers bundle that rule. Thread-safe (no state).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace tessera {

// fsyncs the directory `dir`, making creations, renames and unlinks in it durable.
Status SyncDir(const std::string& dir);

// Creates `dir` (and missing parents) and makes each new entry durable.
Status CreateDirDurably(const std::string& dir);

// Replaces `path` with `contents` so that a crash leaves either the old or the
// new file, never a mix: writes path.tmp, fsyncs it, renames, fsyncs the dir.
Status WriteFileAtomically(const std::string& path, std::string_view contents);

// The whole file. NotFound if it does not exist.
Result<std::string> ReadWholeFile(const std::string& path);

// Names of the entries of `dir` (without "." and ".."), unsorted.
Result<std::vector<std::string>> ListDir(const std::string& dir);

}  // namespace tessera
