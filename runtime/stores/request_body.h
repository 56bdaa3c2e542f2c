// Weave trace-server request bodies (docs/COMPATIBILITY.md#request-bodies): what a
// remote store would POST for each request, compact JSON. Internal: used by stores and the
// CLI, not part of the public API.
#pragma once

#include <string>

#include <weft/store_requests.h>

namespace weft {

// The Weave trace-server request body for r (docs/COMPATIBILITY.md#request-bodies), compact JSON.
// file_create has no JSON body (it is multipart); its form fields are rendered as JSON.
std::string request_body_json(const StoreRequest& r);

}  // namespace weft
