// Runs the built `weft` binary (WEFT_CLI_PATH) with given stdin and checks stdout, stderr
// and the exit status. Expected digests were computed with python3 (see digest_test.cc).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

extern char** environ;

namespace {

struct CliRun {
  int status = -1;  // exit status, or -1 if it did not exit normally
  std::string out;
  std::string err;
};

std::string slurp(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::ostringstream s;
  s << f.rdbuf();
  return s.str();
}

// Files rather than pipes: nothing can deadlock on a full pipe, whatever the sizes.
// stdin_path, if given, is read instead of `input` (say /dev/zero: an endless stdin).
CliRun run_weft(std::vector<std::string> args, std::string_view input,
                const char* stdin_path = nullptr) {
  static std::atomic<int> counter{0};
  const std::string base = ::testing::TempDir() + "weft_cli_" + std::to_string(getpid()) + "_" +
                           std::to_string(counter++);
  const std::string in_path = base + ".in", out_path = base + ".out", err_path = base + ".err";
  {
    std::ofstream f(in_path, std::ios::binary);
    f.write(input.data(), static_cast<std::streamsize>(input.size()));
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, stdin_path ? stdin_path : in_path.c_str(),
                                   O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                   0600);
  posix_spawn_file_actions_addopen(&actions, 2, err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                   0600);
  args.insert(args.begin(), WEFT_CLI_PATH);
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = 0;
  CliRun r;
  const int rc = posix_spawn(&pid, WEFT_CLI_PATH, &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) {
    ADD_FAILURE() << "posix_spawn " << WEFT_CLI_PATH << " failed: " << rc;
    return r;
  }
  int wstatus = 0;
  waitpid(pid, &wstatus, 0);
  if (WIFEXITED(wstatus)) r.status = WEXITSTATUS(wstatus);
  r.out = slurp(out_path);
  r.err = slurp(err_path);
  std::remove(in_path.c_str());
  std::remove(out_path.c_str());
  std::remove(err_path.c_str());
  return r;
}

// Bad input or usage: status 2, nothing but one line on stderr, starting with `prefix`.
void expect_one_error_line(const CliRun& r, std::string_view prefix) {
  EXPECT_EQ(r.status, 2);
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  EXPECT_TRUE(r.err.ends_with('\n')) << r.err;
  EXPECT_TRUE(r.err.starts_with(prefix)) << r.err;
}

constexpr const char* kEmptyTable =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

TEST(Cli, CanonExample) {
  const CliRun r = run_weft({"canon"}, R"({"b":[1.0,1e16],"a":"\u00e9"})");
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, "{\"a\": \"\\u00e9\", \"b\": [1.0, 1e+16]}\n");
  EXPECT_EQ(r.err, "");
}

TEST(Cli, CanonLines) {
  const CliRun r = run_weft({"canon", "--lines"}, "[1, 2.50]\n{\"z\": null, \"y\": NaN}\n\"/\"");
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, "[1, 2.5]\n{\"y\": NaN, \"z\": null}\n\"/\"\n");
}

TEST(Cli, DigestObjectAndRow) {
  CliRun r = run_weft({"digest"}, R"({"b":[1.0,1e16],"a":"\u00e9"})");
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, "P0njQQhB7iGYYXLNMBuh7R8zT8sYOLaDtce107VEfDI\n");
  r = run_weft({"digest", "--kind", "object"}, "null");
  EXPECT_EQ(r.out, "dCNOmKYnSYX12vHzasLXiswzlGT5UHA7jAGYkvmCuQs\n");
  r = run_weft({"digest", "--kind=row"}, R"({"a": 1})");
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, "XdhgKMbg1k4iUYb5astpM4ssWXZN95FiEH9cS7NNExA\n");
  r = run_weft({"digest", "--kind", "row"}, "[1]");
  expect_one_error_line(r, "weft digest: a row must be a JSON object");
}

