// Registers the admin verbs over cluster state in etcd (docs/admin.md):
// `group` (all three modes, the live one from group_live.h), `nodes`,
// `status`, `devices`, `job`, `packing` and `filepool`. Each reads --cluster
// FILE as admin_context.h says.
#pragma once

#include <iosfwd>
#include <memory>

namespace CLI {
class App;
}

namespace tessera::cluster::admin {

// `out` and `err` default to std::cout and std::cerr.
void AddAdminCommands(CLI::App& app, std::shared_ptr<int> exit_code, std::ostream* out = nullptr,
                      std::ostream* err = nullptr);

}  // namespace tessera::cluster::admin
