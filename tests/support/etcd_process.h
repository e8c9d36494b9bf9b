// Runs real etcd servers (/usr/bin/etcd, or $TESSERA_ETCD) for tests: one
// member or a cluster of several, on free 127.0.0.1 ports, with data in a
// directory the caller owns (normally a TempDir). Members use short
// heartbeat/election timeouts so elections after a kill take well under a
// second. Like NodeProcess, every member gets SIGKILL when the thread that
// started it exits (PR_SET_PDEATHSIG). Not thread-safe: drive it from the
// test's thread.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

namespace tessera::testing {

// Path of the etcd binary: $TESSERA_ETCD, else /usr/bin/etcd.
std::string EtcdBinary();

class EtcdCluster {
 public:
  // `dir` holds member data dirs and logs; `members` 1 or more. Members
  // also serve clients on each of `extra_client_hosts` (e.g. the host end of
  // a veth pair, for nodes in a network namespace), same port.
  EtcdCluster(std::string dir, int members = 1, std::vector<std::string> extra_client_hosts = {});
  ~EtcdCluster();  // kills every member still running
  EtcdCluster(const EtcdCluster&) = delete;
  EtcdCluster& operator=(const EtcdCluster&) = delete;

  // Starts every member and waits up to 30 s until each answers GET /health
  // with {"health":"true"}. False with a line of why in `*why` if given.
  bool Start(std::string* why = nullptr);
  // SIGTERM member `i` and reap it (SIGKILL after 10 s).
  void Stop(int i);
  // SIGKILL member `i` and reap it.
  void Kill(int i);
  // Starts member `i` again with its old data (after Stop or Kill) and waits
  // until it is healthy.
  bool Restart(int i, std::string* why = nullptr);
  bool Alive(int i);

  int size() const { return static_cast<int>(members_.size()); }
  // "http://127.0.0.1:PORT" of member i.
  std::string client_url(int i) const;
  // Every member's client URL, comma-separated (for EtcdClient::Create).
  std::string endpoints() const;
  // Every member's "HOST:PORT", as cluster.json lists them; `host` may be an
  // extra client host given to the constructor.
  std::vector<std::string> host_ports(const std::string& host = "127.0.0.1") const;
  // "etcd://HOST:PORT,.../tessera/<cluster>/config", for `tessera node --config`.
  std::string ConfigUri(const std::string& cluster, const std::string& host = "127.0.0.1") const;
  std::string ReadLog(int i) const;

 private:
  struct Member {
    std::string name;
    int client_port = 0;
    int peer_port = 0;
    pid_t pid = -1;
    std::string data_dir;
    std::string log_path;
  };
  bool Launch(int i, std::string* why);
  bool WaitHealthy(int i, std::string* why);

  std::string dir_;
  std::vector<std::string> extra_client_hosts_;
  std::string token_;
  std::vector<Member> members_;
};

}  // namespace tessera::testing