TEST(Cli, DigestTable) {
  CliRun r = run_weft({"digest", "--kind", "table"}, R"([{"a":1},{"b":[1.5,"x"]}])");
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out,
            "XdhgKMbg1k4iUYb5astpM4ssWXZN95FiEH9cS7NNExA\n"
            "TplYJadXpFBVqzZrDviDdcmQOCZhCA4YkK9qbkarPCw\n"
            "382a693c566515e699bffbc0bba859943e3081b1cba23d0f229edbd33903a2d7\n");
  r = run_weft({"digest", "--kind", "table"}, "[]");
  EXPECT_EQ(r.out, std::string(kEmptyTable) + "\n");
  r = run_weft({"digest", "--kind", "table", "--lines"}, "[{\"a\":1},{\"b\":[1.5,\"x\"]}]\n[]\n");
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out,
            "XdhgKMbg1k4iUYb5astpM4ssWXZN95FiEH9cS7NNExA "
            "TplYJadXpFBVqzZrDviDdcmQOCZhCA4YkK9qbkarPCw "
            "382a693c566515e699bffbc0bba859943e3081b1cba23d0f229edbd33903a2d7\n" +
                std::string(kEmptyTable) + "\n");
  r = run_weft({"digest", "--kind", "table"}, R"([{"a":1}, 2])");
  expect_one_error_line(r, "weft digest: table row 1");
  r = run_weft({"digest", "--kind", "table"}, R"({"a":1})");
  expect_one_error_line(r, "weft digest: a table must be a JSON list");
}

TEST(Cli, DigestFileIsBinarySafe) {
  CliRun r = run_weft({"digest", "--kind", "file"}, std::string_view("\0\xff\0", 3));
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, "LI0HzZhvWOshC9gAEz1mRcc0DFmGU3fI6kMc68oLMRM\n");
  r = run_weft({"digest", "--kind", "file"}, "");
  EXPECT_EQ(r.out, "47DEQpj8HBSaXYTImWX5JCeuQeRkm5NMpJWZG3hSuFU\n");
  r = run_weft({"digest", "--kind", "file", "--lines"}, "abc\nhello\n");
  EXPECT_EQ(r.out,
            "ungWv48BzXpBQUDeXa4iI7ADYaOWF3qctBDYYfIAFa0\n"
            "LPJNulXwow4m6DsqxbninhsWHlwfp0JecwQzYpOLmCQ\n");
}

TEST(Cli, InvalidJson) {
  CliRun r = run_weft({"canon"}, "{\"a\": }");
  expect_one_error_line(r, "weft canon: invalid JSON at byte ");
  EXPECT_EQ(r.out, "");
  r = run_weft({"digest"}, "[1, 2");
  expect_one_error_line(r, "weft digest: invalid JSON at byte ");
  r = run_weft({"canon"}, "\"\xff\"");
  expect_one_error_line(r, "weft canon: invalid UTF-8 at byte 1");
}

TEST(Cli, InvalidJsonInLinesModeNamesTheLine) {
  const CliRun r = run_weft({"canon", "--lines"}, "[1]\n[1,]\n[3]\n");
  expect_one_error_line(r, "weft canon: line 2: invalid JSON at byte ");
  EXPECT_EQ(r.out, "[1]\n");  // lines before the bad one are printed
  const CliRun d = run_weft({"digest", "--lines", "--kind", "row"}, "{}\n{}\n7\n");
  expect_one_error_line(d, "weft digest: line 3: a row must be a JSON object, got integer");
}

TEST(Cli, MaxInputAcceptsExactlyTheLimit) {
  CliRun r = run_weft({"canon", "--max-input", "4"}, "1234");
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, "1234\n");
  r = run_weft({"canon", "--max-input", "4"}, "12345");
  expect_one_error_line(r, "weft canon: input exceeds --max-input (4 bytes)");
  EXPECT_EQ(r.err, "weft canon: input exceeds --max-input (4 bytes)\n");
  EXPECT_EQ(r.out, "");

  r = run_weft({"digest", "--kind", "file", "--max-input=3"}, "abc");
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, "ungWv48BzXpBQUDeXa4iI7ADYaOWF3qctBDYYfIAFa0\n");
  r = run_weft({"digest", "--kind", "file", "--max-input=3"}, "abcd");
  EXPECT_EQ(r.status, 2);
  EXPECT_EQ(r.err, "weft digest: input exceeds --max-input (3 bytes)\n");
  EXPECT_EQ(r.out, "");

  // An empty input fits any limit, 0 included.
  r = run_weft({"digest", "--kind", "file", "--max-input", "0"}, "");
  EXPECT_EQ(r.out, "47DEQpj8HBSaXYTImWX5JCeuQeRkm5NMpJWZG3hSuFU\n");
  EXPECT_EQ(run_weft({"digest", "--max-input", "0"}, "1").err,
            "weft digest: input exceeds --max-input (0 bytes)\n");
}

