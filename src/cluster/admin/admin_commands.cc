#include "cluster/admin/admin_commands.h"

#include "cluster/admin/devices_command.h"
#include "cluster/admin/filepool_command.h"
#include "cluster/admin/group_live.h"
#include "cluster/admin/job_command.h"
#include "cluster/admin/nodes_command.h"
#include "cluster/admin/packing_command.h"
#include "cluster/admin/status_command.h"
#include "cluster/group_command.h"

namespace tessera::cluster::admin {

void AddAdminCommands(CLI::App& app, std::shared_ptr<int> exit_code, std::ostream* out,
                      std::ostream* err) {
  AddGroupCommands(app, exit_code, out, err, RunLiveGroup);
  AddNodesCommand(app, exit_code, out, err);
  AddStatusCommand(app, exit_code, out, err);
  AddDevicesCommand(app, exit_code, out, err);
  AddJobCommand(app, exit_code, out, err);
  AddPackingCommand(app, exit_code, out, err);
  AddFilePoolCommand(app, exit_code, out, err);
}

}  // namespace tessera::cluster::admin
