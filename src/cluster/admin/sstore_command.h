// `tessera sstore` and `tessera sfse-assess`: the cluster's containers
// and what packing would save, as a node computes them (node/packing_api.h:
// each request is one scan of every file record; nothing is moved).
//
//   tessera sstore list [-v] [--json]     SIN, lsize, psize, refs, filesize,
//                                         date; -v adds type, underfull,
//                                         frag score, efficiency and chunks
//   tessera sstore defrag --dry-run       the defragmenter's assessment
//   tessera sfse-assess [--path NS/PREFIX]
//                                         estimated raw space saving and
//                                         protection-group reduction
//
// Every verb takes --cluster FILE (admin_context.h) and asks the first
// node of the cluster file that answers. Exit status: 0 ok; 1 no cluster
// file, no node answered, or the node refused ("tessera: ..." on `err`);
// 2 usage error (`sstore defrag` without --dry-run: the defragmenter runs
// as the ShadowStoreDelete job).
#pragma once

#include <iosfwd>
#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <string>

namespace CLI {
class App;
}

namespace tessera::cluster::admin {

void AddSstoreCommands(CLI::App& app, std::shared_ptr<int> exit_code, std::ostream* out = nullptr,
                       std::ostream* err = nullptr);

// The table of `sstore list` from GET /v1/sstores (pure; for tests).
// `now_ns` picks the date format: "Sep 20 22:55" within half a year, else
// "Sep 20  2025".
std::string FormatContainerList(const nlohmann::json& containers, bool verbose, int64_t now_ns);

}  // namespace tessera::cluster::admin
