// The hand-off queue between application threads and the dispatcher: lock-free
// (moodycamel), one producer token per application thread, bulk dequeue on the other side.
#pragma once

#include <concurrentqueue/blockingconcurrentqueue.h>

#include "runtime/events.h"

namespace weft {

struct EventQueue {
  moodycamel::BlockingConcurrentQueue<Event> q;
};

}  // namespace weft
