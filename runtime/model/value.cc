#include <weft/value.h>

#include <cassert>
#include <stdexcept>
#include <unordered_map>
#include <unordered_set>

#include <weft/ref.h>

#include "runtime/model/value_node.h"

namespace weft {
namespace detail {

namespace {

struct StringNode final : Node {
  explicit StringNode(ValueKind k, std::string s) : Node(k), text(std::move(s)) {}
  std::string text;  // kString: UTF-8; kBigInt: decimal digits
};

struct ListNode final : Node {
  explicit ListNode(std::vector<Value> v) : Node(ValueKind::kList), items(std::move(v)) {}
  ~ListNode() override;
  std::vector<Value> items;
};

struct DictNode final : Node {
  explicit DictNode(std::vector<DictEntry> e) : Node(ValueKind::kDict), entries(std::move(e)) {}
  ~DictNode() override;
  std::vector<DictEntry> entries;
};

struct ObjectNode final : Node {
  explicit ObjectNode(ObjectData d) : Node(ValueKind::kObject), data(std::move(d)) {}
  ~ObjectNode() override;
  ObjectData data;
};

struct TableNode final : Node {
  explicit TableNode(TableData d) : Node(ValueKind::kTable), data(std::move(d)) {}
  ~TableNode() override;
  TableData data;
};

struct BlobNode final : Node {
  explicit BlobNode(BlobData d) : Node(ValueKind::kBlob), data(std::move(d)) {}
  BlobData data;
};

struct OpNode final : Node {
  explicit OpNode(OpData d) : Node(ValueKind::kOp), data(std::move(d)) {}
  OpData data;
};

struct RefNode final : Node {
  explicit RefNode(Ref r) : Node(ValueKind::kRef), ref(std::move(r)) {}
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
  // Small dicts compare keys pairwise; large ones (parsed documents can have 50k keys)
  // use a hash index so building stays linear.
  constexpr size_t kPairwiseLimit = 32;
  bool repeated = false;
  if (entries.size() <= kPairwiseLimit) {
    for (size_t i = 1; i < entries.size() && !repeated; ++i)
      for (size_t j = 0; j < i; ++j)
        if (entries[i].first == entries[j].first) {
          repeated = true;
          break;
        }
  } else {
    std::unordered_set<std::string_view> seen;
    seen.reserve(entries.size());
    for (const auto& e : entries)
      if (!seen.insert(e.first).second) {
        repeated = true;
        break;
      }
  }
  if (repeated) {
    std::vector<DictEntry> unique;
    unique.reserve(entries.size());
    std::unordered_map<std::string_view, size_t> position;
    for (auto& e : entries) {
      auto it = position.find(e.first);
      if (it != position.end()) {
        unique[it->second].second = std::move(e.second);
      } else {
        unique.push_back(std::move(e));
        // The view points into `unique`'s own key string: stable, since reserve() above
        // means push_back never reallocates.
        position.emplace(unique.back().first, unique.size() - 1);
      }
    }
    entries = std::move(unique);
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
  for (size_t i = 0; i < fields.size(); ++i) {
    if (is_reserved_field(fields[i].first))
      throw std::invalid_argument("make_object: field name '" + fields[i].first + "' is reserved");
    for (size_t j = 0; j < i; ++j)
      if (fields[j].first == fields[i].first)
        throw std::invalid_argument("make_object: field '" + fields[i].first + "' given twice");
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
