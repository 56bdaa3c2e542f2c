# FindConcurrentQueue.cmake -- moodycamel::ConcurrentQueue 1.0.x as Debian ships it
# (libconcurrentqueue-dev): header-only, no CMake config. Provides ConcurrentQueue::ConcurrentQueue.
find_path(CONCURRENTQUEUE_INCLUDE_DIR NAMES concurrentqueue/concurrentqueue.h)
find_package(Threads REQUIRED)
include(FindPackageHandleStandardArgs)
find_package_handle_standard_args(ConcurrentQueue REQUIRED_VARS CONCURRENTQUEUE_INCLUDE_DIR)
if(ConcurrentQueue_FOUND AND NOT TARGET ConcurrentQueue::ConcurrentQueue)
  add_library(ConcurrentQueue::ConcurrentQueue INTERFACE IMPORTED)
  set_target_properties(ConcurrentQueue::ConcurrentQueue PROPERTIES
    INTERFACE_SYSTEM_INCLUDE_DIRECTORIES "${CONCURRENTQUEUE_INCLUDE_DIR}"
    INTERFACE_LINK_LIBRARIES Threads::Threads)
endif()
mark_as_advanced(CONCURRENTQUEUE_INCLUDE_DIR)
