#include "runtime/metrics/metrics_json.h"

#include <string_view>

#include <weft/json.h>
#include <weft/value.h>

namespace weft {

namespace {

// Valid UTF-8 unchanged; each byte of an invalid or truncated sequence becomes U+FFFD.
std::string valid_utf8(std::string_view in) {
  std::string out;
  out.reserve(in.size());
  size_t i = 0;
  while (i < in.size()) {
    auto c = static_cast<unsigned char>(in[i]);
    size_t len = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xe ? 3 : (c >> 3) == 0x1e ? 4 : 0;
    bool ok = len != 0 && i + len <= in.size();
    for (size_t k = 1; ok && k < len; ++k) ok = (static_cast<unsigned char>(in[i + k]) & 0xc0) == 0x80;
    if (ok && len > 1) {
      // Overlong forms, surrogates and code points past U+10FFFF are invalid too.
      uint32_t cp = c & (0x7f >> len);
      for (size_t k = 1; k < len; ++k) cp = cp << 6 | (static_cast<unsigned char>(in[i + k]) & 0x3f);
      static constexpr uint32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
      ok = cp >= kMin[len] && cp <= 0x10ffff && (cp < 0xd800 || cp > 0xdfff);
    }
    if (ok) {
      out.append(in.substr(i, len));
      i += len;
    } else {
      out += "\xef\xbf\xbd";
      ++i;
    }
  }
  return out;
}

Value instance_value(const InstanceMetrics& m) {
  return Value::dict({{"id", Value::integer(static_cast<int64_t>(m.id))},
                      {"kind", Value::string(valid_utf8(m.kind))},
                      {"label", Value::string(valid_utf8(m.label))},
                      {"mailbox_depth", Value::integer(static_cast<int64_t>(m.mailbox_depth))},
                      {"waiting_for", Value::string(valid_utf8(m.waiting_for))},
                      // A wait that began after the snapshot's clock read shows as < 0.
                      {"waiting_seconds", Value::number(m.waiting_seconds > 0 ? m.waiting_seconds : 0.0)}});
}

Value instance_list(const std::vector<InstanceMetrics>& v) {
  std::vector<Value> items;
  items.reserve(v.size());
  for (const auto& m : v) items.push_back(instance_value(m));
  return Value::list(std::move(items));
}

Result<std::vector<InstanceMetrics>> read_list(const Value& doc, std::string_view key) {
  const Value* list = doc.find(key);
  if (list == nullptr || list->kind() != ValueKind::kList)
    return Status::invalid_argument("instances JSON: \"" + std::string(key) + "\" is not a list");
  std::vector<InstanceMetrics> out;
  for (const Value& item : list->items()) {
    if (item.kind() != ValueKind::kDict) return Status::invalid_argument("instances JSON: an instance is not an object");
    InstanceMetrics m;
    auto num = [&](const char* k) {
      const Value* v = item.find(k);
      if (v == nullptr) return 0.0;
      if (v->kind() == ValueKind::kInt) return static_cast<double>(v->as_int());
      return v->kind() == ValueKind::kFloat ? v->as_double() : 0.0;
    };
    auto str = [&](const char* k) {
      const Value* v = item.find(k);
      return v != nullptr && v->kind() == ValueKind::kString ? std::string(v->as_string()) : std::string();
    };
    m.id = static_cast<uint64_t>(num("id"));
    m.kind = str("kind");
    m.label = str("label");
    m.mailbox_depth = static_cast<uint64_t>(num("mailbox_depth"));
    m.waiting_for = str("waiting_for");
    m.waiting_seconds = num("waiting_seconds");
    out.push_back(std::move(m));
  }
  return out;
}

}  // namespace

std::string render_instances_json(const MetricsSnapshot& s) {
  Value doc = Value::dict({{"deepest", instance_list(s.deepest)}, {"oldest", instance_list(s.oldest)}});
  return canonical_json(doc) + "\n";
}

Status parse_instances_json(const std::string& text, MetricsSnapshot& s) {
  auto doc = parse_json(text);
  if (!doc) return Status::invalid_argument("instances JSON: " + doc.error());
  if (doc->kind() != ValueKind::kDict) return Status::invalid_argument("instances JSON: not an object");
  auto deepest = read_list(*doc, "deepest");
  if (!deepest) return Status::invalid_argument(deepest.error());
  auto oldest = read_list(*doc, "oldest");
  if (!oldest) return Status::invalid_argument(oldest.error());
  s.deepest = std::move(*deepest);
  s.oldest = std::move(*oldest);
  return Status::ok();
}

}  // namespace weft
