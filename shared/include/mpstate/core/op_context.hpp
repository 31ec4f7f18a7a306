// SPDX-License-Identifier: MIT
// On whose behalf, and how, the segment ops of one call run: one explicit object in
// place of per-thread flags. A client's own calls run with none (the default: writes
// stamped with this process, locks waited for). The manager makes one for its event
// loop and one per request, and installs it for that scope (op_scope):
//   for_pid    committed writes are stamped with this process (the peer that sent
//              the request), so the dump names the real writer; 0: this process
//   may_wait   false on the event loop: a held lock is never waited for (a client
//              stopped in a debugger may hold one for ever); the op throws lock_busy
//   committed  set by every write that commits under it: the request has changed
//              something, so a busy met after it must be answered, never retried
//              whole (that would repeat the change) -- retry_later() below
// The ops read the installed context where they lock or commit (locked_record,
// lock_or_busy, pid_to_stamp): one thread-local pointer, so a client's write pays one
// load and a branch, as it did for the flags.
#pragma once

#include <sys/types.h>

#include <utility>

#include "mpstate/error.hpp"

namespace mpstate::core {

struct op_context {
  pid_t for_pid = 0;
  bool may_wait = true;
  bool committed = false;
};

namespace detail {
[[gnu::tls_model("initial-exec")]] inline constinit thread_local op_context* installed_context = nullptr;
}  // namespace detail

// The context this thread's segment ops run under; nullptr: a client's own call.
inline op_context* current_op_context() noexcept { return detail::installed_context; }
// Whether this thread's ops wait for a held lock (no context, or one that may).
inline bool ops_may_wait() noexcept {
  const op_context* c = detail::installed_context;
  return c == nullptr || c->may_wait;
}

// Installs `ctx` for this thread until destroyed; the context it replaced (an outer
// scope's, or none) comes back then.
class op_scope {
 public:
  explicit op_scope(op_context& ctx) noexcept : outer_(std::exchange(detail::installed_context, &ctx)) {}
  ~op_scope() { detail::installed_context = outer_; }
  op_scope(const op_scope&) = delete;
  op_scope& operator=(const op_scope&) = delete;

 private:
  op_context* outer_;
};

// The manager's busy rule: a request that met a held lock (busy) is run again whole
// later only if nothing it did had committed; otherwise its error is the answer.
inline bool retry_later(const op_context& ctx, errc code) noexcept { return code == errc::busy && !ctx.committed; }

}  // namespace mpstate::core
