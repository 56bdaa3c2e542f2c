// Names the calling thread (Linux: at most 15 characters), so that `top -H`, perf and the
// benches' per-thread CPU split can tell weft's threads apart. A no-op elsewhere.
#pragma once

#if defined(__linux__)
#include <pthread.h>
#endif

namespace weft {

inline void name_this_thread(const char* name) {
#if defined(__linux__)
  pthread_setname_np(pthread_self(), name);
#else
  (void)name;
#endif
}

}  // namespace weft
