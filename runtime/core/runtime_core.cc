#include "runtime/core/runtime_core.h"

#include <algorithm>
#include <cstdio>

#include "runtime/stores/async_store.h"

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
  // W&B's rules, plus weft's own bounds (docs/COMPATIBILITY.md#project-names). One pass
  // over the id; the message names the rule and shows at most 64 bytes of the id, escaped.
  constexpr size_t kMaxEntity = 64;    // weft's bound: W&B documents none
  constexpr size_t kMaxProject = 128;  // wandb's Settings.validate_project
  const auto byte = [&](size_t i) { return static_cast<unsigned char>(id[i]); };
  // Length of the well-formed UTF-8 sequence at id[i], its code point in cp; 0 if none.
  const auto decode = [&](size_t i, char32_t& cp) -> size_t {
    const unsigned char b0 = byte(i);
    if (b0 < 0x80) {
      cp = b0;
      return 1;
    }
    const size_t len = b0 >= 0xC2 && b0 <= 0xDF ? 2 : b0 >= 0xE0 && b0 <= 0xEF ? 3
                       : b0 >= 0xF0 && b0 <= 0xF4 ? 4 : 0;
    if (len == 0) return 0;
    cp = b0 & (0x7Fu >> len);
    if (len > id.size() - i) return 0;
    for (size_t k = 1; k < len; ++k) {
      if ((byte(i + k) & 0xC0) != 0x80) return 0;
      cp = cp << 6 | (byte(i + k) & 0x3Fu);
    }
    const char32_t min = len == 2 ? 0x80 : len == 3 ? 0x800 : 0x10000;  // shorter: overlong
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
    return len;
  };
  const auto is_control = [](char32_t cp) { return cp < 0x20 || (cp >= 0x7F && cp <= 0x9F); };
  const auto hex = [](uint32_t v, size_t digits) {  // uppercase, at least `digits` long
    std::string h;
    for (; v != 0 || h.size() < digits; v >>= 4) h.insert(h.begin(), "0123456789ABCDEF"[v & 0xF]);
    return h;
  };
  const auto reject = [&](const std::string& rule) {
    std::string shown = "\"";
    size_t i = 0;
    while (i < id.size() && i < 64) {
      char32_t cp = 0;
      const size_t n = decode(i, cp);
      if (n == 0 || is_control(cp)) {  // escaped byte by byte
        for (const size_t end = i + (n == 0 ? 1 : n); i < end; ++i)
          shown += "\\x" + hex(byte(i), 2);
        continue;
      }
      if (cp == '"' || cp == '\\') shown += '\\';
      shown.append(id, i, n);
      i += n;
    }
    shown += '"';
    if (i < id.size()) shown += "... (" + std::to_string(id.size()) + " bytes)";
    return Status::invalid_argument("project " + shown + ": " + rule);
  };
  const size_t slash = id.find('/');
  if (slash == std::string::npos) return reject("must be \"entity/project\"");
  if (id.find('/', slash + 1) != std::string::npos)
    return reject("must be \"entity/project\", with one '/'");
  if (slash == 0) return reject("the entity (before the '/') is empty");
  if (slash + 1 == id.size()) return reject("the project name (after the '/') is empty");
  size_t entity_chars = 0, project_chars = 0;
  for (size_t i = 0; i < id.size();) {
    char32_t cp = 0;
    const size_t n = decode(i, cp);
    if (n == 0) return reject("not valid UTF-8 (byte " + std::to_string(i) + ")");
    if (is_control(cp))
      return reject("must not contain control characters (U+" + hex(cp, 4) + " at byte " +
                    std::to_string(i) + ")");
    if (i < slash) ++entity_chars;
    if (i > slash) ++project_chars;
    i += n;
  }
  if (entity_chars > kMaxEntity)
    return reject("the entity must be at most 64 characters (it has " +
                  std::to_string(entity_chars) + ")");
  for (size_t i = 0; i < slash; ++i) {
    const char c = id[i];
    if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_') continue;
    char32_t cp = 0;
    decode(i, cp);
    std::string found = "the entity may contain only lowercase letters, digits, '-' and '_' (found ";
    if (cp >= 0x80) found.append("U+").append(hex(cp, 4));
    else found.append(1, '\'').append(1, c).append(1, '\'');
    return reject(found.append(")"));
  }
  if (project_chars > kMaxProject)
    return reject("the project name must be at most 128 characters (it has " +
                  std::to_string(project_chars) + ")");
  if (const size_t bad = id.find_first_of("\\#?%:", slash + 1); bad != std::string::npos)
    return reject(std::string("the project name must not contain any of / \\ # ? % : (found '")
                      .append(1, id[bad])
                      .append("')"));
  return Status::ok();
}

std::string dead_letter_path_for(const Config& config) {
  if (!config.dead_letter_path.empty()) return config.dead_letter_path;
  return config.store ? "weft.dead-letter.jsonl" : config.store_path + ".dead-letter.jsonl";
}

namespace {
// The store as an AsyncStore that assigns the digests of values holding refs, or nullptr.
const AsyncStore* digest_assigner(const Store* store) {
  auto* async = dynamic_cast<const AsyncStore*>(store);
  return async != nullptr && async->assigns_ref_digests() ? async : nullptr;
}

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
      store_assigns_ref_digests(digest_assigner(store.get()) != nullptr),
      dependency_timeout(store_assigns_ref_digests
                             ? std::max(config.dependency_timeout,
                                        digest_assigner(store.get())->longest_pending() + std::chrono::milliseconds(10'000))
                             : config.dependency_timeout),
      tracker(static_cast<uint64_t>(config.max_outstanding),
              config.max_memory_bytes == 0 ? WorkTracker::kMaxBytes : config.max_memory_bytes),
      errors(config.on_error, config.error_report_interval),
      dead_letter(dead_letter_path_for(config), config.dead_letter_max_bytes),
      writer(std::move(store), writer_options(config), tracker,
             [this](const std::string& cause, std::string m) { report_error(cause, std::move(m)); },
             &metrics.store_write) {
  writer.set_dead_letter([this](const StoreRequest& r, const Status& why, uint32_t attempts) {
    return dead_letter.append(r, why, attempts);
  });
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
