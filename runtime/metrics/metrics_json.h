// The per-instance part of a metrics snapshot as JSON: what the endpoint serves at
// GET /metrics/instances and `weft top` shows. Kept out of the Prometheus text because a
// series per actor id would churn Prometheus's index (docs/METRICS.md).
#pragma once

#include <string>

#include <weft/metrics.h>
#include <weft/status.h>

namespace weft {

// {"deepest": [INSTANCE...], "oldest": [INSTANCE...]}, each INSTANCE
// {"id", "kind", "label", "mailbox_depth", "waiting_for", "waiting_seconds"} (keys sorted).
// Labels are cut at 63 bytes by the registry, possibly inside a UTF-8 sequence: bad bytes
// become U+FFFD so the document is always valid JSON.
std::string render_instances_json(const MetricsSnapshot& s);

// The reverse (for `weft top`): fills s.deepest and s.oldest.
Status parse_instances_json(const std::string& text, MetricsSnapshot& s);

}  // namespace weft
