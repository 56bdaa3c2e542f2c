// UUIDv7 ids and ISO-8601 timestamps. Expected timestamps come from python3:
//   (datetime(1970,1,1,tzinfo=timezone.utc) + timedelta(microseconds=us))
//       .strftime("%Y-%m-%dT%H:%M:%S.%fZ")
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <limits>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <weft/ids.h>

namespace weft {
namespace {

uint64_t uuid_millis(const Uuid& u) {
  // The first 48 bits: hex digits 0-7 and 9-12.
  const std::string hex = u.str().substr(0, 8) + u.str().substr(9, 4);
  return std::stoull(hex, nullptr, 16);
}

uint64_t system_millis() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count());
}

TEST(UuidV7, ShapeVersionAndVariant) {
  for (int i = 0; i < 1000; ++i) {
    const Uuid u = new_uuid_v7();
    ASSERT_FALSE(u.empty());
    const std::string text = u.str();
    ASSERT_TRUE(is_uuid_text(text)) << text;
    ASSERT_EQ(text[14], '7') << text;                                        // version
    ASSERT_NE(std::string_view("89ab").find(text[19]), std::string_view::npos)  // variant 10
        << text;
  }
}

TEST(UuidV7, TimestampIsUnixMillis) {
  const uint64_t before = system_millis();
  const Uuid u = new_uuid_v7();
  const uint64_t after = system_millis();
  EXPECT_GE(uuid_millis(u), before);
  EXPECT_LE(uuid_millis(u), after + 1);  // +1: the sub-ms counter may borrow a millisecond
}

TEST(UuidV7, OneThreadSortsInCreationOrder) {
  // More ids than the 12-bit counter holds per millisecond, to cross the borrow path.
  std::vector<Uuid> ids(50000);
  for (Uuid& u : ids) u = new_uuid_v7();
  for (size_t i = 1; i < ids.size(); ++i) {
    ASSERT_LT(ids[i - 1], ids[i]) << "at " << i;
    ASSERT_LT(ids[i - 1].str(), ids[i].str()) << "at " << i;  // what SQLite's index sees
  }
}

TEST(UuidV7, ThreadsAreOrderedAndUnique) {
  constexpr int kThreads = 8;
  constexpr int kPerThread = 20000;
  std::vector<std::vector<Uuid>> per_thread(kThreads, std::vector<Uuid>(kPerThread));
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&per_thread, t] {
      for (Uuid& u : per_thread[t]) u = new_uuid_v7();
    });
  }
  for (auto& th : threads) th.join();
  std::set<std::string> all;
  for (const auto& ids : per_thread) {
    for (size_t i = 0; i < ids.size(); ++i) {
      if (i > 0) {
        ASSERT_LT(ids[i - 1], ids[i]);
      }
      all.insert(ids[i].str());
    }
  }
  EXPECT_EQ(all.size(), size_t{kThreads} * kPerThread);
}

TEST(UuidV7, RandomBitsDiffer) {
  // Two ids from different threads in the same millisecond must still differ in rand_b.
  Uuid a, b;
  std::thread ta([&] { a = new_uuid_v7(); });
  std::thread tb([&] { b = new_uuid_v7(); });
  ta.join();
  tb.join();
  EXPECT_NE(a.str().substr(19), b.str().substr(19));
}

TEST(UuidV7, ForkedChildDoesNotRepeatTheParentsIds) {
  (void)new_uuid_v7();  // seed this thread before forking
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    const Uuid u = new_uuid_v7();
    const ssize_t n = write(fds[1], u.bytes.data(), u.bytes.size());
    _exit(n == static_cast<ssize_t>(u.bytes.size()) ? 0 : 1);
  }
  const Uuid mine = new_uuid_v7();
  Uuid child;
  ASSERT_EQ(read(fds[0], child.bytes.data(), child.bytes.size()),
            static_cast<ssize_t>(child.bytes.size()));
  int status = 0;
  waitpid(pid, &status, 0);
  close(fds[0]);
  close(fds[1]);
  EXPECT_TRUE(is_uuid_text(child.str())) << child.str();
  // Same thread state at the fork: without a reseed the random tails would be equal.
  EXPECT_NE(mine.str().substr(19), child.str().substr(19));
}

TEST(UuidText, Validation) {
  EXPECT_TRUE(is_uuid_text("0190f5a4-7b1c-7def-8123-456789abcdef"));
  EXPECT_FALSE(is_uuid_text("0190F5A4-7B1C-7DEF-8123-456789ABCDEF"));  // lowercase only
  EXPECT_FALSE(is_uuid_text("0190f5a4-7b1c-7def-8123-456789abcde"));
  EXPECT_FALSE(is_uuid_text("0190f5a4-7b1c-7def-8123-456789abcdeff"));
  EXPECT_FALSE(is_uuid_text("0190f5a47b1c-7def-8123-456789abcdef0"));
  EXPECT_FALSE(is_uuid_text("0190f5a4-7b1c-7def-8123-456789abcdeg"));
  EXPECT_FALSE(is_uuid_text(""));
  EXPECT_TRUE(Uuid{}.empty());
}

