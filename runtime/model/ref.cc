#include <weft/ref.h>

#include <array>
#include <cstdint>

namespace weft {
namespace {

constexpr std::string_view kScheme = "weave:///";

constexpr bool is_ascii_alnum(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

// What urllib.parse.quote(s, safe="") leaves alone (Weave's extra_value_quoter).
constexpr bool is_unreserved(unsigned char c) {
  return is_ascii_alnum(c) || c == '_' || c == '.' || c == '-' || c == '~';
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Length of the well-formed UTF-8 sequence at s[i], or 0 if it is not one (overlong forms,
// surrogates and code points above U+10FFFF are rejected, as Python's decoder does).
size_t utf8_sequence_length(std::string_view s, size_t i) {
  const auto b = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char c = b(i);
  if (c < 0x80) return 1;
  size_t len;
  uint32_t cp;
  if (c >= 0xC2 && c <= 0xDF) {
    len = 2, cp = c & 0x1F;
  } else if (c >= 0xE0 && c <= 0xEF) {
    len = 3, cp = c & 0x0F;
  } else if (c >= 0xF0 && c <= 0xF4) {
    len = 4, cp = c & 0x07;
  } else {
    return 0;
  }
  if (i + len > s.size()) return 0;
  for (size_t k = 1; k < len; ++k) {
    if ((b(i + k) & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (b(i + k) & 0x3F);
  }
  if (len == 3 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) return 0;
  if (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)) return 0;
  return len;
}

bool is_valid_utf8(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    const size_t n = utf8_sequence_length(s, i);
    if (n == 0) return false;
    i += n;
  }
  return true;
}

Status bad_ref(std::string_view uri, std::string_view why) {
  std::string m = "invalid ref \"";
  m.append(uri);
  m.append("\": ");
  m.append(why);
  return Status::invalid_argument(std::move(m));
}

// Percent-decodes one extra-path value. Accepts either hex case and raw (unencoded)
// characters, as urllib.parse.unquote does, but not a malformed escape; the decoded bytes
// must be UTF-8 because values end up in JSON strings.
Result<std::string> percent_decode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      out.push_back(s[i]);
      continue;
    }
    if (i + 3 > s.size()) {
      return Status::invalid_argument("truncated percent escape \"" + std::string(s.substr(i)) + "\"");
    }
    const int h = hex_value(s[i + 1]);
    const int l = hex_value(s[i + 2]);
    if (h < 0 || l < 0) {
      return Status::invalid_argument("bad percent escape \"" + std::string(s.substr(i, 3)) + "\"");
    }
    out.push_back(static_cast<char>(h * 16 + l));
    i += 2;
  }
  if (!is_valid_utf8(out)) return Status::invalid_argument("percent-decoded value is not valid UTF-8");
  return out;
}

bool is_edge(std::string_view e) {
  return e == "key" || e == "index" || e == "attr" || e == "id";
}

// Splits on '/', keeping empty pieces ("a//b" -> "a", "", "b"), like Python's str.split.
std::vector<std::string_view> split_path(std::string_view s) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  while (true) {
    const size_t slash = s.find('/', start);
    if (slash == std::string_view::npos) {
      parts.push_back(s.substr(start));
      return parts;
    }
    parts.push_back(s.substr(start, slash - start));
    start = slash + 1;
  }
}

}  // namespace

const char* ref_kind_name(Ref::Kind kind) {
  switch (kind) {
    case Ref::Kind::kObject: return "object";
    case Ref::Kind::kOp: return "op";
    case Ref::Kind::kTable: return "table";
    case Ref::Kind::kCall: return "call";
  }
  return "?";
}

