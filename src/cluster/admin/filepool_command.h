// `tessera filepool policies`: the file pool policies that say which files
// the SmartPools job packs (cluster/filepool/filepool_store.h,
// docs/packing.md "Settings and file pool policies").
//
//   tessera filepool policies create NAME --enable-packing BOOL --path PREFIX
//           [--min-age DURATION] [--max-size SIZE] [--description TEXT] [--apply-order N]
//   tessera filepool policies modify NAME [the same options, each optional]
//   tessera filepool policies view NAME
//   tessera filepool policies delete NAME
//   tessera filepool policies list [--json]
//
// PREFIX is "<namespace>/<path prefix>" ("archive/dicom/"); --min-age
// defaults to 1d on create; --max-size "default" (modify) goes back to the
// packing_max_file_size setting; --apply-order moves the policy and shifts
// the others, keeping orders 1..N. create and modify print the policy's view.
//
// Every verb takes --cluster FILE (admin_context.h). Exit status (in
// *exit_code): 0 ok; 1 no cluster file, etcd unreachable, unknown policy,
// duplicate name, a value refused ("tessera: ..." on `err`); 2 usage error.
#pragma once

#include <iosfwd>
#include <memory>

namespace CLI {
class App;
}

namespace tessera::cluster::admin {

// `out` and `err` default to std::cout and std::cerr.
void AddFilePoolCommand(CLI::App& app, std::shared_ptr<int> exit_code, std::ostream* out = nullptr,
                        std::ostream* err = nullptr);

}  // namespace tessera::cluster::admin
