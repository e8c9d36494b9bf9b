#include "common/listen_socket.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

namespace tessera {
namespace {

// A socket with the options, bound to 127.0.0.1:`port` (0: any free port).
// Returns the fd, or -1 with errno set when bind fails.
int BindLoopback(uint16_t port, bool exclusive) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return -1;
  if (exclusive) {
    SetExclusiveListenOptions(fd);
  } else {
    int yes = 1;  // what cpp-httplib and gRPC do by default
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &yes, sizeof(yes));
  }
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 || ::listen(fd, 8) != 0) {
    int saved = errno;
    ::close(fd);
    errno = saved;
    return -1;
  }
  return fd;
}

uint16_t PortOf(int fd) {
  sockaddr_in addr{};
  socklen_t len = sizeof(addr);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  return ntohs(addr.sin_port);
}

TEST(ListenSocketTest, ASecondServerOnTheSamePortIsRefused) {
  int first = BindLoopback(0, /*exclusive=*/true);
  ASSERT_GE(first, 0) << strerror(errno);
  int second = BindLoopback(PortOf(first), /*exclusive=*/true);
  EXPECT_EQ(second, -1);
  EXPECT_EQ(errno, EADDRINUSE);
  if (second >= 0) ::close(second);
  ::close(first);
}

// The default this replaces: both binds succeed and share the port.
TEST(ListenSocketTest, ReusePortWouldLetTwoServersShareIt) {
  int first = BindLoopback(0, /*exclusive=*/false);
  ASSERT_GE(first, 0) << strerror(errno);
  int second = BindLoopback(PortOf(first), /*exclusive=*/false);
  EXPECT_GE(second, 0);
  if (second >= 0) ::close(second);
  ::close(first);
}

// A server that closed a connection first leaves it in TIME_WAIT on its
// port; a restarted server must still bind there at once.
TEST(ListenSocketTest, ThePortBindsAgainWhileOldConnectionsAreInTimeWait) {
  int listener = BindLoopback(0, /*exclusive=*/true);
  ASSERT_GE(listener, 0) << strerror(errno);
  uint16_t port = PortOf(listener);
  int client = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::connect(client, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0)
      << strerror(errno);
  int accepted = ::accept(listener, nullptr, nullptr);
  ASSERT_GE(accepted, 0) << strerror(errno);
  ::close(accepted);  // the server closes first: its side goes to TIME_WAIT
  char byte;
  EXPECT_EQ(::read(client, &byte, 1), 0);  // the client sees the close
  ::close(client);
  ::close(listener);

  int again = BindLoopback(port, /*exclusive=*/true);
  EXPECT_GE(again, 0) << strerror(errno);
  if (again >= 0) ::close(again);
}

TEST(ListenSocketTest, CheckCanListenSeesAServedAddressAndChangesNothing) {
  int listener = BindLoopback(0, /*exclusive=*/true);
  ASSERT_GE(listener, 0) << strerror(errno);
  uint16_t port = PortOf(listener);
  Status served = CheckCanListen("127.0.0.1", port);
  EXPECT_EQ(served.code(), StatusCode::kUnavailable);
  EXPECT_NE(served.message().find("127.0.0.1:" + std::to_string(port)), std::string::npos)
      << served.message();
  EXPECT_NE(served.message().find("another process is serving"), std::string::npos)
      << served.message();
  EXPECT_EQ(CheckCanListen("0.0.0.0", port).code(), StatusCode::kUnavailable);
  ::close(listener);

  // Free again, and the check itself left nothing bound behind.
  EXPECT_TRUE(CheckCanListen("127.0.0.1", port).ok());
  int again = BindLoopback(port, /*exclusive=*/true);
  EXPECT_GE(again, 0) << strerror(errno);
  if (again >= 0) ::close(again);
}

TEST(ListenSocketTest, CheckCanListenNamesAHostItCannotUse) {
  Status unresolved = CheckCanListen("no-such-host.invalid", 8080);
  EXPECT_EQ(unresolved.code(), StatusCode::kUnavailable);
  EXPECT_NE(unresolved.message().find("no-such-host.invalid:8080"), std::string::npos)
      << unresolved.message();
  // An IPv6 host is named as an address, in brackets.
  Status v6 = CheckCanListen("2001:db8::1", 8080);
  EXPECT_EQ(v6.code(), StatusCode::kUnavailable);
  EXPECT_NE(v6.message().find("[2001:db8::1]:8080"), std::string::npos) << v6.message();
  // A well-formed address this machine does not have (TEST-NET-1).
  Status foreign = CheckCanListen("192.0.2.1", 8080);
  EXPECT_EQ(foreign.code(), StatusCode::kUnavailable);
  EXPECT_NE(foreign.message().find("192.0.2.1:8080"), std::string::npos) << foreign.message();
}

}  // namespace
}  // namespace tessera
