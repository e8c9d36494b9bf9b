// The live mode of `tessera group` (group_command.h): reads the group key
// from etcd and prints it in the notation with its sequence
// <initiator,epoch>, exactly as the group log writes it (GroupLogLine), or
// with --json as GroupToJson of that group (the shape of --parse).
//
// Exit status: 0 printed; 1 no cluster file, etcd unreachable, or no group
// written yet (each with a "tessera: ..." line on `err`).
#pragma once

#include <iosfwd>

#include "cluster/group_command.h"

namespace tessera::cluster::admin {

int RunLiveGroup(const LiveGroupRequest& request, std::ostream& out, std::ostream& err);

}  // namespace tessera::cluster::admin
