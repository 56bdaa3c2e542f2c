// weft values: the immutable data that application code hands to the runtime.
//
// A Value is a small handle (32 bytes). Scalars live inline; strings, containers and
// Weave's kinds live in an immutable node shared by atomic reference counting, so copying
// a Value or handing it to another thread never deep-copies it. Once built, a value never
// changes: the runtime may read it from any thread at any time without a lock.
//
// Kinds: null, bool, integer (int64, and exact big integers kept as decimal text), float,
// string (UTF-8), list, dict (insertion-ordered), and Weave's kinds: Object (class, bases,
// ordered fields), Table (rows of dicts), Blob (binary content: type id + named files),
// Op (name + source text) and Ref (a parsed weave:/// URI).
//
// Thread safety: every const member is safe to call concurrently.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace weft {

enum class ValueKind : uint8_t {
  kNull,
  kBool,
  kInt,
  kBigInt,
  kFloat,
  kString,
  kList,
  kDict,
  kObject,
  kTable,
  kBlob,
  kOp,
  kRef,
};

// "null", "bool", ... for messages.
const char* kind_name(ValueKind kind);

class Value;
struct Ref;

namespace detail {
struct Node;        // the shared immutable part of a non-scalar value (runtime-internal)
struct NodeAccess;
}  // namespace detail

using DictEntry = std::pair<std::string, Value>;

class Value {
 public:
  Value() noexcept : kind_(ValueKind::kNull), i_(0) {}

  static Value null() { return Value(); }
  static Value boolean(bool b);
  static Value integer(int64_t i);
  // Decimal integer text of any size ("-?[0-9]+"). Values that fit in int64 become kInt.
  // REQUIRES: valid decimal text; throws std::invalid_argument otherwise.
  static Value big_integer(std::string_view decimal);
  static Value number(double d);
  // REQUIRES: valid UTF-8 (the parser checks; builders trust the caller).
  static Value string(std::string s);
  static Value list(std::vector<Value> items);
  // Insertion-ordered; a repeated key keeps its first position and its last value,
  // as Python's dict does.
  static Value dict(std::vector<DictEntry> entries);

  ValueKind kind() const { return kind_; }
  bool is_null() const { return kind_ == ValueKind::kNull; }

  // Accessors. REQUIRE the matching kind (checked by assert in debug builds).
  bool as_bool() const { return b_; }
  int64_t as_int() const { return i_; }
  double as_double() const { return d_; }
  std::string_view as_string() const;         // kString
  std::string_view big_integer_text() const;  // kBigInt
  std::span<const Value> items() const;       // kList
  std::span<const DictEntry> entries() const; // kDict
  // kDict: the value at key, or nullptr.
  const Value* find(std::string_view key) const;

  // Weave kinds (REQUIRE the matching kind).
  const struct ObjectData& object() const;
  const struct TableData& table() const;
  const struct BlobData& blob() const;
  const struct OpData& op() const;
  const Ref& ref() const;

  // True if the value is an Object, Table, Blob or Op: something the runtime saves
  // separately (or, for blobs, uploads as files) and a parent refers to.
  bool is_saveable() const {
    return kind_ == ValueKind::kObject || kind_ == ValueKind::kTable || kind_ == ValueKind::kOp;
  }

  // Identity of the shared node (nullptr for inline scalars). Two Values built from the
  // same instance share a node; equal content built twice does not.
  const detail::Node* node() const { return node_.get(); }
  // Roughly the heap bytes this value holds (strings, containers, Weave kinds, blob bytes),
  // 0 for inline scalars. Computed as the value is built, so O(1) here; a child shared by
  // several parents counts in each. The runtime charges it against max_memory_bytes.
  uint64_t approx_bytes() const;
  long use_count() const { return node_.use_count(); }

  // Deep structural equality (used by tests).
  friend bool operator==(const Value& a, const Value& b);

 private:
  friend struct detail::NodeAccess;
  ValueKind kind_;
  union {
    bool b_;
    int64_t i_;
    double d_;
  };
  std::shared_ptr<const detail::Node> node_;
};

// A Weave Object: {"_type": class, <fields>, "_class_name": class, "_bases": bases}.
struct ObjectData {
  std::string class_name;
  std::vector<std::string> bases;   // default {"Object", "BaseModel"}
  std::vector<DictEntry> fields;    // ordered; may hold nested Objects, Tables, Ops, Blobs
  std::string name;                 // object name when saved; default: the class name
};

// A table: rows of dicts. Saved with table_create; referred to by its hex table digest.
struct TableData {
  std::vector<Value> rows;
};

// One file of a binary value. The bytes are shared, never copied.
struct BlobFile {
  std::string name;
  std::shared_ptr<const std::string> bytes;
};

// Binary content (an image, audio, any bytes), written inline in its parent as
// {"_type": "CustomWeaveType", "weave_type": {"type": type_id}, "files": {name: digest}}
// with each file uploaded once (file_create).
struct BlobData {
  std::string type_id;
  std::vector<BlobFile> files;
};

// An op: saved as an object of kind "op" whose value names a file holding the source.
struct OpData {
  std::string name;
  std::string source;
};

// Builders for Weave's kinds. Field names starting with "_type", "_class_name" or "_bases"
// are reserved; table rows must be dicts. Misuse throws std::invalid_argument.
Value make_object(std::string class_name, std::vector<DictEntry> fields, std::string name = {},
                  std::vector<std::string> bases = {"Object", "BaseModel"});
Value make_table(std::vector<Value> rows);
Value make_blob(std::string type_id, std::vector<BlobFile> files);
Value make_op(std::string name, std::string source);
Value make_ref(Ref ref);

}  // namespace weft
