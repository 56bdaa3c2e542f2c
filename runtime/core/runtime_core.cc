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

namespace {
StoreWriterOptions writer_options(const Config& c) {
  StoreWriterOptions o;
  o.batch_size = c.store_batch_size;
  o.retry_timeout = c.store_retry_timeout;
  return o;
}
}  // namespace

Status validate_config(const Config& config) {
  if (Status s = validate_project_id(config.project); !s) return s;
  if (config.dependency_timeout.count() <= 0)
    return Status::invalid_argument("dependency_timeout must be positive");
  if (config.max_outstanding <= 0 ||
      static_cast<uint64_t>(config.max_outstanding) > WorkTracker::kMaxEvents)
    return Status::invalid_argument("max_outstanding must be from 1 to " +
                                    std::to_string(WorkTracker::kMaxEvents));
  if (config.max_memory_bytes > WorkTracker::kMaxBytes)
    return Status::invalid_argument("max_memory_bytes must be below 1 TiB (0: no byte limit)");
  if (config.store_retry_timeout.count() < 0)
    return Status::invalid_argument("store_retry_timeout must not be negative");
  return Status::ok();
}

RuntimeCore::RuntimeCore(Config cfg, std::shared_ptr<Store> store)
    : config(std::move(cfg)),
      project_id(config.project),
      entity(part(config.project, true)),
      project(part(config.project, false)),
      ref_prefix("weave:///" + config.project + "/"),
      runtime_id(g_next_runtime_id.fetch_add(1)),
      tracker(static_cast<uint64_t>(config.max_outstanding),
              config.max_memory_bytes == 0 ? WorkTracker::kMaxBytes : config.max_memory_bytes),
      errors(config.on_error, config.error_report_interval),
      writer(std::move(store), writer_options(config), tracker,
             [this](const std::string& cause, std::string m) { report_error(cause, std::move(m)); },
             &metrics.store_write) {}

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
