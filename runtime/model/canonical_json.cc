// Canonical JSON writer (see include/weft/json.h and docs/COMPATIBILITY.md#canonical-json):
// the walk over the value, sorted keys, Objects, Tables, Ops and Blobs, ChildWriter. Its two
// leaves have their own units: strings in json_escape.{h,cc}, floats in float_repr.{h,cc}.
//
// This runs on every object save, so it is written for speed (budget: canonicalise +
// digest of a 2 KB value within 2.5x the SHA-256 of its bytes; see
// bench/canonical_digest_bench.cc): one pass over the value; output through a raw cursor
// (JsonOut); no per-node allocation once the thread's scratch vectors are warm (a dict is
// sorted as a range of 32-byte entries in a shared vector, compared by 8-byte key
// prefixes); strings checked and copied eight bytes at a time, short clean ones inline
// (put_json_string); floats by Schubfach, not to_chars (put_float_repr). Nesting is handled
// by an explicit stack of frames on the heap, never by recursion.
#include <algorithm>
#include <bit>
#include <charconv>
#include <cstdint>
#include <cstring>
#include <span>
#include <vector>

#include <weft/digest.h>
#include <weft/json.h>
#include <weft/ref.h>

#include "runtime/model/float_repr.h"
#include "runtime/model/json_escape.h"
#include "runtime/model/put_literal.h"

namespace weft {
namespace {

using detail::put_literal;

// The inline form of a binary value or an op, Weave's CustomWeaveType dict:
// {"_type": "CustomWeaveType", "files": {name: file digest, ...}, "weave_type": {"type": id}}
// (its keys already in sorted order). write_files writes the inside of "files".
template <class WriteFiles>
char* put_custom_type(std::string_view type_id, char* d, JsonOut& out, WriteFiles write_files) {
  d = put_literal(out.ensure(d, 64), R"({"_type": "CustomWeaveType", "files": {)");
  d = write_files(d);
  d = put_literal(out.ensure(d, 64), R"(}, "weave_type": {"type": )");
  d = put_json_string(type_id, d, out);
  return put_literal(out.ensure(d, 2), "}}");
}

char* put_file_entry(std::string_view name, std::string_view bytes, char* d, JsonOut& out) {
  d = put_json_string(name, d, out, ": ");
  return put_json_string(file_digest(bytes), d, out);
}

char* put_blob(const BlobData& blob, char* d, JsonOut& out) {
  // Files sorted by name; a repeated name keeps its last file, as a Python dict would.
  std::vector<const BlobFile*> files;
  files.reserve(blob.files.size());
  for (const auto& f : blob.files) files.push_back(&f);
  std::stable_sort(files.begin(), files.end(),
                   [](const BlobFile* a, const BlobFile* b) { return a->name < b->name; });
  return put_custom_type(blob.type_id, d, out, [&](char* p) {
    bool first = true;
    for (size_t i = 0; i < files.size(); ++i) {
      if (i + 1 < files.size() && files[i + 1]->name == files[i]->name) continue;
      if (!first) p = put_literal(out.ensure(p, 2), ", ");
      first = false;
      p = put_file_entry(files[i]->name, *files[i]->bytes, p, out);
    }
    return p;
  });
}

char* put_op(const OpData& op, char* d, JsonOut& out) {
  return put_custom_type("Op", d, out,
                         [&](char* p) { return put_file_entry("obj.py", op.source, p, out); });
}

// A dict entry waiting to be written. Object roots add entries that are not Values
// ("_type", "_class_name", "_bases"), hence the tagged pointer. 32 bytes: sorting moves
// these around.
struct Entry {
  enum class Slot : uint8_t { kValue, kText, kTextList };
  uint64_t prefix;  // the key's first eight bytes, big-endian, zero-padded
  const char* key;
  uint32_t key_size;  // keys are far below 4 GiB
  Slot slot;
  const void* ptr;  // const Value*, const std::string*, const std::vector<std::string>*

  Entry(std::string_view k, const void* p, Slot s)
      : prefix(key_prefix(k)),
        key(k.data()),
        key_size(static_cast<uint32_t>(k.size())),
        slot(s),
        ptr(p) {}
  std::string_view key_view() const { return {key, key_size}; }

