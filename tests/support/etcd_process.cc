#include "tests/support/etcd_process.h"

#include <fcntl.h>
#include <httplib.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>

#include "tests/support/node_process.h"

namespace tessera::testing {

std::string EtcdBinary() {
  const char* env = std::getenv("TESSERA_ETCD");
  return env != nullptr && *env != '\0' ? env : "/usr/bin/etcd";
}

EtcdCluster::EtcdCluster(std::string dir, int members, std::vector<std::string> extra_client_hosts)
    : dir_(std::move(dir)), extra_client_hosts_(std::move(extra_client_hosts)) {
  token_ = "tessera-test-" + std::to_string(::getpid()) + "-" +
           std::to_string(reinterpret_cast<uintptr_t>(this) % 100000);
  for (int i = 0; i < members; ++i) {
    Member m;
    m.name = "m" + std::to_string(i);
    m.client_port = FreePort();
    m.peer_port = FreePort();
    while (m.peer_port == m.client_port) m.peer_port = FreePort();
    m.data_dir = dir_ + "/" + m.name + ".etcd";
    m.log_path = dir_ + "/" + m.name + ".log";
    members_.push_back(m);
  }
}

EtcdCluster::~EtcdCluster() {
  for (int i = 0; i < size(); ++i) Kill(i);
}

std::string EtcdCluster::client_url(int i) const {
  return "http://127.0.0.1:" + std::to_string(members_[i].client_port);
}

std::string EtcdCluster::endpoints() const {
  std::string s;
  for (int i = 0; i < size(); ++i) s += (i == 0 ? "" : ",") + client_url(i);
  return s;
}

std::vector<std::string> EtcdCluster::host_ports(const std::string& host) const {
  std::vector<std::string> out;
  for (const Member& m : members_) out.push_back(host + ":" + std::to_string(m.client_port));
  return out;
}

std::string EtcdCluster::ConfigUri(const std::string& cluster, const std::string& host) const {
  std::string uri = "etcd://";
  for (const std::string& hp : host_ports(host)) uri += (uri.size() > 7 ? "," : "") + hp;
  return uri + "/tessera/" + cluster + "/config";
}

bool EtcdCluster::Launch(int i, std::string* why) {
  Member& m = members_[i];
  std::string initial_cluster;
  for (const Member& o : members_) {
    initial_cluster += (initial_cluster.empty() ? "" : ",") + o.name +
                       "=http://127.0.0.1:" + std::to_string(o.peer_port);
  }
  std::string peer = "http://127.0.0.1:" + std::to_string(m.peer_port);
  std::string listen = client_url(i);
  for (const std::string& host : extra_client_hosts_) {
    listen += ",http://" + host + ":" + std::to_string(m.client_port);
  }
  std::vector<std::string> args = {EtcdBinary(),
                                   "--name=" + m.name,
                                   "--data-dir=" + m.data_dir,
                                   "--listen-client-urls=" + listen,
                                   "--advertise-client-urls=" + client_url(i),
                                   "--listen-peer-urls=" + peer,
                                   "--initial-advertise-peer-urls=" + peer,
                                   "--initial-cluster=" + initial_cluster,
                                   "--initial-cluster-state=new",
                                   "--initial-cluster-token=" + token_,
                                   "--heartbeat-interval=50",
                                   "--election-timeout=500",
                                   "--snapshot-count=10000"};
  pid_t pid = SpawnWithLog(std::move(args), m.log_path, why);
  if (pid < 0) return false;
  m.pid = pid;
  return true;
}

bool EtcdCluster::WaitHealthy(int i, std::string* why) {
  httplib::Client client("127.0.0.1", members_[i].client_port);
  client.set_connection_timeout(0, 200000);
  client.set_read_timeout(2, 0);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (std::chrono::steady_clock::now() < deadline) {
    if (!Alive(i)) {
      *why = "etcd member " + members_[i].name + " exited; log " + members_[i].log_path;
      return false;
    }
    auto res = client.Get("/health");
    if (res && res->status == 200 && res->body.find("\"true\"") != std::string::npos) {
      return true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  *why =
      "etcd member " + members_[i].name + " not healthy within 30 s; log " + members_[i].log_path;
  return false;
}

bool EtcdCluster::Start(std::string* why) {
  std::string ignored;
  if (why == nullptr) why = &ignored;
  for (int i = 0; i < size(); ++i) {
    if (!Launch(i, why)) return false;
  }
  for (int i = 0; i < size(); ++i) {
    if (!WaitHealthy(i, why)) return false;
  }
  return true;
}

bool EtcdCluster::Restart(int i, std::string* why) {
  std::string ignored;
  if (why == nullptr) why = &ignored;
  Kill(i);
  return Launch(i, why) && WaitHealthy(i, why);
}

bool EtcdCluster::Alive(int i) {
  Member& m = members_[i];
  if (m.pid <= 0) return false;
  int status = 0;
  if (::waitpid(m.pid, &status, WNOHANG) == m.pid) {
    m.pid = -1;
    return false;
  }
  return true;
}

void EtcdCluster::Kill(int i) {
  Member& m = members_[i];
  if (m.pid <= 0) return;
  ::kill(m.pid, SIGKILL);
  int status = 0;
  ::waitpid(m.pid, &status, 0);
  m.pid = -1;
}

void EtcdCluster::Stop(int i) {
  Member& m = members_[i];
  if (m.pid <= 0) return;
  ::kill(m.pid, SIGTERM);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  int status = 0;
  while (::waitpid(m.pid, &status, WNOHANG) != m.pid) {
    if (std::chrono::steady_clock::now() > deadline) {
      Kill(i);
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  m.pid = -1;
}

std::string EtcdCluster::ReadLog(int i) const {
  std::ifstream in(members_[i].log_path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace tessera::testing