std::string percent_encode(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";  // uppercase, as urllib.parse.quote
  std::string out;
  out.reserve(s.size());
  for (const char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (is_unreserved(c)) {
      out.push_back(ch);
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

// Extra path pairs are written for every kind; a table ref carrying them is a caller bug
// that parse() will reject (Weave's TableRef has no extra path).
std::string Ref::uri() const {
  std::string out(kScheme);
  out.append(entity).push_back('/');
  out.append(project).push_back('/');
  out.append(ref_kind_name(kind)).push_back('/');
  if (kind == Kind::kObject || kind == Kind::kOp) out.append(name).push_back(':');
  out.append(digest);
  for (const auto& [edge, value] : extra) {
    out.push_back('/');
    out.append(edge).push_back('/');
    out.append(percent_encode(value));
  }
  return out;
}

Result<Ref> Ref::parse(std::string_view uri) {
  if (!uri.starts_with(kScheme)) return bad_ref(uri, "does not start with \"weave:///\"");
  const std::vector<std::string_view> parts = split_path(uri.substr(kScheme.size()));
  if (parts.size() < 4) {
    return bad_ref(uri, "expected weave:///{entity}/{project}/{kind}/{name-or-digest}");
  }
  Ref ref;
  if (parts[0].empty()) return bad_ref(uri, "empty entity");
  if (parts[1].empty()) return bad_ref(uri, "empty project");
  ref.entity = parts[0];
  ref.project = parts[1];
  const std::string_view kind = parts[2];
  const std::string_view head = parts[3];
  if (kind == "object" || kind == "op") {
    ref.kind = kind == "object" ? Kind::kObject : Kind::kOp;
    const size_t colon = head.find(':');
    if (colon == std::string_view::npos) return bad_ref(uri, "missing ':' between name and digest");
    if (head.find(':', colon + 1) != std::string_view::npos) {
      return bad_ref(uri, "more than one ':' in name:digest");
    }
    ref.name = head.substr(0, colon);
    ref.digest = head.substr(colon + 1);
    if (ref.name.empty()) return bad_ref(uri, "empty name");
    if (ref.digest.empty()) return bad_ref(uri, "empty digest");
  } else if (kind == "table" || kind == "call") {
    ref.kind = kind == "table" ? Kind::kTable : Kind::kCall;
    if (head.empty()) return bad_ref(uri, kind == "table" ? "empty table digest" : "empty call id");
    if (head.find(':') != std::string_view::npos) return bad_ref(uri, "unexpected ':'");
    ref.digest = head;
    if (ref.kind == Kind::kTable && parts.size() > 4) {
      return bad_ref(uri, "a table ref takes no extra path");
    }
  } else {
    return bad_ref(uri, "unknown kind \"" + std::string(kind) +
                            "\" (expected object, op, table or call)");
  }
  if ((parts.size() - 4) % 2 != 0) return bad_ref(uri, "extra path must be /{edge}/{value} pairs");
  for (size_t i = 4; i < parts.size(); i += 2) {
    if (!is_edge(parts[i])) {
      return bad_ref(uri, "bad edge \"" + std::string(parts[i]) +
                              "\" (expected key, index, attr or id)");
    }
    Result<std::string> value = percent_decode(parts[i + 1]);
    if (!value) return bad_ref(uri, value.error());
    ref.extra.emplace_back(std::string(parts[i]), std::move(value).value());
  }
  return ref;
}

// Python's \w (re module, str patterns) is Unicode-aware: a character is a word character
// if it is alphanumeric by its Unicode category (letters, digits, numerics) or '_'. weft
// has no Unicode database, so it treats ASCII letters, digits and '_' as word characters
// and *every* non-ASCII code point as one too. Known, documented deviation: non-ASCII
// characters that are not letters or numbers (e.g. U+2013 EN DASH, U+00A0 NO-BREAK SPACE,
// emoji, combining marks) are kept here, while Weave replaces them with '-'. Names made of
// ASCII, or of letters in any script, sanitise identically.
Result<std::string> sanitize_object_name(std::string_view name) {
  // Pass 1: re.sub(r"[^\w._]+", "-", name).
  std::string pass1;
  pass1.reserve(name.size());
  bool in_run = false;
  for (size_t i = 0; i < name.size();) {
    const auto c = static_cast<unsigned char>(name[i]);
    if (c >= 0x80) {
      const size_t n = utf8_sequence_length(name, i);
      if (n == 0) {
        return Status::invalid_argument("invalid object name: not valid UTF-8 at byte " + std::to_string(i));
      }
      pass1.append(name.substr(i, n));
      in_run = false;
      i += n;
      continue;
    }
    if (is_ascii_alnum(c) || c == '_' || c == '.') {
      pass1.push_back(static_cast<char>(c));
      in_run = false;
    } else if (!in_run) {
      pass1.push_back('-');
      in_run = true;
    }
    ++i;
  }
  // Pass 2: re.sub(r"([._-]{2,})+", "-", ...): every maximal run of two or more of "._-"
  // becomes one '-'; a single one stays as it is.
  std::string res;
  res.reserve(pass1.size());
  const auto is_sep = [](char c) { return c == '.' || c == '_' || c == '-'; };
  for (size_t i = 0; i < pass1.size();) {
    if (!is_sep(pass1[i])) {
      res.push_back(pass1[i++]);
      continue;
    }
    size_t j = i;
    while (j < pass1.size() && is_sep(pass1[j])) ++j;
    if (j - i >= 2) {
      res.push_back('-');
    } else {
      res.push_back(pass1[i]);
    }
    i = j;
  }
  // res.strip("-_")
  const size_t first = res.find_first_not_of("-_");
  if (first == std::string::npos) {
    return Status::invalid_argument("invalid object name \"" + std::string(name) +
                         "\": nothing left after sanitising");
  }
  const size_t last = res.find_last_not_of("-_");
  res = res.substr(first, last - first + 1);
  // Truncate to kMaxObjectNameLength code points (Python's len() counts code points), after
  // stripping as Weave does, so a truncated name may end in '-'.
  size_t chars = 0;
  for (size_t i = 0; i < res.size(); ++i) {
    if ((static_cast<unsigned char>(res[i]) & 0xC0) == 0x80) continue;  // continuation byte
    if (chars == kMaxObjectNameLength) {
      res.resize(i);
      break;
    }
    ++chars;
  }
  return res;
}

}  // namespace weft
