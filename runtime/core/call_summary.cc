#include "runtime/core/call_summary.h"

#include <weft/json.h>

namespace weft {

namespace {
const Value* field(const Value& v, std::string_view key) {
  if (v.kind() == ValueKind::kDict) return v.find(key);
  if (v.kind() == ValueKind::kObject)
    for (const auto& f : v.object().fields)
      if (f.first == key) return &f.second;
  return nullptr;
}

void add_number(CallSummary::Number& into, const CallSummary::Number& x) {
  if (!into.is_float && !x.is_float) {
    into.i += x.i;
    return;
  }
  double a = into.is_float ? into.d : static_cast<double>(into.i);
  double b = x.is_float ? x.d : static_cast<double>(x.i);
  into.is_float = true;
  into.d = a + b;
}
}  // namespace

void CallSummary::add_own_output(const Value& output) {
  const Value* usage_v = field(output, "usage");
  const Value* model_v = field(output, "model");
  if (usage_v == nullptr || model_v == nullptr || model_v->kind() != ValueKind::kString) return;
  auto& u = usage[std::string(model_v->as_string())];
  add_number(u["requests"], Number{false, 1, 0});
  auto add_field = [&](const std::string& k, const Value& v) {
    if (v.kind() == ValueKind::kInt) add_number(u[k], Number{false, v.as_int(), 0});
    else if (v.kind() == ValueKind::kFloat) add_number(u[k], Number{true, 0, v.as_double()});
    // Non-numeric usage fields are not summed (Weave ignores them too).
  };
  if (usage_v->kind() == ValueKind::kDict) {
    for (const auto& e : usage_v->entries()) add_field(e.first, e.second);
  } else if (usage_v->kind() == ValueKind::kObject) {
    for (const auto& e : usage_v->object().fields) add_field(e.first, e.second);
  }
}

void CallSummary::add(const CallSummary& child) {
  success += child.success;
  error += child.error;
  for (const auto& [model, fields] : child.usage)
    for (const auto& [k, n] : fields) add_number(usage[model][k], n);
}

std::string CallSummary::to_json() const {
  std::vector<DictEntry> top;
  top.emplace_back("status_counts", Value::dict({{"error", Value::integer(error)},
                                                 {"success", Value::integer(success)}}));
  if (!usage.empty()) {
    std::vector<DictEntry> models;
    for (const auto& [model, fields] : usage) {
      std::vector<DictEntry> f;
      for (const auto& [k, n] : fields)
        f.emplace_back(k, n.is_float ? Value::number(n.d) : Value::integer(n.i));
      models.emplace_back(model, Value::dict(std::move(f)));
    }
    top.emplace_back("usage", Value::dict(std::move(models)));
  }
  return canonical_json(Value::dict(std::move(top)));
}

}  // namespace weft
