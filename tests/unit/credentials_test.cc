// url_host and netrc_password (runtime/stores/remote/credentials.h): the host of a trace
// server URL (ports, userinfo, IPv6 brackets, paths, queries, no scheme) and the password
// of a host's ~/.netrc entry (several machines, tokens across lines, the default entry, a
// missing host, a login without a password, macdef).
#include <gtest/gtest.h>

#include <optional>
#include <string>

#include "runtime/stores/remote/credentials.h"

namespace weft {
namespace {

TEST(CredentialsUrlHost, PlainHostsWithAndWithoutPortsAndPaths) {
  EXPECT_EQ(url_host("https://trace.wandb.ai"), "trace.wandb.ai");
  EXPECT_EQ(url_host("https://trace.wandb.ai/"), "trace.wandb.ai");
  EXPECT_EQ(url_host("https://trace.wandb.ai:443/x"), "trace.wandb.ai");
  EXPECT_EQ(url_host("http://localhost:8080"), "localhost");
  EXPECT_EQ(url_host("http://127.0.0.1:6345/traces/v1"), "127.0.0.1");
  EXPECT_EQ(url_host("https://trace.wandb.ai?project=e/p"), "trace.wandb.ai");
  EXPECT_EQ(url_host("https://trace.wandb.ai#frag"), "trace.wandb.ai");
  EXPECT_EQ(url_host("https://trace.wandb.ai:"), "trace.wandb.ai");
}

TEST(CredentialsUrlHost, UserinfoIsNotTheHost) {
  EXPECT_EQ(url_host("https://user@api.wandb.ai/x"), "api.wandb.ai");
  EXPECT_EQ(url_host("https://user:secret@api.wandb.ai:8443/x"), "api.wandb.ai");
  // An '@' in the password: the host follows the last one.
  EXPECT_EQ(url_host("https://user:p@ss@api.wandb.ai/x"), "api.wandb.ai");
  // An '@' after the authority (path, query, fragment) is not userinfo.
  EXPECT_EQ(url_host("https://api.wandb.ai/users/a@b"), "api.wandb.ai");
  EXPECT_EQ(url_host("https://api.wandb.ai?to=a@b"), "api.wandb.ai");
  EXPECT_EQ(url_host("https://api.wandb.ai#a@b"), "api.wandb.ai");
}

TEST(CredentialsUrlHost, Ipv6InBrackets) {
  EXPECT_EQ(url_host("http://[::1]:8080/x"), "::1");
  EXPECT_EQ(url_host("http://[::1]"), "::1");
  EXPECT_EQ(url_host("https://[2001:db8::7]/api"), "2001:db8::7");
  EXPECT_EQ(url_host("https://user:pw@[fe80::1]:443"), "fe80::1");
  // Unclosed bracket: no host rather than a guess.
  EXPECT_EQ(url_host("http://[::1"), "");
  EXPECT_EQ(url_host("http://[::1:8080/x"), "");
}

TEST(CredentialsUrlHost, NoSchemeOrNoHostGivesEmpty) {
  EXPECT_EQ(url_host(""), "");
  EXPECT_EQ(url_host("trace.wandb.ai"), "");
  EXPECT_EQ(url_host("trace.wandb.ai:443"), "");
  EXPECT_EQ(url_host("//trace.wandb.ai/x"), "");
  EXPECT_EQ(url_host("https://"), "");
  EXPECT_EQ(url_host("https:///path"), "");
  EXPECT_EQ(url_host("https://user@"), "");
}

TEST(CredentialsNetrc, SeveralMachinesEachGetsItsOwn) {
  const std::string netrc =
      "machine api.wandb.ai login user password key-api\n"
      "machine trace.wandb.ai login user password key-trace\n"
      "machine localhost login me password key-local\n";
  EXPECT_EQ(netrc_password(netrc, "api.wandb.ai"), "key-api");
  EXPECT_EQ(netrc_password(netrc, "trace.wandb.ai"), "key-trace");
  EXPECT_EQ(netrc_password(netrc, "localhost"), "key-local");
  // Exact host names only: no suffix or prefix matches.
  EXPECT_EQ(netrc_password(netrc, "wandb.ai"), std::nullopt);
  EXPECT_EQ(netrc_password(netrc, "api.wandb.ai.evil"), std::nullopt);
}

TEST(CredentialsNetrc, FirstMatchingMachineWins) {
  const std::string netrc =
      "machine api.wandb.ai password first\n"
      "machine api.wandb.ai password second\n";
  EXPECT_EQ(netrc_password(netrc, "api.wandb.ai"), "first");
}

TEST(CredentialsNetrc, TokensMayBeSplitAcrossLinesAndAnyWhitespace) {
  EXPECT_EQ(netrc_password("machine\napi.wandb.ai\nlogin\nuser\npassword\nsecret\n", "api.wandb.ai"),
            "secret");
  EXPECT_EQ(netrc_password("machine api.wandb.ai\r\n\tlogin user\r\n\tpassword secret\r\n", "api.wandb.ai"),
            "secret");
  // One line for everything, no trailing newline.
  EXPECT_EQ(netrc_password("machine a login u password pa machine b login u password pb", "b"), "pb");
  // Password before login, and an account token, in any order.
  EXPECT_EQ(netrc_password("machine a password pa account acct login u", "a"), "pa");
}

TEST(CredentialsNetrc, KeywordsAsValuesAreValues) {
  // A value is the token after its keyword, even one that spells a keyword.
  EXPECT_EQ(netrc_password("machine a login password password machine", "a"), "machine");
  EXPECT_EQ(netrc_password("machine a account default password pa", "a"), "pa");
}

TEST(CredentialsNetrc, DefaultEntryWhenNoMachineMatches) {
  const std::string netrc =
      "machine api.wandb.ai login user password key-api\n"
      "default login anonymous password key-default\n";
  EXPECT_EQ(netrc_password(netrc, "api.wandb.ai"), "key-api");
  EXPECT_EQ(netrc_password(netrc, "other.example.com"), "key-default");
  // A matching machine wins over a default that comes before it.
  const std::string default_first =
      "default password key-default\n"
      "machine api.wandb.ai password key-api\n";
  EXPECT_EQ(netrc_password(default_first, "api.wandb.ai"), "key-api");
  EXPECT_EQ(netrc_password(default_first, "elsewhere"), "key-default");
}

TEST(CredentialsNetrc, MissingHostOrEmptyTextGivesNothing) {
  EXPECT_EQ(netrc_password("", "api.wandb.ai"), std::nullopt);
  EXPECT_EQ(netrc_password("   \n\t\n", "api.wandb.ai"), std::nullopt);
  EXPECT_EQ(netrc_password("machine trace.wandb.ai password p\n", "api.wandb.ai"), std::nullopt);
  // A trailing keyword without its value.
  EXPECT_EQ(netrc_password("machine api.wandb.ai password", "api.wandb.ai"), std::nullopt);
  EXPECT_EQ(netrc_password("machine", "machine"), std::nullopt);
}

TEST(CredentialsNetrc, LoginWithoutPasswordDoesNotBorrowTheNextEntrysPassword) {
  const std::string netrc =
      "machine api.wandb.ai login user\n"
      "machine trace.wandb.ai login user password key-trace\n";
  EXPECT_EQ(netrc_password(netrc, "api.wandb.ai"), std::nullopt);
  EXPECT_EQ(netrc_password(netrc, "trace.wandb.ai"), "key-trace");
  // The default still serves the hosts with no entry.
  const std::string with_default =
      "machine api.wandb.ai login user\n"
      "default password key-default\n";
  EXPECT_EQ(netrc_password(with_default, "trace.wandb.ai"), "key-default");
}

TEST(CredentialsNetrc, MacdefEndsTheEntryAndItsBodyIsNotAPassword) {
  const std::string netrc =
      "machine ftp.example.com login anonymous password guest\n"
      "macdef init\n"
      "cd /pub\n"
      "password not-a-password\n"
      "\n"
      "machine api.wandb.ai login user password key-api\n";
  EXPECT_EQ(netrc_password(netrc, "ftp.example.com"), "guest");
  EXPECT_EQ(netrc_password(netrc, "api.wandb.ai"), "key-api");
  // A macro inside the matching entry, before its password: the body's words are not it.
  const std::string macro_first =
      "machine api.wandb.ai login user\n"
      "macdef init\n"
      "password from-the-macro\n"
      "\n";
  EXPECT_EQ(netrc_password(macro_first, "api.wandb.ai"), std::nullopt);
  // Nor after the default entry.
  const std::string after_default =
      "default login anonymous\n"
      "macdef init\n"
      "password from-the-macro\n"
      "\n";
  EXPECT_EQ(netrc_password(after_default, "anything"), std::nullopt);
}

// As the readers Weave users have (Python's netrc module, curl) read netrc:
//
// A machine that matches but has no password does not get the default's password: Python's
// netrc returns the matching entry (with no password), never the default for that host.
TEST(CredentialsNetrc, MatchedMachineWithoutPasswordDoesNotFallBackToTheDefault) {
  const std::string netrc =
      "machine api.wandb.ai login user\n"
      "default password key-default\n";
  EXPECT_EQ(netrc_password(netrc, "api.wandb.ai"), std::nullopt);
}

// A macro's body runs to the next blank line, and curl and Python skip it: a body line
// that reads like an entry is not one.
TEST(CredentialsNetrc, MacdefBodyIsSkippedToTheBlankLine) {
  const std::string netrc =
      "machine ftp.example.com login anonymous password guest\n"
      "macdef init\n"
      "machine api.wandb.ai password from-the-macro\n"
      "\n"
      "machine api.wandb.ai password key-api\n";
  EXPECT_EQ(netrc_password(netrc, "api.wandb.ai"), "key-api");
}

}  // namespace
}  // namespace weft
