#include <weft/value.h>

#include <algorithm>
#include <cassert>
#include <cstdint>
#include <functional>
#include <stdexcept>
#include <string_view>
#include <vector>

#include <weft/ref.h>

#include "runtime/model/value_node.h"

namespace weft {
namespace detail {

namespace {

// A node's estimate covers its own allocation and its children's estimates: computed once,
// as the node is built (the builder walks its children anyway), so reading it is O(1).
// Children shared by several parents are counted in each: an upper bound.
uint64_t bytes_of(const std::vector<Value>& items) {
  uint64_t n = 0;
  for (const auto& v : items) n += v.approx_bytes();
  return n;
}
uint64_t bytes_of(const std::vector<DictEntry>& entries) {
  uint64_t n = 0;
  for (const auto& [k, v] : entries) n += k.capacity() + v.approx_bytes();
  return n;
}

struct StringNode final : Node {
  explicit StringNode(ValueKind k, std::string s) : Node(k), text(std::move(s)) {
    approx_bytes = sizeof(*this) + text.capacity();
  }
  std::string text;  // kString: UTF-8; kBigInt: decimal digits
};

struct ListNode final : Node {
  explicit ListNode(std::vector<Value> v) : Node(ValueKind::kList), items(std::move(v)) {
    approx_bytes = sizeof(*this) + items.capacity() * sizeof(Value) + bytes_of(items);
  }
  ~ListNode() override;
  std::vector<Value> items;
};

struct DictNode final : Node {
  explicit DictNode(std::vector<DictEntry> e) : Node(ValueKind::kDict), entries(std::move(e)) {
    approx_bytes = sizeof(*this) + entries.capacity() * sizeof(DictEntry) + bytes_of(entries);
  }
  ~DictNode() override;
  std::vector<DictEntry> entries;
};

struct ObjectNode final : Node {
  explicit ObjectNode(ObjectData d) : Node(ValueKind::kObject), data(std::move(d)) {
    approx_bytes = sizeof(*this) + data.class_name.capacity() + data.name.capacity() +
                   data.fields.capacity() * sizeof(DictEntry) + bytes_of(data.fields);
    for (const auto& b : data.bases) approx_bytes += sizeof(b) + b.capacity();
  }
  ~ObjectNode() override;
  ObjectData data;
};

struct TableNode final : Node {
  explicit TableNode(TableData d) : Node(ValueKind::kTable), data(std::move(d)) {
    approx_bytes = sizeof(*this) + data.rows.capacity() * sizeof(Value) + bytes_of(data.rows);
  }
  ~TableNode() override;
  TableData data;
};

struct BlobNode final : Node {
  explicit BlobNode(BlobData d) : Node(ValueKind::kBlob), data(std::move(d)) {
    // The bytes are shared with the application; counted, since the runtime keeps them alive.
    approx_bytes = sizeof(*this) + data.type_id.capacity();
    for (const auto& f : data.files)
      approx_bytes += sizeof(f) + f.name.capacity() + (f.bytes ? f.bytes->size() : 0);
  }
  BlobData data;
};

struct OpNode final : Node {
  explicit OpNode(OpData d) : Node(ValueKind::kOp), data(std::move(d)) {
    approx_bytes = sizeof(*this) + data.name.capacity() + data.source.capacity();
  }
  OpData data;
};

struct RefNode final : Node {
  explicit RefNode(Ref r) : Node(ValueKind::kRef), ref(std::move(r)) {
    approx_bytes = sizeof(*this) + ref.entity.capacity() + ref.project.capacity() +
                   ref.name.capacity() + ref.digest.capacity();
  }
  Ref ref;
};

}  // namespace

// Deep values are destroyed iteratively. A recursive destructor chain would overflow the
// stack on a 100,000-deep list (or a 10,000-deep chain of Objects under ASan). A container
// node's destructor therefore moves its children's node handles onto a thread-local
// graveyard; the outermost destructor drains it, one level at a time.
struct NodeAccess {
  static std::shared_ptr<const Node> take(Value& v) { return std::move(v.node_); }
  static Value make(ValueKind k, std::shared_ptr<const Node> n) {
    Value v;
    v.kind_ = k;
    v.node_ = std::move(n);
    return v;
  }
};

namespace {

thread_local std::vector<std::shared_ptr<const Node>>* t_graveyard = nullptr;

template <class Range, class Get>
void bury_children(Range& range, Get get) {
  if (t_graveyard != nullptr) {
    for (auto& item : range) {
      Value& v = get(item);
      // Only nodes we hold the last reference to can start a deep destruction.
      if (v.use_count() == 1) t_graveyard->push_back(NodeAccess::take(v));
    }
    return;
  }
  std::vector<std::shared_ptr<const Node>> graveyard;
  t_graveyard = &graveyard;
  for (auto& item : range) {
    Value& v = get(item);
    if (v.use_count() == 1) graveyard.push_back(NodeAccess::take(v));
  }
  while (!graveyard.empty()) {
    auto last = std::move(graveyard.back());
    graveyard.pop_back();
    last.reset();  // may push this node's children onto the graveyard
  }
  t_graveyard = nullptr;
}

Value& self(Value& v) { return v; }
Value& second(DictEntry& e) { return e.second; }

ListNode::~ListNode() { bury_children(items, self); }
DictNode::~DictNode() { bury_children(entries, second); }
ObjectNode::~ObjectNode() { bury_children(data.fields, second); }
TableNode::~TableNode() { bury_children(data.rows, self); }

}  // namespace

Node::~Node() {
  if (NodeAttachment* a = attachment.load(std::memory_order_acquire)) a->release_from_node();
}

}  // namespace detail

using detail::NodeAccess;

uint64_t Value::approx_bytes() const { return node_ ? node_->approx_bytes : 0; }

const char* kind_name(ValueKind kind) {
  switch (kind) {
    case ValueKind::kNull: return "null";
    case ValueKind::kBool: return "bool";
    case ValueKind::kInt: return "integer";
    case ValueKind::kBigInt: return "big integer";
    case ValueKind::kFloat: return "float";
    case ValueKind::kString: return "string";
    case ValueKind::kList: return "list";
    case ValueKind::kDict: return "dict";
    case ValueKind::kObject: return "Object";
    case ValueKind::kTable: return "Table";
    case ValueKind::kBlob: return "Blob";
    case ValueKind::kOp: return "Op";
    case ValueKind::kRef: return "Ref";
  }
  return "?";
}

namespace {

// Builders up to this size check names pairwise (no allocation); larger ones use
// for_each_repeated_name.
constexpr size_t kPairwiseLimit = 32;

// Calls group(positions, count) for each name that occurs more than once among
// entries[0, n), with its positions ascending. group may change values, not names.
//
// Linear for any names but deliberately colliding ones: the positions are radix-sorted
// by a hash of their name (stable, so equal hashes keep ascending positions), and only
// runs of equal hashes compare names. A run of colliding distinct names, the worst case
// crafted keys can force, is sorted by name: O(n log n), never quadratic.
template <class Group>
void for_each_repeated_name(const std::vector<DictEntry>& entries, size_t n, Group group) {
  struct Item {
    uint64_t hash;
    size_t pos;
  };
  std::vector<Item> items(n), scratch(n);
  Item* a = items.data();
  Item* b = scratch.data();
  const std::hash<std::string_view> hasher;
  for (size_t i = 0; i < n; ++i) a[i] = {hasher(entries[i].first), i};
  for (unsigned shift = 0; shift < 64; shift += 8) {  // LSD, one byte per pass
    size_t start[257] = {};
    for (size_t i = 0; i < n; ++i) ++start[(a[i].hash >> shift & 0xff) + 1];
    for (size_t d = 1; d <= 256; ++d) start[d] += start[d - 1];
    for (size_t i = 0; i < n; ++i) b[start[a[i].hash >> shift & 0xff]++] = a[i];
    std::swap(a, b);
  }
  auto name = [&](size_t pos) -> std::string_view { return entries[pos].first; };
  std::vector<size_t> run;
  for (size_t i = 0, j = 0; i < n; i = j) {
    for (j = i + 1; j < n && a[j].hash == a[i].hash;) ++j;
    if (j - i < 2) continue;
    run.clear();
    bool one_name = true;
    for (size_t k = i; k < j; ++k) {
      run.push_back(a[k].pos);
      one_name = one_name && name(a[k].pos) == name(a[i].pos);
    }
    if (one_name) {
      group(run.data(), run.size());
      continue;
    }
    std::stable_sort(run.begin(), run.end(), [&](size_t x, size_t y) { return name(x) < name(y); });
    for (size_t s = 0, t = 0; s < run.size(); s = t) {
      for (t = s + 1; t < run.size() && name(run[t]) == name(run[s]);) ++t;
      if (t - s >= 2) group(run.data() + s, t - s);
    }
  }
}

// Removes the entries for which dropped(i), keeping the others' order.
template <class Dropped>
void drop_entries(std::vector<DictEntry>& entries, Dropped dropped) {
  size_t out = 0;
  for (size_t i = 0; i < entries.size(); ++i) {
    if (dropped(i)) continue;
    if (out != i) entries[out] = std::move(entries[i]);
    ++out;
  }
  entries.resize(out);
}

}  // namespace

Value Value::boolean(bool b) {
  Value v;
  v.kind_ = ValueKind::kBool;
  v.b_ = b;
  return v;
}

Value Value::integer(int64_t i) {
  Value v;
  v.kind_ = ValueKind::kInt;
  v.i_ = i;
  return v;
}

Value Value::number(double d) {
  Value v;
  v.kind_ = ValueKind::kFloat;
  v.d_ = d;
  return v;
}

Value Value::big_integer(std::string_view text) {
  size_t start = (!text.empty() && text[0] == '-') ? 1 : 0;
  if (start == text.size()) throw std::invalid_argument("big_integer: no digits");
  for (size_t i = start; i < text.size(); ++i)
    if (text[i] < '0' || text[i] > '9') throw std::invalid_argument("big_integer: not a decimal integer");
  // Normalise: strip leading zeros, "-0" is 0.
  size_t first = start;
  while (first + 1 < text.size() && text[first] == '0') ++first;
  std::string digits(text.substr(first));
  bool negative = start == 1 && digits != "0";
  // Fits in int64? Compare digit strings against the limits.
  const std::string_view limit = negative ? "9223372036854775808" : "9223372036854775807";
  if (digits.size() < limit.size() || (digits.size() == limit.size() && digits <= limit)) {
    uint64_t u = 0;
    for (char c : digits) u = u * 10 + static_cast<uint64_t>(c - '0');
    return integer(negative ? static_cast<int64_t>(0 - u) : static_cast<int64_t>(u));
  }
  return NodeAccess::make(ValueKind::kBigInt, std::make_shared<detail::StringNode>(
                                                  ValueKind::kBigInt, (negative ? "-" : "") + digits));
}

Value Value::string(std::string s) {
  return NodeAccess::make(ValueKind::kString,
                          std::make_shared<detail::StringNode>(ValueKind::kString, std::move(s)));
}

Value Value::list(std::vector<Value> items) {
  return NodeAccess::make(ValueKind::kList, std::make_shared<detail::ListNode>(std::move(items)));
}

Value Value::dict(std::vector<DictEntry> entries) {
  // Repeated keys: keep the first position, the last value (Python's dict semantics).
  // Small dicts compare keys pairwise without allocating; large ones (parsed documents
  // can have a million keys) group them with for_each_repeated_name, so building stays
  // linear whatever keys the input holds.
  const size_t n = entries.size();
  if (n <= kPairwiseLimit) {
    uint64_t dropped = 0;  // bit i: entry i repeats an earlier key
    for (size_t i = 1; i < n; ++i)
      for (size_t j = 0; j < i; ++j)
        if (entries[i].first == entries[j].first) {  // j: the key's first occurrence
          entries[j].second = std::move(entries[i].second);
          dropped |= uint64_t{1} << i;
          break;
        }
    if (dropped != 0) drop_entries(entries, [&](size_t i) { return (dropped >> i & 1) != 0; });
  } else {
    std::vector<unsigned char> dropped;  // dropped[i]: entry i repeats an earlier key
    for_each_repeated_name(entries, n, [&](const size_t* pos, size_t count) {
      // The first position keeps its place and takes the last one's value.
      if (dropped.empty()) dropped.resize(n);
      entries[pos[0]].second = std::move(entries[pos[count - 1]].second);
      for (size_t k = 1; k < count; ++k) dropped[pos[k]] = 1;
    });
    if (!dropped.empty()) drop_entries(entries, [&](size_t i) { return dropped[i] != 0; });
  }
  return NodeAccess::make(ValueKind::kDict, std::make_shared<detail::DictNode>(std::move(entries)));
}

std::string_view Value::as_string() const {
  assert(kind_ == ValueKind::kString);
  return static_cast<const detail::StringNode*>(node_.get())->text;
}

std::string_view Value::big_integer_text() const {
  assert(kind_ == ValueKind::kBigInt);
  return static_cast<const detail::StringNode*>(node_.get())->text;
}

std::span<const Value> Value::items() const {
  assert(kind_ == ValueKind::kList);
  return static_cast<const detail::ListNode*>(node_.get())->items;
}

std::span<const DictEntry> Value::entries() const {
  assert(kind_ == ValueKind::kDict);
  return static_cast<const detail::DictNode*>(node_.get())->entries;
}

const Value* Value::find(std::string_view key) const {
  if (kind_ != ValueKind::kDict) return nullptr;
  for (const auto& e : entries())
    if (e.first == key) return &e.second;
  return nullptr;
}

const ObjectData& Value::object() const {
  assert(kind_ == ValueKind::kObject);
  return static_cast<const detail::ObjectNode*>(node_.get())->data;
}

const TableData& Value::table() const {
  assert(kind_ == ValueKind::kTable);
  return static_cast<const detail::TableNode*>(node_.get())->data;
}

const BlobData& Value::blob() const {
  assert(kind_ == ValueKind::kBlob);
  return static_cast<const detail::BlobNode*>(node_.get())->data;
}

const OpData& Value::op() const {
  assert(kind_ == ValueKind::kOp);
  return static_cast<const detail::OpNode*>(node_.get())->data;
}

const Ref& Value::ref() const {
  assert(kind_ == ValueKind::kRef);
  return static_cast<const detail::RefNode*>(node_.get())->ref;
}

namespace {
bool is_reserved_field(std::string_view k) {
  return k == "_type" || k == "_class_name" || k == "_bases";
}
}  // namespace

Value make_object(std::string class_name, std::vector<DictEntry> fields, std::string name,
                  std::vector<std::string> bases) {
  if (class_name.empty()) throw std::invalid_argument("make_object: empty class name");
  // The first field that is reserved or repeats an earlier name is the error; at one
  // index, reserved is reported before repeated.
  const size_t n = fields.size();
  auto reserved = [&](size_t i) {
    throw std::invalid_argument("make_object: field name '" + fields[i].first + "' is reserved");
  };
  auto repeated = [&](size_t i) {
    throw std::invalid_argument("make_object: field '" + fields[i].first + "' given twice");
  };
  if (n <= kPairwiseLimit) {
    for (size_t i = 0; i < n; ++i) {
      if (is_reserved_field(fields[i].first)) reserved(i);
      for (size_t j = 0; j < i; ++j)
        if (fields[j].first == fields[i].first) repeated(i);
    }
  } else {
    size_t first_reserved = 0;
    while (first_reserved < n && !is_reserved_field(fields[first_reserved].first)) ++first_reserved;
    // Only a repeat whose second occurrence comes before first_reserved can win, and both
    // its occurrences are then in fields[0, first_reserved).
    size_t first_repeat = first_reserved;
    for_each_repeated_name(fields, first_reserved, [&](const size_t* pos, size_t) {
      first_repeat = std::min(first_repeat, pos[1]);  // pos[1]: the name's first repeat
    });
    if (first_repeat < first_reserved) repeated(first_repeat);
    if (first_reserved < n) reserved(first_reserved);
  }
  ObjectData d{std::move(class_name), std::move(bases), std::move(fields), std::move(name)};
  return NodeAccess::make(ValueKind::kObject, std::make_shared<detail::ObjectNode>(std::move(d)));
}

Value make_table(std::vector<Value> rows) {
  for (size_t i = 0; i < rows.size(); ++i)
    if (rows[i].kind() != ValueKind::kDict)
      throw std::invalid_argument("make_table: row " + std::to_string(i) + " is a " +
                                  kind_name(rows[i].kind()) + ", not a dict");
  return NodeAccess::make(ValueKind::kTable,
                          std::make_shared<detail::TableNode>(TableData{std::move(rows)}));
}

Value make_blob(std::string type_id, std::vector<BlobFile> files) {
  if (type_id.empty()) throw std::invalid_argument("make_blob: empty type id");
  for (const auto& f : files) {
    if (f.name.empty()) throw std::invalid_argument("make_blob: a file has no name");
    if (!f.bytes) throw std::invalid_argument("make_blob: file '" + f.name + "' has no bytes");
  }
  return NodeAccess::make(ValueKind::kBlob, std::make_shared<detail::BlobNode>(
                                                BlobData{std::move(type_id), std::move(files)}));
}

Value make_op(std::string name, std::string source) {
  if (name.empty()) throw std::invalid_argument("make_op: empty op name");
  return NodeAccess::make(ValueKind::kOp, std::make_shared<detail::OpNode>(
                                              OpData{std::move(name), std::move(source)}));
}

Value make_ref(Ref ref) {
  return NodeAccess::make(ValueKind::kRef, std::make_shared<detail::RefNode>(std::move(ref)));
}

// Recursive on purpose: equality is a test helper, used on values of modest depth.
bool operator==(const Value& a, const Value& b) {
  if (a.kind() != b.kind()) return false;
  if (a.node() == b.node() && a.node() != nullptr) return true;
  switch (a.kind()) {
    case ValueKind::kNull: return true;
    case ValueKind::kBool: return a.as_bool() == b.as_bool();
    case ValueKind::kInt: return a.as_int() == b.as_int();
    case ValueKind::kFloat: {
      double x = a.as_double(), y = b.as_double();
      return x == y || (x != x && y != y);
    }
    case ValueKind::kBigInt: return a.big_integer_text() == b.big_integer_text();
    case ValueKind::kString: return a.as_string() == b.as_string();
    case ValueKind::kList: {
      auto x = a.items(), y = b.items();
      if (x.size() != y.size()) return false;
      for (size_t i = 0; i < x.size(); ++i)
        if (!(x[i] == y[i])) return false;
      return true;
    }
    case ValueKind::kDict: {
      auto x = a.entries(), y = b.entries();
      if (x.size() != y.size()) return false;
      for (const auto& e : x) {
        const Value* other = b.find(e.first);
        if (other == nullptr || !(e.second == *other)) return false;
      }
      return true;
    }
    case ValueKind::kObject: {
      const auto &x = a.object(), &y = b.object();
      if (x.class_name != y.class_name || x.bases != y.bases || x.name != y.name ||
          x.fields.size() != y.fields.size())
        return false;
      for (size_t i = 0; i < x.fields.size(); ++i)
        if (x.fields[i].first != y.fields[i].first || !(x.fields[i].second == y.fields[i].second))
          return false;
      return true;
    }
    case ValueKind::kTable: {
      const auto &x = a.table().rows, &y = b.table().rows;
      if (x.size() != y.size()) return false;
      for (size_t i = 0; i < x.size(); ++i)
        if (!(x[i] == y[i])) return false;
      return true;
    }
    case ValueKind::kBlob: {
      const auto &x = a.blob(), &y = b.blob();
      if (x.type_id != y.type_id || x.files.size() != y.files.size()) return false;
      for (size_t i = 0; i < x.files.size(); ++i)
        if (x.files[i].name != y.files[i].name || *x.files[i].bytes != *y.files[i].bytes) return false;
      return true;
    }
    case ValueKind::kOp: return a.op().name == b.op().name && a.op().source == b.op().source;
    case ValueKind::kRef: return a.ref() == b.ref();
  }
  return false;
}

}  // namespace weft
