// Where the remote store's URL and key come from, as Weave users know it: WF_TRACE_SERVER_URL,
// WANDB_API_KEY, ~/.netrc. Pure functions over their inputs, so tests need no environment.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace weft {

// The host of an http(s) URL ("https://trace.wandb.ai:443/x" -> "trace.wandb.ai"), or "".
std::string url_host(std::string_view url);

// The password of `host`'s entry in netrc text (tokens "machine", "login", "password",
// "default", "macdef" as curl and Python's netrc read them: the first matching machine
// wins, even without a password; "default" only when no machine matches; a macdef's body,
// up to the next blank line, is skipped). nullopt when there is none.
std::optional<std::string> netrc_password(std::string_view netrc_text, std::string_view host);

}  // namespace weft
