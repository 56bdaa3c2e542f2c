#include <weft/ids.h>

#include <pthread.h>

#include <atomic>
#include <bit>
#include <chrono>
#include <cstring>
#include <functional>
#include <random>
#include <thread>

namespace weft {
namespace {

// Bumped in a fork()ed child so every thread there reseeds: otherwise parent and child
// would continue the same random stream and mint identical ids in the same millisecond.
std::atomic<uint64_t> g_fork_generation{0};
void on_fork_child() { g_fork_generation.fetch_add(1, std::memory_order_relaxed); }

uint64_t splitmix64(uint64_t& x) {
  uint64_t z = (x += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

constexpr uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

// Per-thread id state: a xoshiro256** generator and the last (millisecond, counter) pair.
// Trivially constructible, so the thread_local needs no init guard on the hot path.
struct IdState {
  uint64_t s[4];
  uint64_t last_ms;
  uint32_t seq;  // 12-bit rand_a: sub-millisecond counter, strictly increasing per thread
  bool seeded;
  uint64_t fork_generation;

  uint64_t next() {
    const uint64_t result = rotl(s[1] * 5, 7) * 9;
    const uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
  }

  // Cold path: first id on this thread, or first after a fork.
  void seed() {
    static const bool registered = (pthread_atfork(nullptr, nullptr, &on_fork_child), true);
    (void)registered;
    uint64_t x = 0;
    try {
      std::random_device rd;
      x = (uint64_t{rd()} << 32) ^ rd();
    } catch (...) {
      // No entropy device: thread id, time and an address still differ between threads.
    }
    x ^= std::hash<std::thread::id>{}(std::this_thread::get_id()) * 0x9E3779B97F4A7C15ull;
    x ^= static_cast<uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
    x ^= reinterpret_cast<uintptr_t>(this);
    for (uint64_t& word : s) word = splitmix64(x);
    fork_generation = g_fork_generation.load(std::memory_order_relaxed);
    seeded = true;
  }
};

thread_local IdState t_ids;

void store_big_endian(uint8_t* out, uint64_t v) {
  if constexpr (std::endian::native == std::endian::little) v = __builtin_bswap64(v);
  std::memcpy(out, &v, sizeof v);
}

constexpr char kHex[] = "0123456789abcdef";

// Writes bytes[from, to) as hex at out.
char* put_hex(char* out, const uint8_t* bytes, int from, int to) {
  for (int i = from; i < to; ++i) {
    *out++ = kHex[bytes[i] >> 4];
    *out++ = kHex[bytes[i] & 15];
  }
  return out;
}

bool is_lower_hex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); }

// Days since 1970-01-01 -> proleptic Gregorian (y, m, d). Howard Hinnant's civil_from_days;
// valid for every day an int64 microsecond count can reach.
void civil_from_days(int64_t z, int64_t& y, unsigned& m, unsigned& d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const auto doe = static_cast<unsigned>(z - era * 146097);                  // [0, 146096]
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;  // [0, 399]
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);               // [0, 365]
  const unsigned mp = (5 * doy + 2) / 153;                                    // [0, 11]
  d = doy - (153 * mp + 2) / 5 + 1;
  m = mp < 10 ? mp + 3 : mp - 9;
  y = static_cast<int64_t>(yoe) + era * 400 + (m <= 2);
}

int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

constexpr int64_t kMicrosPerDay = 86'400'000'000;

}  // namespace

Uuid new_uuid_v7() { return new_uuid_v7(now_unix_micros()); }