  // Comparing prefixes as integers orders keys by their first eight bytes, unsigned,
  // exactly as memcmp would; only equal prefixes need the full comparison.
  static uint64_t key_prefix(std::string_view k) {
    const auto* p = reinterpret_cast<const unsigned char*>(k.data());
    const size_t n = k.size();
    if constexpr (std::endian::native == std::endian::little) {
      uint64_t le = 0;  // byte i of the key in byte i of le
      if (n >= 8) {
        std::memcpy(&le, p, 8);
      } else if (n >= 4) {  // two overlapping four-byte loads
        uint32_t lo, hi;
        std::memcpy(&lo, p, 4);
        std::memcpy(&hi, p + n - 4, 4);
        le = lo | ((uint64_t{hi} >> (8 * (8 - n))) << 32);
      } else {
        for (size_t i = 0; i < n; ++i) le |= uint64_t{p[i]} << (8 * i);
      }
      return __builtin_bswap64(le);
    } else {
      uint64_t be = 0;
      for (size_t i = 0; i < n && i < 8; ++i) be |= uint64_t{p[i]} << (56 - 8 * i);
      return be;
    }
  }
};
static_assert(sizeof(Entry) == 32);

// Byte order (== code point order for UTF-8): Python's sort_keys. Keys that share
// their first eight bytes ("metric_10", "metric_11") compare the next eight the same way
// before falling back to memcmp.
inline bool key_less(const Entry& a, const Entry& b) {
  if (a.prefix != b.prefix) return a.prefix < b.prefix;
  const std::string_view ka = a.key_view(), kb = b.key_view();
  if (ka.size() <= 8 || kb.size() <= 8) return ka.size() < kb.size();
  const uint64_t na = Entry::key_prefix(ka.substr(8)), nb = Entry::key_prefix(kb.substr(8));
  if (na != nb) return na < nb;
  // Equal zero-padded prefixes: if either key ends within them, it is a prefix of the other.
  if (ka.size() <= 16 || kb.size() <= 16) return ka.size() < kb.size();
  return ka.substr(16) < kb.substr(16);
}

// An open container. Lists walk a span of Values; dicts walk a range of `entries`.
struct Frame {
  const Value* items;  // nullptr for a dict frame
  size_t begin;        // dict: index of the first entry in Scratch::entries
  size_t size;
  size_t next;
};

struct Scratch {
  std::vector<Frame> frames;
  std::vector<Entry> entries;
  bool in_use = false;
};

// Reused per thread so a warm writer does not allocate. A ChildWriter may call back into
// the writer on the same thread; that nested call gets a fresh Scratch.
thread_local Scratch t_scratch;

// Bigger than this after a call (a very deep or very wide value) and the scratch memory is
// released rather than pinned for the life of the thread.
constexpr size_t kKeepFrames = 4096;
constexpr size_t kKeepEntries = 16384;

class Writer {
 public:
  Writer(JsonOut& out, ChildWriter* children, Scratch& scratch)
      : out_(out), children_(children), frames_(scratch.frames), entries_(scratch.entries) {}

  char* run(const Value& root, char* d) {
    d = write_value(root, /*is_root=*/true, d);
    while (!frames_.empty()) {
      Frame& f = frames_.back();
      d = out_.ensure(d, 2);
      if (f.next == f.size) {
        if (f.items == nullptr) {
          entries_.erase(entries_.begin() + static_cast<std::ptrdiff_t>(f.begin), entries_.end());
          *d++ = '}';
        } else {
          *d++ = ']';
        }
        frames_.pop_back();
        continue;
      }
      const size_t i = f.next++;
      if (i > 0) d = put_literal(d, ", ");
      // write_value may push a frame: `f` is not used past this point.
      if (f.items != nullptr) {
        d = write_value(f.items[i], false, d);
        continue;
      }
      const Entry& e = entries_[f.begin + i];
      const Entry::Slot slot = e.slot;
      const void* const ptr = e.ptr;
      d = put_json_string(e.key_view(), d, out_, ": ");
      switch (slot) {
        case Entry::Slot::kValue: d = write_value(*static_cast<const Value*>(ptr), false, d); break;
        case Entry::Slot::kText:
          d = put_json_string(*static_cast<const std::string*>(ptr), d, out_);
          break;
        case Entry::Slot::kTextList:
          d = put_string_list(*static_cast<const std::vector<std::string>*>(ptr), d);
          break;
      }
    }
    return d;
  }

 private:
  char* put_string_list(const std::vector<std::string>& list, char* d) {
    d = out_.ensure(d, 1);
    *d++ = '[';
    for (size_t i = 0; i < list.size(); ++i) {
      if (i > 0) d = put_literal(out_.ensure(d, 2), ", ");
      d = put_json_string(list[i], d, out_);
    }
    d = out_.ensure(d, 1);
    *d++ = ']';
    return d;
  }

  char* write_value(const Value& v, bool is_root, char* d) {
    switch (v.kind()) {
      case ValueKind::kNull: return put_literal(out_.ensure(d, 4), "null");
      case ValueKind::kBool:
        d = out_.ensure(d, 5);
        return v.as_bool() ? put_literal(d, "true") : put_literal(d, "false");
      case ValueKind::kInt: {
        d = out_.ensure(d, 20);
        return std::to_chars(d, d + 20, v.as_int()).ptr;
      }
      case ValueKind::kBigInt: {
        const std::string_view digits = v.big_integer_text();
        d = out_.ensure(d, digits.size());
        std::memcpy(d, digits.data(), digits.size());
        return d + digits.size();
      }
      case ValueKind::kFloat: return put_float_repr(v.as_double(), out_.ensure(d, kFloatReprRoom));
      case ValueKind::kString: return put_json_string(v.as_string(), d, out_);
      case ValueKind::kRef: return put_json_string(v.ref().uri(), d, out_);
      case ValueKind::kList: return open_list(v.items(), d);
      case ValueKind::kDict: return open_dict(v.entries(), d);
      case ValueKind::kBlob:
        if (children_ != nullptr) children_->on_blob(v);
        return put_blob(v.blob(), d, out_);
      case ValueKind::kObject:
      case ValueKind::kTable:
      case ValueKind::kOp:
        if (!is_root && children_ != nullptr) {
          children_->write_child(v, out_.finish(d));
          return out_.attach(256);
        }
        if (v.kind() == ValueKind::kObject) return open_object(v.object(), d);
        if (v.kind() == ValueKind::kTable) return open_list(v.table().rows, d);
        return put_op(v.op(), d, out_);
    }
    return d;
  }

