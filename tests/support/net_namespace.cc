#include "tests/support/net_namespace.h"

#include <unistd.h>

#include "tests/support/node_process.h"

namespace tessera::testing {
namespace {

bool Run(const std::vector<std::string>& argv, std::string* why) {
  CommandResult r = RunCommand(argv);
  if (r.exit_code == 0) return true;
  if (why) {
    std::string cmd;
    for (const std::string& a : argv) cmd += (cmd.empty() ? "" : " ") + a;
    *why = cmd + ": exit " + std::to_string(r.exit_code) + ": " + r.output;
  }
  return false;
}

// Absolute, because processes are started with execv (no PATH search).
std::string IpBinary() {
  for (const char* path : {"/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip", "/bin/ip"}) {
    if (::access(path, X_OK) == 0) return path;
  }
  return "ip";
}

}  // namespace

NetNamespace::~NetNamespace() {
  if (!created_) return;
  RunCommand({"ip", "link", "del", host_veth_});  // deletes both ends
  RunCommand({"ip", "netns", "del", name_});
}

bool NetNamespace::Create(std::string* why) {
  const int tag = ::getpid() % 16000;  // 16000 /30 blocks fit in a /16
  name_ = "tsr" + std::to_string(::getpid());
  host_veth_ = "tsrh" + std::to_string(::getpid());
  const std::string ns_veth = "tsrn" + std::to_string(::getpid());
  const int base = tag * 4;
  const std::string prefix = "10.231." + std::to_string(base / 256) + ".";
  host_ip_ = prefix + std::to_string(base % 256 + 1);
  ns_ip_ = prefix + std::to_string(base % 256 + 2);
  if (!Run({"ip", "netns", "add", name_}, why)) return false;
  created_ = true;
  return Run({"ip", "link", "add", host_veth_, "type", "veth", "peer", "name", ns_veth}, why) &&
         Run({"ip", "link", "set", ns_veth, "netns", name_}, why) &&
         Run({"ip", "addr", "add", host_ip_ + "/30", "dev", host_veth_}, why) &&
         Run({"ip", "link", "set", host_veth_, "up"}, why) &&
         Run(Wrap({"ip", "addr", "add", ns_ip_ + "/30", "dev", ns_veth}), why) &&
         Run(Wrap({"ip", "link", "set", ns_veth, "up"}), why) &&
         Run(Wrap({"ip", "link", "set", "lo", "up"}), why);
}

bool NetNamespace::Cut(std::string* why) {
  return Run({"ip", "link", "set", host_veth_, "down"}, why);
}

bool NetNamespace::Heal(std::string* why) {
  return Run({"ip", "link", "set", host_veth_, "up"}, why);
}

std::vector<std::string> NetNamespace::Wrap(const std::vector<std::string>& argv) const {
  std::vector<std::string> out = {IpBinary(), "netns", "exec", name_};
  out.insert(out.end(), argv.begin(), argv.end());
  return out;
}

}  // namespace tessera::testing