Uuid new_uuid_v7(int64_t unix_micros) {
  IdState& st = t_ids;
  // (last_ms and seq survive a reseed: a forked child's thread keeps its order.)
  if (!st.seeded || st.fork_generation != g_fork_generation.load(std::memory_order_relaxed)) {
    st.seed();
  }
  const auto ms = static_cast<uint64_t>(unix_micros / 1000);
  // Per-thread monotonic: a new millisecond restarts the counter; the same millisecond (or
  // a clock that stepped back) increments it; when the 12-bit counter runs out we borrow
  // the next millisecond, as RFC 9562 §6.2 allows. Ids from one thread therefore sort in
  // creation order; ids from different threads in one millisecond are ordered arbitrarily.
  if (ms > st.last_ms) {
    st.last_ms = ms;
    st.seq = 0;
  } else if (++st.seq > 0xFFF) {
    ++st.last_ms;
    st.seq = 0;
  }
  const uint64_t ts = st.last_ms & 0xFFFF'FFFF'FFFFull;
  const uint64_t rand_b = st.next();

  // Two big-endian words (the calling thread's cost: byte-by-byte loops were ~150
  // instructions per id): 48-bit ms, version 7, 12-bit counter | variant 10, 62 random bits.
  const uint64_t hi = ts << 16 | 0x7000 | (st.seq & 0xFFF);
  const uint64_t lo = (rand_b & 0x3FFF'FFFF'FFFF'FFFFull) | 0x8000'0000'0000'0000ull;
  Uuid u;
  store_big_endian(u.bytes.data(), hi);
  store_big_endian(u.bytes.data() + 8, lo);
  return u;
}

void Uuid::write_text(char* out) const {
  const uint8_t* b = bytes.data();
  out = put_hex(out, b, 0, 4);
  *out++ = '-';
  out = put_hex(out, b, 4, 6);
  *out++ = '-';
  out = put_hex(out, b, 6, 8);
  *out++ = '-';
  out = put_hex(out, b, 8, 10);
  *out++ = '-';
  put_hex(out, b, 10, 16);
}

std::string Uuid::str() const {
  std::string s(36, '\0');
  write_text(s.data());
  return s;
}

std::optional<Uuid> Uuid::parse(std::string_view text) {
  if (!is_uuid_text(text)) return std::nullopt;
  auto nibble = [](char c) { return static_cast<uint8_t>(c <= '9' ? c - '0' : c - 'a' + 10); };
  Uuid u;
  size_t j = 0;
  for (size_t i = 0; i < text.size(); i += 2) {
    if (text[i] == '-') ++i;
    u.bytes[j++] = static_cast<uint8_t>(nibble(text[i]) << 4 | nibble(text[i + 1]));
  }
  return u;
}

// Lowercase only: weft and Weave write lowercase ids and compare them as text, so an
// uppercase id would silently fail to match its own calls.
bool is_uuid_text(std::string_view s) {
  if (s.size() != 36) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (s[i] != '-') return false;
    } else if (!is_lower_hex(s[i])) {
      return false;
    }
  }
  return true;
}

int64_t now_unix_micros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Years outside 0000..9999 (about ±8,000 years from now) are written with as many digits
// as they need and a leading '-' when negative (proleptic Gregorian, astronomical year
// numbering); ISO 8601 strictly requires an agreed expansion there, which nobody stores.
std::string format_iso8601_micros(int64_t unix_micros) {
  // Floor division so pre-1970 instants land on the right day with a positive time of day.
  int64_t days = unix_micros / kMicrosPerDay;
  int64_t rem = unix_micros % kMicrosPerDay;
  if (rem < 0) {
    rem += kMicrosPerDay;
    --days;
  }
  int64_t y;
  unsigned mo, d;
  civil_from_days(days, y, mo, d);
  const auto secs = static_cast<unsigned>(rem / 1'000'000);
  const auto micros = static_cast<unsigned>(rem % 1'000'000);
  // Hand-rolled digits: snprintf costs ~150 ns of locale and format parsing.
  char buf[40];
  char* p = buf;
  if (y < 0) *p++ = '-';
  const uint64_t year = y < 0 ? 0 - static_cast<uint64_t>(y) : static_cast<uint64_t>(y);
  char ydigits[20];
  int ny = 0;
  for (uint64_t v = year; v != 0 || ny < 4; v /= 10) {
    ydigits[ny++] = static_cast<char>('0' + v % 10);
  }
  while (ny > 0) *p++ = ydigits[--ny];
  const auto put = [&p](char sep, unsigned v, int width) {
    *p++ = sep;
    for (int i = width - 1; i >= 0; --i, v /= 10) p[i] = static_cast<char>('0' + v % 10);
    p += width;
  };
  put('-', mo, 2);
  put('-', d, 2);
  put('T', secs / 3600, 2);
  put(':', secs / 60 % 60, 2);
  put(':', secs % 60, 2);
  put('.', micros, 6);
  *p++ = 'Z';
  return std::string(buf, p);
}

std::optional<int64_t> parse_iso8601_micros(std::string_view s) {
  // Exactly "YYYY-MM-DDTHH:MM:SS.ffffffZ", the form format_iso8601_micros writes for
  // years 0000..9999.
  if (s.size() != 27) return std::nullopt;
  static constexpr std::string_view kShape = "dddd-dd-ddTdd:dd:dd.ddddddZ";
  int64_t fields[7] = {};  // year, month, day, hour, minute, second, micros
  int field = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    if (kShape[i] == 'd') {
      if (s[i] < '0' || s[i] > '9') return std::nullopt;
      fields[field] = fields[field] * 10 + (s[i] - '0');
    } else {
      if (s[i] != kShape[i]) return std::nullopt;
      ++field;
    }
  }
  const int64_t y = fields[0], mo = fields[1], d = fields[2];
  if (mo < 1 || mo > 12 || d < 1 || fields[3] > 23 || fields[4] > 59 || fields[5] > 59) {
    return std::nullopt;
  }
  static constexpr unsigned kDaysInMonth[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  const int64_t month_days = kDaysInMonth[mo - 1] + (mo == 2 && leap ? 1 : 0);
  if (d > month_days) return std::nullopt;
  const int64_t days =
      days_from_civil(y, static_cast<unsigned>(mo), static_cast<unsigned>(d));
  return days * kMicrosPerDay + ((fields[3] * 60 + fields[4]) * 60 + fields[5]) * 1'000'000 +
         fields[6];
}

}  // namespace weft
