// supervisord.conf for a local cluster: one [program:etcdK] per etcd member
// and one [program:nodeK] per node, with supervisord's socket, pidfile and
// logs inside the cluster dir. Pure: text in, text out.
//
// etcd members start with supervisord (autostart); nodes do not, because
// `tessera up` writes the cluster's settings into etcd first and then starts
// them with supervisorctl. Every program restarts when it dies (autorestart),
// is stopped with SIGTERM together with its children (stopasgroup), and logs
// stdout and stderr to DIR/logs/<program>.log. Nodes have the higher
// priority number, so `supervisorctl shutdown` stops them before etcd.
#pragma once

#include <string>
#include <vector>

#include "cluster/local/local_plan.h"

namespace tessera::cluster::local {

// One argv as a supervisord `command=` value: arguments made only of safe
// characters are left bare, the others double-quoted (supervisord splits
// commands like a POSIX shell) with '%' doubled (it interpolates %(name)s).
std::string SupervisorCommand(const std::vector<std::string>& argv);

// The whole file; paths must have passed ValidateClusterDir.
std::string SupervisordConfig(const LocalClusterPlan& plan);

}  // namespace tessera::cluster::local
