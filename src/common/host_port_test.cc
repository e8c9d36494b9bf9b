#include "common/host_port.h"

#include <gtest/gtest.h>

#include <random>

namespace tessera {
namespace {

TEST(HostPortTest, ParsesNamesAddressesAndPortBounds) {
  struct Case {
    const char* text;
    const char* host;
    int port;
  } cases[] = {
      {"127.0.0.1:8080", "127.0.0.1", 8080}, {"node-1.example_x:1", "node-1.example_x", 1},
      {"0.0.0.0:65535", "0.0.0.0", 65535},   {"[::1]:80", "::1", 80},
      {"[fe80::1:2]:443", "fe80::1:2", 443}, {"[::ffff:10.0.0.1]:7", "::ffff:10.0.0.1", 7},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.text);
    Result<HostPort> parsed = ParseHostPort(c.text);
    ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
    EXPECT_EQ(parsed->host, c.host);
    EXPECT_EQ(parsed->port, c.port);
    EXPECT_EQ(parsed->ToString(), c.text);
  }
}

TEST(HostPortTest, PortZeroOnlyWhereTheSystemMayPick) {
  EXPECT_EQ(ParseHostPort("127.0.0.1:0").status().code(), StatusCode::kInvalidArgument);
  Result<HostPort> any = ParseHostPort("127.0.0.1:0", "", PortZero::kAnyFreePort);
  ASSERT_TRUE(any.ok()) << any.status().ToString();
  EXPECT_EQ(any->port, 0);
  Result<HostPort> bad = ParseHostPort("127.0.0.1:x", "", PortZero::kAnyFreePort);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("from 0 to 65535"), std::string::npos);
}

TEST(HostPortTest, RejectsWithAClearReason) {
  struct Case {
    const char* text;
    const char* reason;
  } cases[] = {
      {"", "has no port"},
      {"node", "has no port"},
      {"node:", "not a number from 1 to 65535"},
      {"node:0", "not a number from 1 to 65535"},
      {"node:65536", "not a number from 1 to 65535"},
      {"node:18xyz", "port '18xyz'"},
      {"node:-1", "not a number from 1 to 65535"},
      {"node:08080", "not a number from 1 to 65535"},
      {"node:+80", "not a number from 1 to 65535"},
      {"node: 80", "not a number from 1 to 65535"},
      {"node:99999999999999999999", "not a number from 1 to 65535"},
      {":8080", "has no host"},
      {"no de:8080", "host with a character"},
      {"user@node:8080", "host with a character"},
      {"node/x:8080", "host with a character"},
      {"::1:8080", "host with a character"},
      {"[::1:8080", "unclosed '['"},
      {"[::1]", "has no port"},
      {"[::1]8080", "has no port"},
      {"[]:8080", "malformed IPv6"},
      {"[::g]:8080", "malformed IPv6"},
      {"[1.2.3.4]:8080", "malformed IPv6"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.text);
    Result<HostPort> parsed = ParseHostPort(c.text);
    ASSERT_FALSE(parsed.ok());
    EXPECT_EQ(parsed.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(parsed.status().message().find(c.reason), std::string::npos)
        << parsed.status().message();
    EXPECT_NE(parsed.status().message().find("'" + std::string(c.text) + "'"), std::string::npos)
        << parsed.status().message();
  }
}

TEST(HostPortTest, ErrorsUseTheCallersNameForTheText) {
  Result<HostPort> parsed = ParseHostPort("x:y", "--listen 'x:y'");
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.status().message().rfind("--listen 'x:y' has port 'y'", 0), 0u)
      << parsed.status().message();
}

TEST(HostPortTest, QuotesGarbagePrintably) {
  std::string text = "\x01\x7f" + std::string(300, 'a');
  Result<HostPort> parsed = ParseHostPort(text);
  ASSERT_FALSE(parsed.ok());
  const std::string& message = parsed.status().message();
  EXPECT_EQ(message.find('\x01'), std::string::npos);
  EXPECT_EQ(message.find('\x7f'), std::string::npos);
  EXPECT_NE(message.find("..."), std::string::npos);
  EXPECT_LT(message.size(), 300u);
}

// Random text from the characters that matter: whatever parses is already
// in canonical form, so it prints back as the very same text.
TEST(HostPortTest, RandomTextParsesOrFailsCleanly) {
  const std::string alphabet = "0123456789abfg:[].-_ @/x";
  std::mt19937 random(7);
  int parsed_count = 0;
  for (int i = 0; i < 200000; ++i) {
    std::string text(random() % 12, ' ');
    for (char& c : text) c = alphabet[random() % alphabet.size()];
    Result<HostPort> parsed = ParseHostPort(text);
    if (!parsed.ok()) {
      ASSERT_EQ(parsed.status().code(), StatusCode::kInvalidArgument) << text;
      continue;
    }
    ++parsed_count;
    ASSERT_GE(parsed->port, 1) << text;
    ASSERT_LE(parsed->port, 65535) << text;
    ASSERT_EQ(parsed->ToString(), text);
  }
  EXPECT_GT(parsed_count, 100);
}

}  // namespace
}  // namespace tessera
