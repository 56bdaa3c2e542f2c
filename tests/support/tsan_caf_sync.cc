// ThreadSanitizer annotations for CAF 0.17.6, loaded with LD_PRELOAD by .ci/tsan.
//
// Debian's libcaf_core.so is not built with -fsanitize=thread, so TSan does not see the
// atomics CAF synchronises with: the lock-free mailbox (a sender's push, the receiver's
// take) and the reference counts of actors and messages (the last owner deletes). Its
// mutexes are still seen (pthread calls are intercepted in any library). Without this
// file every message that carries data looks racy: the sender wrote the payload, the
// receiving handler reads it, and TSan knows no order between them. A handful of those
// reports are in CAF's own frames, but most are in weft's handlers and in what the
// handlers pass on to weft's own threads (the store writer, the deadline watch), so they
// cannot be suppressed without suppressing weft.
//
// This library interposes nine exported functions of libcaf_core.so and tells TSan the
// order CAF guarantees, then calls the real function (found with dlsym(RTLD_NEXT)):
//
//   scheduled_actor::enqueue, blocking_actor::enqueue
//                                       release on the message's content   (the push)
//   scheduled_actor::mailbox_visitor, blocking_actor::mailbox_visitor (operator()),
//   behavior_impl::invoke(visitor, xs)  acquire on the same content         (the take)
//   scheduled_actor::mailbox_visitor (after the message), scheduled_actor::activate
//                                       release on the actor, which weft's scheduler
//                                       acquires before the actor's next resume
//   intrusive_ptr_release(actor_control_block*), intrusive_ptr_release_weak(...),
//   ref_counted::deref()                release on every drop; the owner of the last
//                                       reference acquires before it deletes (the same
//                                       annotation libstdc++ uses for shared_ptr); for
//                                       actors, a drop that is not the last is done here
//                                       (see drop_unless_last)
//
// Interposition works because weft's actor and behavior vtables and CAF's internal calls
// reach these symbols through dynamic relocations / the PLT (checked with objdump on
// 0.17.6). Ordering is per message, so a write made after a send is still reported.
// It is not weft code and is not linked into anything: .ci/tsan compiles it on its own.
// If CAF's ABI changes (another version), dlsym fails and the process aborts at once.
#include <caf/all.hpp>
#include <dlfcn.h>

#include <cstdio>
#include <cstdlib>

// Weak: a process without the TSan runtime that inherits LD_PRELOAD still starts.
extern "C" void __tsan_acquire(void* addr) __attribute__((weak));
extern "C" void __tsan_release(void* addr) __attribute__((weak));

namespace {

template <class F>
F real_fn(const char* name) {
  void* p = dlsym(RTLD_NEXT, name);
  if (p == nullptr) {
    std::fprintf(stderr, "tsan_caf_sync: %s not found after this library (is this CAF 0.17.6?)\n", name);
    std::abort();
  }
  return reinterpret_cast<F>(p);
}

inline void acquire(void* a) {
  if (__tsan_acquire != nullptr) __tsan_acquire(a);
}
inline void release(void* a) {
  if (__tsan_release != nullptr) __tsan_release(a);
}

}  // namespace

