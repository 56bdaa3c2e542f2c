#include "runtime/core/runtime_core.h"

#include <cstdio>

namespace weft {

namespace {
std::atomic<uint64_t> g_next_runtime_id{1};

std::string part(const std::string& project_id, bool first) {
  auto slash = project_id.find('/');
  if (slash == std::string::npos) return first ? project_id : std::string();
  return first ? project_id.substr(0, slash) : project_id.substr(slash + 1);
}
}  // namespace

Status validate_project_id(const std::string& id) {
  auto slash = id.find('/');
  if (slash == std::string::npos || slash == 0 || slash + 1 == id.size() ||
      id.find('/', slash + 1) != std::string::npos)
    return Status::invalid_argument("project must be \"entity/project\" (got \"" + id + "\")");
  if (id.find(':') != std::string::npos)
    return Status::invalid_argument("project must not contain ':' (got \"" + id + "\")");
  return Status::ok();
}

Status validate_config(const Config& config) {
  if (Status s = validate_project_id(config.project); !s) return s;
  if (config.dependency_timeout.count() <= 0)
    return Status::invalid_argument("dependency_timeout must be positive");
  if (config.max_outstanding <= 0) return Status::invalid_argument("max_outstanding must be positive");
  return Status::ok();
}

RuntimeCore::RuntimeCore(Config cfg, std::shared_ptr<Store> store)
    : config(std::move(cfg)),
      project_id(config.project),
      entity(part(config.project, true)),
      project(part(config.project, false)),
      ref_prefix("weave:///" + config.project + "/"),
      runtime_id(g_next_runtime_id.fetch_add(1)),
      tracker(config.max_outstanding),
      writer(std::move(store), config.store_batch_size,
             [this](std::string m) { report_error(std::move(m)); }, &metrics.store_write) {}

void RuntimeCore::report_error(std::string message) {
  errors_reported_.fetch_add(1, std::memory_order_relaxed);
  if (config.on_error) {
    config.on_error(message);
  } else {
    std::fprintf(stderr, "weft: error: %s\n", message.c_str());
  }
  std::lock_guard<std::mutex> lock(errors_mu_);
  recent_.push_back(std::move(message));
  if (recent_.size() > 100) recent_.pop_front();
}

std::vector<std::string> RuntimeCore::recent_errors() const {
  std::lock_guard<std::mutex> lock(errors_mu_);
  return {recent_.begin(), recent_.end()};
}

std::string RuntimeCore::object_ref(std::string_view name, std::string_view digest) const {
  std::string s;
  s.reserve(ref_prefix.size() + 8 + name.size() + digest.size());
  s.append(ref_prefix).append("object/").append(name).append(":").append(digest);
  return s;
}

std::string RuntimeCore::op_ref(std::string_view name, std::string_view digest) const {
  std::string s;
  s.reserve(ref_prefix.size() + 4 + name.size() + digest.size());
  s.append(ref_prefix).append("op/").append(name).append(":").append(digest);
  return s;
}

std::string RuntimeCore::table_ref(std::string_view hex_digest) const {
  return ref_prefix + "table/" + std::string(hex_digest);
}

}  // namespace weft
