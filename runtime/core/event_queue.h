// The hand-off queue between application threads and the dispatcher: lock-free
// (moodycamel), one producer token per application thread, bulk dequeue on the other side.
// Not a blocking queue: the dispatcher polls (runtime/idle_backoff.h), so an enqueue never
// has to wake anyone.
#pragma once

#include <concurrentqueue/concurrentqueue.h>

#include "runtime/core/events.h"

namespace weft {

struct EventQueue {
  // Blocks for 16k events up front: the first bursts do not allocate on the calling thread.
  EventQueue() : q(16 * 1024) {}
  moodycamel::ConcurrentQueue<Event> q;
};

}  // namespace weft
