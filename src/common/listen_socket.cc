#include "common/listen_socket.h"

#include <netdb.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "common/host_port.h"

namespace tessera {

void SetExclusiveListenOptions(int fd) {
  int yes = 1;
  (void)::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
}

Status CheckCanListen(const std::string& host, int port) {
  const std::string where = HostPort{host, port}.ToString();  // "[::1]:80", not "::1:80"
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* found = nullptr;
  const std::string service = std::to_string(port);
  if (int rc = ::getaddrinfo(host.c_str(), service.c_str(), &hints, &found); rc != 0) {
    return Status::Unavailable("cannot listen on " + where + ": " + ::gai_strerror(rc));
  }
  // Like the server: the first address that binds wins.
  int error = 0;
  for (addrinfo* a = found; a != nullptr; a = a->ai_next) {
    int fd = ::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0) {
      error = errno;
      continue;
    }
    SetExclusiveListenOptions(fd);
    bool bound = ::bind(fd, a->ai_addr, a->ai_addrlen) == 0;
    error = bound ? 0 : errno;
    ::close(fd);
    if (bound) break;
  }
  ::freeaddrinfo(found);
  if (error == EADDRINUSE) {
    return Status::Unavailable("cannot listen on " + where +
                               ": another process is serving this address");
  }
  if (error != 0) {
    return Status::Unavailable("cannot listen on " + where + ": " + std::strerror(error));
  }
  return Status::Ok();
}

}  // namespace tessera