TEST(UuidText, BytesAndTextRoundTrip) {
  // RFC 9562 appendix A.6's UUIDv7 example, lowercased; its bytes as Python prints them:
  //   uuid.UUID("017f22e2-79b0-7cc3-98c4-dc0c0c07398f").bytes
  const std::string text = "017f22e2-79b0-7cc3-98c4-dc0c0c07398f";
  const std::array<uint8_t, 16> bytes = {0x01, 0x7f, 0x22, 0xe2, 0x79, 0xb0, 0x7c, 0xc3,
                                         0x98, 0xc4, 0xdc, 0x0c, 0x0c, 0x07, 0x39, 0x8f};
  const std::optional<Uuid> parsed = Uuid::parse(text);
  ASSERT_TRUE(parsed.has_value());
  EXPECT_EQ(parsed->bytes, bytes);
  EXPECT_EQ(parsed->str(), text);
  EXPECT_FALSE(parsed->empty());
  EXPECT_EQ(Uuid{}.str(), "00000000-0000-0000-0000-000000000000");
  for (int i = 0; i < 1000; ++i) {
    const Uuid u = new_uuid_v7();
    ASSERT_EQ(Uuid::parse(u.str()), u);
  }
  EXPECT_FALSE(Uuid::parse("017F22E2-79B0-7CC3-98C4-DC0C0C07398F").has_value());  // lowercase only
  EXPECT_FALSE(Uuid::parse("017f22e2-79b0-7cc3-98c4-dc0c0c07398").has_value());
  EXPECT_FALSE(Uuid::parse("017f22e2079b0-7cc3-98c4-dc0c0c07398f").has_value());
}

TEST(Iso8601, KnownTimestamps) {
  const std::pair<int64_t, const char*> cases[] = {
      {0, "1970-01-01T00:00:00.000000Z"},
      {1, "1970-01-01T00:00:00.000001Z"},
      {-1, "1969-12-31T23:59:59.999999Z"},
      {1'000'000, "1970-01-01T00:00:01.000000Z"},
      {1795775903123456, "2026-11-27T10:38:23.123456Z"},
      {951782400000000, "2000-02-29T00:00:00.000000Z"},
      {1709251199999999, "2024-02-29T23:59:59.999999Z"},
      {1709251200000000, "2024-03-01T00:00:00.000000Z"},
      {-86400000000, "1969-12-31T00:00:00.000000Z"},
      {-2208988800000000, "1900-01-01T00:00:00.000000Z"},
      {253402300799999999, "9999-12-31T23:59:59.999999Z"},
      {-62135596800000000, "0001-01-01T00:00:00.000000Z"},
      {-62167219200000000, "0000-01-01T00:00:00.000000Z"},  // proleptic year 0 (leap)
  };
  for (const auto& [us, text] : cases) {
    EXPECT_EQ(format_iso8601_micros(us), text) << us;
    const std::optional<int64_t> back = parse_iso8601_micros(text);
    ASSERT_TRUE(back.has_value()) << text;
    EXPECT_EQ(*back, us) << text;
  }
}

TEST(Iso8601, OutsideFourDigitYears) {
  EXPECT_EQ(format_iso8601_micros(-62167219200000000 - 86400000000),
            "-0001-12-31T00:00:00.000000Z");
  EXPECT_EQ(format_iso8601_micros(253402300800000000), "10000-01-01T00:00:00.000000Z");
  // The extremes do not overflow (UBSan checks this).
  EXPECT_FALSE(format_iso8601_micros(std::numeric_limits<int64_t>::min()).empty());
  EXPECT_FALSE(format_iso8601_micros(std::numeric_limits<int64_t>::max()).empty());
}

TEST(Iso8601, RandomRoundTrip) {
  std::mt19937_64 rng(12345);
  std::uniform_int_distribution<int64_t> dist(-62135596800000000, 253402300799999999);
  for (int i = 0; i < 100000; ++i) {
    const int64_t us = dist(rng);
    const std::string text = format_iso8601_micros(us);
    ASSERT_EQ(text.size(), 27u) << text;
    ASSERT_EQ(parse_iso8601_micros(text), us) << text;
  }
}

TEST(Iso8601, FormatSortsLikeTime) {
  // Stored timestamps are compared as text; that must agree with numeric order.
  std::mt19937_64 rng(7);
  std::uniform_int_distribution<int64_t> dist(0, 253402300799999999);
  for (int i = 0; i < 10000; ++i) {
    const int64_t a = dist(rng), b = dist(rng);
    ASSERT_EQ(a < b, format_iso8601_micros(a) < format_iso8601_micros(b));
  }
}

TEST(Iso8601, ParseRejectsMalformed) {
  for (const char* bad : {"", "2024-02-29T23:59:59.999999", "2024-02-29 23:59:59.999999Z",
                          "2024-02-30T00:00:00.000000Z", "1900-02-29T00:00:00.000000Z",
                          "2024-13-01T00:00:00.000000Z", "2024-00-01T00:00:00.000000Z",
                          "2024-01-00T00:00:00.000000Z", "2024-01-01T24:00:00.000000Z",
                          "2024-01-01T00:60:00.000000Z", "2024-01-01T00:00:60.000000Z",
                          "2024-01-01T00:00:00.00000xZ", "2024-01-01T00:00:00.0000000Z",
                          "+024-01-01T00:00:00.000000Z"}) {
    EXPECT_FALSE(parse_iso8601_micros(bad).has_value()) << bad;
  }
}

TEST(Clock, NowUnixMicrosTracksSystemClock) {
  const int64_t a = now_unix_micros();
  const auto sys = std::chrono::duration_cast<std::chrono::microseconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
  const int64_t b = now_unix_micros();
  EXPECT_LE(a, sys);
  EXPECT_LE(sys, b);
  EXPECT_EQ(parse_iso8601_micros(format_iso8601_micros(a)), a);
}

}  // namespace
}  // namespace weft
