// What every admin verb does first: find the cluster file, load it, and open
// an etcd client at its endpoints; plus the error messages they share.
//
// The path is ResolveClusterFilePath(--cluster): the flag, else
// $TESSERA_CLUSTER, else ./var/cluster.json. A missing file fails with a
// message naming the path and how to start a cluster; a malformed one with
// the parser's message. Opening the client does not talk to etcd, so an
// unreachable etcd shows up at the first call; EtcdFailure words that.
//
// Threading: plain functions and a value type; no shared state.
#pragma once

#include <iosfwd>
#include <memory>
#include <string>

#include "cluster/cluster_file.h"
#include "cluster/etcd/etcd_client.h"
#include "common/status.h"

namespace tessera::cluster::admin {

// Exit statuses of every admin verb.
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailed = 1;
inline constexpr int kExitUsage = 2;

struct AdminContext {
  std::string path;  // the cluster file used
  ClusterFile file;
  std::unique_ptr<EtcdClient> client;
};

// Timeouts short enough that an operator is not kept waiting by a dead etcd.
EtcdClientOptions AdminEtcdOptions();

// Errors carry the whole message for the operator (without "tessera: ").
Result<AdminContext> OpenCluster(const std::string& cluster_flag,
                                 EtcdClientOptions options = AdminEtcdOptions());

// "etcd unreachable at 127.0.0.1:2379 (no quorum?): <why>" for Unavailable,
// else the status message; for messages after a failed etcd call.
std::string EtcdFailure(const ClusterFile& file, const Status& status);

// Writes "tessera: <message>\n" to `err`; returns kExitFailed.
int Fail(std::ostream& err, const std::string& message);

}  // namespace tessera::cluster::admin
