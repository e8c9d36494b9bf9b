// A network namespace joined to the host by a veth pair, for partition
// tests: processes started inside it (with Wrap()) reach the host only over
// the pair, at host_ip(), and the host reaches them at ns_ip(). Cut() takes
// the link down (a partition: packets are dropped both ways), Heal() brings
// it back. The addresses are a /30 in 10.231.0.0/16 chosen from the pid, so
// concurrent test processes do not collide; they exist only between this
// namespace and the host. Needs root (CAP_NET_ADMIN) and `ip` (iproute2).
// The destructor kills nothing: stop the processes first, then the
// namespace and its pair are deleted. Not thread-safe.
#pragma once

#include <string>
#include <vector>

namespace tessera::testing {

class NetNamespace {
 public:
  NetNamespace() = default;
  ~NetNamespace();
  NetNamespace(const NetNamespace&) = delete;
  NetNamespace& operator=(const NetNamespace&) = delete;

  // Creates the namespace and the pair; false with why if it cannot (not
  // root, no iproute2, no netns support).
  bool Create(std::string* why);
  bool Cut(std::string* why = nullptr);
  bool Heal(std::string* why = nullptr);

  // `argv` run inside the namespace: {"ip", "netns", "exec", NAME, argv...}.
  std::vector<std::string> Wrap(const std::vector<std::string>& argv) const;

  const std::string& name() const { return name_; }
  const std::string& host_ip() const { return host_ip_; }
  const std::string& ns_ip() const { return ns_ip_; }

 private:
  std::string name_;
  std::string host_veth_;
  std::string host_ip_;
  std::string ns_ip_;
  bool created_ = false;
};

}  // namespace tessera::testing