  char* open_list(std::span<const Value> items, char* d) {
    d = out_.ensure(d, 2);
    if (items.empty()) return put_literal(d, "[]");
    frames_.push_back(Frame{items.data(), 0, items.size(), 0});
    *d++ = '[';
    return d;
  }

  char* open_dict(std::span<const DictEntry> dict, char* d) {
    d = out_.ensure(d, 2);
    if (dict.empty()) return put_literal(d, "{}");
    const size_t begin = entries_.size();
    for (const auto& [key, value] : dict) entries_.emplace_back(key, &value, Entry::Slot::kValue);
    return push_sorted(begin, d);
  }

  // {"_type": class, <fields>, "_class_name": class, "_bases": [...]}, then sorted.
  char* open_object(const ObjectData& obj, char* d) {
    d = out_.ensure(d, 1);
    const size_t begin = entries_.size();
    entries_.emplace_back("_type", &obj.class_name, Entry::Slot::kText);
    for (const auto& [key, value] : obj.fields)
      entries_.emplace_back(key, &value, Entry::Slot::kValue);
    entries_.emplace_back("_class_name", &obj.class_name, Entry::Slot::kText);
    entries_.emplace_back("_bases", &obj.bases, Entry::Slot::kTextList);
    return push_sorted(begin, d);
  }

  // REQUIRES: room for one byte at d.
  char* push_sorted(size_t begin, char* d) {
    // Keys are unique (Value::dict and make_object guarantee it), so stability does not
    // matter.
    std::sort(entries_.begin() + static_cast<std::ptrdiff_t>(begin), entries_.end(),
              [](const Entry& a, const Entry& b) { return key_less(a, b); });
    frames_.push_back(Frame{nullptr, begin, entries_.size() - begin, 0});
    *d++ = '{';
    return d;
  }

  JsonOut& out_;
  ChildWriter* children_;
  std::vector<Frame>& frames_;
  std::vector<Entry>& entries_;
};

}  // namespace

void write_canonical_json(const Value& v, std::string& out, ChildWriter* children) {
  Scratch nested;
  Scratch& scratch = t_scratch.in_use ? nested : t_scratch;
  scratch.in_use = true;
  // Reset even if a ChildWriter (or an allocation) throws; then `out` is also put back
  // as it was, rather than left with a half-written value and uninitialised room.
  struct Release {
    Scratch& s;
    std::string& out;
    size_t out_size;
    bool done = false;
    ~Release() {
      s.frames.clear();
      s.entries.clear();
      if (s.frames.capacity() > kKeepFrames) std::vector<Frame>().swap(s.frames);
      if (s.entries.capacity() > kKeepEntries) std::vector<Entry>().swap(s.entries);
      s.in_use = false;
      if (!done) out.resize(out_size);
    }
  } release{scratch, out, out.size()};
  JsonOut o(out);
  char* const d = Writer(o, children, scratch).run(v, o.attach(256));
  o.finish(d);
  release.done = true;
}

namespace {
// canonical_json() writes into this thread's buffer and returns a copy of the exact size.
// It used to reserve 1 KiB per call: past glibc's per-thread cache (chunks up to 1032
// bytes), so every request body took an arena lock on the actor's thread and again when
// the store writer freed it, ~10 % of the scheduler threads' time in the nested-call
// profile (docs/BENCH.md). A right-sized copy of a few hundred bytes stays in the cache.
struct OutScratch {
  std::string buf;
  bool in_use = false;  // a ChildWriter may call canonical_json re-entrantly
};
thread_local OutScratch t_out;
constexpr size_t kKeepOutBytes = 64 * 1024;
}  // namespace

std::string canonical_json(const Value& v, ChildWriter* children) {
  OutScratch& s = t_out;
  if (s.in_use) {
    std::string out;
    write_canonical_json(v, out, children);
    return out;
  }
  s.in_use = true;
  struct Release {
    OutScratch& s;
    ~Release() {
      if (s.buf.capacity() > kKeepOutBytes) std::string().swap(s.buf);  // a big value: give it back
      s.in_use = false;
    }
  } release{s};
  s.buf.clear();
  write_canonical_json(v, s.buf, children);
  return std::string(s.buf);
}

}  // namespace weft
