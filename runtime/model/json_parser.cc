// JSON text -> Value (see json_parser.h).
//
// Two passes, only one of them on the happy path:
//  * build(): simdjson on-demand walks the document with an explicit stack of iterators
//    (no recursion) and builds the Value. Scalars other than strings are read here from
//    raw_json_token(): simdjson rejects what Python's json accepts and prints (NaN,
//    Infinity, -Infinity, integers beyond 64 bits, floats beyond the double range), and
//    3.0.1 has float bugs Python does not (see scalar()).
//  * diagnose(): runs only after build() failed. A small strict scanner that follows
//    Python's json grammar finds the *first* problem in the text and its byte offset.
//    simdjson's own errors are lazy and sometimes reported far from the cause (e.g.
//    "[1] 2" fails at byte 0 as "ended early"), so messages come from here.
#include <locale.h>
#include <simdjson.h>

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include <weft/json.h>

namespace weft {
namespace {

namespace od = simdjson::ondemand;

inline bool is_ws(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }
inline bool is_digit(char c) { return c >= '0' && c <= '9'; }

// simdjson's raw tokens run up to the next structural character, so they may carry
// trailing whitespace ("12 " in "[12 ]").
std::string_view trim_token(std::string_view t) {
  while (!t.empty() && is_ws(t.back())) t.remove_suffix(1);
  return t;
}

// Python's number grammar: -?(0|[1-9]\d*)(\.\d+)?([eE][-+]?\d+)? . Returns the length of
// the longest prefix of s that is a number (0 if none); is_float tells whether a fraction
// or exponent was part of it.
size_t scan_number(std::string_view s, bool& is_float) {
  size_t i = 0;
  const size_t n = s.size();
  is_float = false;
  if (i < n && s[i] == '-') ++i;
  if (i == n || !is_digit(s[i])) return 0;
  if (s[i] == '0') {
    ++i;
  } else {
    while (i < n && is_digit(s[i])) ++i;
  }
  if (i + 1 < n && s[i] == '.' && is_digit(s[i + 1])) {
    i += 2;
    while (i < n && is_digit(s[i])) ++i;
    is_float = true;
  }
  if (i < n && (s[i] == 'e' || s[i] == 'E')) {
    size_t j = i + 1;
    if (j < n && (s[j] == '+' || s[j] == '-')) ++j;
    if (j < n && is_digit(s[j])) {
      while (j < n && is_digit(s[j])) ++j;
      i = j;
      is_float = true;
    }
  }
  return i;
}

// A valid float token beyond the double range. strtod rounds it the way Python's float()
// does (to +/-inf, or to a zero of the right sign). The "C" locale keeps '.' the decimal
// point whatever the process locale is.
double parse_out_of_range_float(std::string_view token) {
  static const locale_t c_locale = newlocale(LC_ALL_MASK, "C", locale_t{});
  const std::string copy(token);  // NUL-terminated
  return c_locale != locale_t{} ? strtod_l(copy.c_str(), nullptr, c_locale)
                                : std::strtod(copy.c_str(), nullptr);
}

// --- the error path --------------------------------------------------------------

std::string at(size_t offset) { return " at byte " + std::to_string(offset); }

Status syntax_error(size_t offset, std::string_view reason) {
  return Status::invalid_argument("invalid JSON" + at(offset) + ": " + std::string(reason));
}

// Offset of the first byte that is not part of a valid UTF-8 sequence, or npos.
size_t first_invalid_utf8(std::string_view s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const size_t n = s.size();
  size_t i = 0;
  while (i < n) {
    const unsigned c = p[i];
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t len;
    unsigned lo = 0x80, hi = 0xBF;  // allowed range of the second byte
    if (c >= 0xC2 && c <= 0xDF) {
      len = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
      len = 3;
      if (c == 0xE0) lo = 0xA0;  // overlong
      if (c == 0xED) hi = 0x9F;  // UTF-16 surrogates
    } else if (c >= 0xF0 && c <= 0xF4) {
      len = 4;
      if (c == 0xF0) lo = 0x90;  // overlong
      if (c == 0xF4) hi = 0x8F;  // beyond U+10FFFF
    } else {
      return i;
    }
    if (i + 1 >= n || p[i + 1] < lo || p[i + 1] > hi) return i;
    for (size_t k = 2; k < len; ++k)
      if (i + k >= n || (p[i + k] & 0xC0) != 0x80) return i;
    i += len;
  }
  return std::string_view::npos;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// The \uXXXX code unit at s[i] (s[i] == '\\'), or -1 if it is not one.
int u_escape_at(std::string_view s, size_t i) {
  if (i + 6 > s.size() || s[i] != '\\' || s[i + 1] != 'u') return -1;
  int unit = 0;
  for (size_t k = 2; k < 6; ++k) {
    const int h = hex_value(s[i + k]);
    if (h < 0) return -1;
    unit = unit * 16 + h;
  }
  return unit;
}

// Checks the string starting at s[i] == '"'. On success advances i past the closing quote.
std::optional<Status> scan_string(std::string_view s, size_t& i) {
  const size_t start = i++;
  while (true) {
    if (i >= s.size()) return syntax_error(start, "unterminated string");
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (c == '"') {
      ++i;
      return std::nullopt;
    }
    if (c < 0x20) return syntax_error(i, "invalid control character in string");
    if (c != '\\') {
      ++i;
      continue;
    }
    if (i + 1 >= s.size()) return syntax_error(start, "unterminated string");
    const char e = s[i + 1];
    if (e == '"' || e == '\\' || e == '/' || e == 'b' || e == 'f' || e == 'n' || e == 'r' ||
        e == 't') {
      i += 2;
      continue;
    }
    if (e != 'u') return syntax_error(i, "invalid escape");
    const int unit = u_escape_at(s, i);
    // At the 'u', where Python reports it.
    if (unit < 0) return syntax_error(i + 1, "invalid \\u escape (expected four hex digits)");
    if (unit >= 0xD800 && unit <= 0xDBFF) {
      const int low = u_escape_at(s, i + 6);
      if (low >= 0xDC00 && low <= 0xDFFF) {
        i += 12;
        continue;
      }
    }
    if (unit >= 0xD800 && unit <= 0xDFFF)
      return syntax_error(i, "unpaired UTF-16 surrogate escape (not representable in UTF-8)");
    i += 6;
  }
}

// Finds the first error in text, following Python's json grammar plus the depth limit.
// Returns nullopt if it finds none (simdjson and this scanner disagree).
std::optional<Status> diagnose(std::string_view s, size_t max_depth) {
  if (const size_t bad = first_invalid_utf8(s); bad != std::string_view::npos)
    return Status::invalid_argument("invalid UTF-8" + at(bad));
  if (s.starts_with("\xEF\xBB\xBF")) return syntax_error(0, "unexpected UTF-8 byte order mark");

  enum class Expect { kValue, kKey, kAfterValue };
  std::vector<char> open;  // '[' or '{' per open container
  Expect expect = Expect::kValue;
  size_t i = 0;
  const size_t n = s.size();
  while (true) {
    while (i < n && is_ws(s[i])) ++i;
    if (expect == Expect::kAfterValue) {
      if (open.empty()) {
        if (i < n) return syntax_error(i, "unexpected content after the JSON value");
        return std::nullopt;
      }
      const bool in_list = open.back() == '[';
      if (i < n && s[i] == ',') {
        ++i;
        expect = in_list ? Expect::kValue : Expect::kKey;
      } else if (i < n && s[i] == (in_list ? ']' : '}')) {
        ++i;
        open.pop_back();
      } else {
        return syntax_error(i, in_list ? "expected ',' or ']'" : "expected ',' or '}'");
      }
      continue;
    }
    if (expect == Expect::kKey) {
      if (i >= n || s[i] != '"') return syntax_error(i, "expected a double-quoted property name");
      if (auto err = scan_string(s, i)) return err;
      while (i < n && is_ws(s[i])) ++i;
      if (i >= n || s[i] != ':') return syntax_error(i, "expected ':'");
      ++i;
      expect = Expect::kValue;
      continue;
    }
    // A value.
    if (i >= n) return syntax_error(i, "expected a value");
    const char c = s[i];
    if (c == '[' || c == '{') {
      if (open.size() >= max_depth)
        return Status::invalid_argument("nesting deeper than " + std::to_string(max_depth) + at(i));
      open.push_back(c);
      ++i;
      while (i < n && is_ws(s[i])) ++i;
      if (i < n && s[i] == (c == '[' ? ']' : '}')) {
        ++i;
        open.pop_back();
        expect = Expect::kAfterValue;
      } else {
        expect = c == '[' ? Expect::kValue : Expect::kKey;
      }
      continue;
    }
    expect = Expect::kAfterValue;
    if (c == '"') {
      if (auto err = scan_string(s, i)) return err;
      continue;
    }
    const std::string_view rest = s.substr(i);
    bool is_float;
    size_t len = scan_number(rest, is_float);
    if (len == 0) {
      for (std::string_view lit : {"null", "true", "false", "NaN", "Infinity", "-Infinity"})
        if (rest.starts_with(lit)) len = lit.size();
    }
    if (len == 0) return syntax_error(i, "expected a value");
    i += len;
  }
}

// --- the fast path -----------------------------------------------------------------

struct Frame {
  bool is_object = false;
  bool started = false;
  od::array_iterator array_it;
  od::object_iterator object_it;
  std::vector<Value> items;
  std::vector<DictEntry> entries;
  std::string key;  // object frames: the key of the child container being built
};

class Builder {
 public:
  Builder(std::string_view text, size_t max_depth) : text_(text), max_depth_(max_depth) {}

  // The parsed value, or nullopt on any failure (then diagnose() explains).
  std::optional<Value> build(od::document& doc) {
    std::string_view token;
    if (fail_if(doc.raw_json_token().get(token))) return std::nullopt;
    token = trim_token(token);
    note(token.data());
    const char c = token.empty() ? '\0' : token[0];
    if (c == '[' || c == '{') {
      if (max_depth_ == 0) return std::nullopt;
      Frame root;
      if (!open(doc, c, root)) return std::nullopt;
      stack_.push_back(std::move(root));
      std::optional<Value> v = walk();
      if (!v) return std::nullopt;
      // simdjson stops after the root's closing bracket; anything left is an error.
      if (doc.current_location().error() != simdjson::OUT_OF_BOUNDS) return std::nullopt;
      return v;
    }
    Value v;
    if (!scalar(doc, token, v)) return std::nullopt;
    const size_t end = static_cast<size_t>(token.data() + token.size() - text_.data());
    if (!std::all_of(text_.begin() + static_cast<std::ptrdiff_t>(end), text_.end(), is_ws))
      return std::nullopt;
    return v;
  }

  simdjson::error_code error() const { return error_; }
  size_t offset() const { return offset_; }

 private:
  bool fail_if(simdjson::error_code e) {
    if (e != simdjson::SUCCESS) error_ = e;
    return e != simdjson::SUCCESS;
  }
  void note(const char* p) { offset_ = static_cast<size_t>(p - text_.data()); }

  template <class Source>
  bool open(Source& src, char bracket, Frame& f) {
    if (bracket == '[') {
      od::array a;
      return !fail_if(src.get_array().get(a)) && !fail_if(a.begin().get(f.array_it));
    }
    od::object o;
    f.is_object = true;
    return !fail_if(src.get_object().get(o)) && !fail_if(o.begin().get(f.object_it));
  }

  // Iterates the open containers until the root one closes.
  std::optional<Value> walk() {
    while (true) {
      Frame& f = stack_.back();
      if (f.started) {
        if (f.is_object) {
          ++f.object_it;
        } else {
          ++f.array_it;
        }
      }
      f.started = true;
      // simdjson's iterators compare unequal to anything while their container is open.
      const bool more =
          f.is_object ? f.object_it != od::object_iterator{} : f.array_it != od::array_iterator{};
      if (!more) {
        Value done =
            f.is_object ? Value::dict(std::move(f.entries)) : Value::list(std::move(f.items));
        stack_.pop_back();
        if (stack_.empty()) return done;
        Frame& parent = stack_.back();
        if (parent.is_object) {
          parent.entries.emplace_back(std::move(parent.key), std::move(done));
        } else {
          parent.items.push_back(std::move(done));
        }
        continue;
      }
      od::value child;
      std::string_view key;
      if (f.is_object) {
        od::field field;
        if (fail_if((*f.object_it).get(field)) || fail_if(field.unescaped_key().get(key)))
          return std::nullopt;
        child = field.value();
      } else if (fail_if((*f.array_it).get(child))) {
        return std::nullopt;
      }
      const std::string_view token = trim_token(child.raw_json_token());
      note(token.data());
      const char c = token.empty() ? '\0' : token[0];
      if (c == '[' || c == '{') {
        if (stack_.size() >= max_depth_) return std::nullopt;
        if (f.is_object) f.key.assign(key);
        Frame next;
        if (!open(child, c, next)) return std::nullopt;
        stack_.push_back(std::move(next));  // invalidates f
        continue;
      }
      Value v;
      if (!scalar(child, token, v)) return std::nullopt;
      if (f.is_object) {
        f.entries.emplace_back(std::string(key), std::move(v));
      } else {
        f.items.push_back(std::move(v));
      }
    }
  }

  // A non-container value. Source is an od::document (root scalar) or an od::value.
  // Only strings go through simdjson (for unescaping). Literals and numbers are read from
  // the raw token: simdjson 3.0.1's root is_null() answers false for "null", its
  // get_double() is wrong for "0." followed by 20+ digits (simdjson issue #2093) and
  // turns "-1e-999" into 0.0 rather than -0.0 (issue #1898); Python gets all of them right.
  template <class Source>
  bool scalar(Source& src, std::string_view token, Value& out) {
    const char c = token.empty() ? '\0' : token[0];
    if (c == '"') {
      std::string_view s;
      if (fail_if(src.get_string().get(s))) return false;
      out = Value::string(std::string(s));
      return true;
    }
    if (c == '-' || is_digit(c)) return number(token, out);
    constexpr double kInf = std::numeric_limits<double>::infinity();
    if (token == "null") {
      out = Value();
    } else if (token == "true" || token == "false") {
      out = Value::boolean(c == 't');
    } else if (token == "NaN") {
      out = Value::number(std::numeric_limits<double>::quiet_NaN());
    } else if (token == "Infinity") {
      out = Value::number(kInf);
    } else {
      return false;
    }
    return true;
  }

  static bool number(std::string_view token, Value& out) {
    if (token == "-Infinity") {
      out = Value::number(-std::numeric_limits<double>::infinity());
      return true;
    }
    bool is_float;
    if (scan_number(token, is_float) != token.size()) return false;
    const char* const first = token.data();
    const char* const last = first + token.size();
    if (!is_float) {
      int64_t i;
      const auto r = std::from_chars(first, last, i);
      // Beyond int64: kept exactly as decimal text, as Python keeps its unbounded ints.
      out = r.ec == std::errc() ? Value::integer(i) : Value::big_integer(token);
      return true;
    }
    // from_chars is correctly rounded and locale-independent; it reports a result beyond
    // the double range (overflow or underflow to zero) as out of range without a value.
    double d;
    const auto r = std::from_chars(first, last, d);
    out = Value::number(r.ec == std::errc() ? d : parse_out_of_range_float(token));
    return true;
  }

  std::string_view text_;
  size_t max_depth_;
  std::vector<Frame> stack_;
  simdjson::error_code error_ = simdjson::SUCCESS;
  size_t offset_ = 0;
};

// Inputs bigger than this get a parser of their own, so that one big document does not
// leave its buffers (about six bytes per input byte) allocated on the thread for good.
constexpr size_t kKeepParserBytes = 64 * 1024;

struct ThreadParser {
  od::parser parser;
  std::string buffer;  // the input plus simdjson's padding
};
thread_local ThreadParser t_parser;

}  // namespace

Result<Value> parse_json(std::string_view text, const ParseOptions& options) {
  ThreadParser big;
  ThreadParser& tp = text.size() > kKeepParserBytes ? big : t_parser;
  // simdjson reads up to SIMDJSON_PADDING bytes past the end: parse a padded copy.
  tp.buffer.assign(text);
  tp.buffer.append(simdjson::SIMDJSON_PADDING, '\0');
  const std::string_view padded(tp.buffer.data(), text.size());

  // simdjson's max depth only matters to its debug-build checks, which assert if it is
  // exceeded. The Builder never goes deeper than max_depth containers (plus simdjson's
  // document level), and a text cannot nest deeper than it has bytes.
  const size_t simdjson_depth =
      std::min(options.max_depth, std::max(text.size(), size_t{1000})) + 2;
  simdjson::error_code error = simdjson::SUCCESS;
  if (tp.parser.max_depth() < simdjson_depth || tp.parser.capacity() < text.size()) {
    error = tp.parser.allocate(std::max(text.size(), tp.parser.capacity()),
                               std::max(simdjson_depth, tp.parser.max_depth()));
  }

  size_t offset = 0;
  if (!error) {
    od::document doc;
    error = tp.parser.iterate(padded, tp.buffer.size()).get(doc);
    if (!error) {
      Builder builder(padded, options.max_depth);
      if (std::optional<Value> v = builder.build(doc)) return std::move(*v);
      error = builder.error();
      offset = builder.offset();
    }
  }
  if (error == simdjson::MEMALLOC || error == simdjson::CAPACITY)
    return Status::invalid_argument(std::string("cannot parse JSON: ") + simdjson::error_message(error));
  if (std::optional<Status> why = diagnose(text, options.max_depth)) return std::move(*why);
  // simdjson refused something the scanner accepts: report simdjson's reason.
  return syntax_error(offset, error ? simdjson::error_message(error) : "rejected by the parser");
}

}  // namespace weft