namespace caf {

void scheduled_actor::enqueue(mailbox_element_ptr ptr, execution_unit* eu) {
  using fn = void (*)(scheduled_actor*, mailbox_element_ptr, execution_unit*);
  static fn real = ::real_fn<fn>(
    "_ZN3caf15scheduled_actor7enqueueESt10unique_ptrINS_15mailbox_elementENS_6detail8disposerEEPNS_14execution_unitE");
  if (ptr) release(&ptr->content());
  real(this, std::move(ptr), eu);
}

void blocking_actor::enqueue(mailbox_element_ptr ptr, execution_unit* eu) {
  using fn = void (*)(blocking_actor*, mailbox_element_ptr, execution_unit*);
  static fn real = ::real_fn<fn>(
    "_ZN3caf14blocking_actor7enqueueESt10unique_ptrINS_15mailbox_elementENS_6detail8disposerEEPNS_14execution_unitE");
  if (ptr) release(&ptr->content());
  real(this, std::move(ptr), eu);
}

// Where a taken message is first looked at (its type is checked before any handler runs).
// And, once the message is handled, a release on the actor itself (its resumable base, the
// pointer a scheduler holds): weft's scheduler acquires it before the actor's next resume
// (actors/scheduler.cc), which may run on another worker. CAF orders an actor's resumes
// through its mailbox's atomics, which TSan cannot see; this release comes before the
// actor blocks its mailbox, so the next resume, however soon, finds it.
intrusive::task_result scheduled_actor::mailbox_visitor::operator()(mailbox_element& x) {
  using fn = intrusive::task_result (*)(mailbox_visitor*, mailbox_element&);
  static fn real = ::real_fn<fn>("_ZN3caf15scheduled_actor15mailbox_visitorclERNS_15mailbox_elementE");
  acquire(&x.content());
  auto result = real(this, x);
  release(static_cast<resumable*>(self));
  return result;
}

// The actor's first resume runs its init (make_behavior) here: released the same way.
bool scheduled_actor::activate(execution_unit* ctx) {
  using fn = bool (*)(scheduled_actor*, execution_unit*);
  static fn real = ::real_fn<fn>("_ZN3caf15scheduled_actor8activateEPNS_14execution_unitE");
  bool result = real(this, ctx);
  release(static_cast<resumable*>(this));
  return result;
}

intrusive::task_result blocking_actor::mailbox_visitor::operator()(mailbox_element& x) {
  using fn = intrusive::task_result (*)(mailbox_visitor*, mailbox_element&);
  static fn real = ::real_fn<fn>("_ZN3caf14blocking_actor15mailbox_visitorclERNS_15mailbox_elementE");
  acquire(&x.content());
  return real(this, x);
}

namespace detail {
// Handlers also run from here (e.g. a behavior invoked on a message taken elsewhere).
match_case::result behavior_impl::invoke(invoke_result_visitor& f, type_erased_tuple& xs) {
  using fn = match_case::result (*)(behavior_impl*, invoke_result_visitor&, type_erased_tuple&);
  static fn real = ::real_fn<fn>(
    "_ZN3caf6detail13behavior_impl6invokeERNS0_21invoke_result_visitorERNS_17type_erased_tupleE");
  acquire(&xs);
  return real(this, f, xs);
}
}  // namespace detail

// Checking the count and then calling the real function is racy: two owners can both
// read 2, and the one whose decrement comes second deletes without having acquired the
// other's release (TSan then reports the other's last access, e.g. a worker's virtual call
// on the job it is releasing, against the destructor). So a drop that is not the last is
// done here, with the same atomic decrement CAF does (0.17.6 decrements strong_refs and
// weak_refs with fetch_sub, acq_rel); only the owner that holds the last reference, which
// no one else can drop, acquires and calls the real function, which deletes.
template <class Count>
bool drop_unless_last(Count& refs) {
  auto n = refs.load(std::memory_order_acquire);
  while (n > 1) {
    if (refs.compare_exchange_weak(n, n - 1, std::memory_order_acq_rel)) return true;
  }
  return false;
}

void intrusive_ptr_release(actor_control_block* x) {
  using fn = void (*)(actor_control_block*);
  static fn real = ::real_fn<fn>("_ZN3caf21intrusive_ptr_releaseEPNS_19actor_control_blockE");
  release(x);
  if (drop_unless_last(x->strong_refs)) return;
  acquire(x);
  real(x);
}

void intrusive_ptr_release_weak(actor_control_block* x) {
  using fn = void (*)(actor_control_block*);
  static fn real = ::real_fn<fn>("_ZN3caf26intrusive_ptr_release_weakEPNS_19actor_control_blockE");
  release(x);
  if (drop_unless_last(x->weak_refs)) return;
  acquire(x);
  real(x);
}

void ref_counted::deref() const noexcept {
  using fn = void (*)(const ref_counted*);
  static fn real = ::real_fn<fn>("_ZNK3caf11ref_counted5derefEv");
  auto* self = const_cast<ref_counted*>(this);
  release(self);
  if (get_reference_count() == 1) acquire(self);
  real(this);
}

}  // namespace caf