TEST(Cli, MaxInputCountsTheWholeInputInLinesMode) {
  // The limit is on all of stdin, not per line; over it, no line is printed.
  CliRun r = run_weft({"canon", "--lines", "--max-input", "8"}, "[1]\n[2]\n");
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, "[1]\n[2]\n");
  r = run_weft({"canon", "--lines", "--max-input", "8"}, "[1]\n[2]\n3");
  EXPECT_EQ(r.err, "weft canon: input exceeds --max-input (8 bytes)\n");
  EXPECT_EQ(r.out, "");
}

TEST(Cli, MaxInputTakesSizeSuffixes) {
  const std::string at_limit = "\"" + std::string(1022, 'x') + "\"";  // 1024 bytes
  for (const char* k : {"1K", "1k", "1024"}) {
    CliRun r = run_weft({"canon", "--max-input", k}, at_limit);
    EXPECT_EQ(r.status, 0) << k << ": " << r.err;
    r = run_weft({"canon", "--max-input", k}, at_limit + " ");
    EXPECT_EQ(r.err, "weft canon: input exceeds --max-input (1024 bytes)\n") << k;
  }
  CliRun r = run_weft({"digest", "--kind", "file", "--max-input", "1M"}, std::string(1 << 20, 'a'));
  EXPECT_EQ(r.status, 0) << r.err;
  r = run_weft({"digest", "--kind", "file", "--max-input", "1M"}, std::string((1 << 20) + 1, 'a'));
  EXPECT_EQ(r.err, "weft digest: input exceeds --max-input (1048576 bytes)\n");
  r = run_weft({"digest", "--kind", "file", "--max-input", "2G", "--lines"}, "ab\n");
  EXPECT_EQ(r.status, 0) << r.err;
}

TEST(Cli, MaxInputStopsReadingAnEndlessStdin) {
  // /dev/zero never ends: reading it all would never finish. The limit stops the read.
  const CliRun r = run_weft({"digest", "--kind", "file", "--max-input", "1M"}, "", "/dev/zero");
  EXPECT_EQ(r.status, 2);
  EXPECT_EQ(r.err, "weft digest: input exceeds --max-input (1048576 bytes)\n");
  EXPECT_EQ(r.out, "");
}

TEST(Cli, MaxInputRejectsBadSizes) {
  for (const char* bad : {"", "abc", "12X", "-1", "1KB", "K", " 5", "99999999999999999999", "9G9",
                          "8589934592G"}) {
    const CliRun r = run_weft({"canon", "--max-input", bad}, "1");
    expect_one_error_line(r, "weft canon: --max-input needs a size in bytes");
    EXPECT_NE(r.err.find(std::string("(got '") + bad + "')"), std::string::npos) << r.err;
  }
  expect_one_error_line(run_weft({"digest", "--max-input"}, "1"),
                        "weft digest: --max-input needs a size in bytes");
}

TEST(Cli, UsageErrors) {
  expect_one_error_line(run_weft({"canon", "--bogus"}, "1"), "weft canon: unknown argument");
  expect_one_error_line(run_weft({"digest", "-x"}, "1"), "weft digest: unknown argument");
  expect_one_error_line(run_weft({"digest", "--kind"}, "1"), "weft digest: --kind needs");
  expect_one_error_line(run_weft({"digest", "--kind", "blob"}, "1"), "weft digest: unknown --kind");
  expect_one_error_line(run_weft({"frobnicate"}, ""), "weft: unknown command 'frobnicate'");
  expect_one_error_line(run_weft({}, ""), "weft: missing command");
  const CliRun r = run_weft({"canon", "--bogus"}, "1");
  EXPECT_NE(r.err.find("weft canon --help"), std::string::npos) << r.err;
}

TEST(Cli, Help) {
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"--help"}, {"-h"}, {"help"}}) {
    const CliRun r = run_weft(args, "");
    EXPECT_EQ(r.status, 0) << args[0];
    EXPECT_NE(r.out.find("usage: weft COMMAND"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("canon"), std::string::npos);
    EXPECT_NE(r.out.find("digest"), std::string::npos);
    EXPECT_EQ(r.err, "");
  }
  for (const char* cmd : {"canon", "digest"}) {
    CliRun r = run_weft({cmd, "--help"}, "");
    EXPECT_EQ(r.status, 0);
    EXPECT_NE(r.out.find(std::string("usage: weft ") + cmd), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("--max-input BYTES"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("default 256M"), std::string::npos) << r.out;
    const CliRun via_help = run_weft({"help", cmd}, "");
    EXPECT_EQ(via_help.status, 0);
    EXPECT_EQ(via_help.out, r.out);
  }
  expect_one_error_line(run_weft({"help", "nope"}, ""), "weft: unknown command 'nope'");
}

}  // namespace
