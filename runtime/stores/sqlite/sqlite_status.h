// What kind of failure an SQLite result code is, shared by the SQLite store and the remote
// store's outbox: a locked or busy file may clear up (unavailable), a full disk or memory
// is a limit (resource_exhausted), a file that cannot be opened or written is a
// precondition, bad or corrupt content is invalid_argument, anything else internal.
#pragma once

#include <weft/status.h>

namespace weft {

StatusCode sqlite_status_code(int rc);

}  // namespace weft
