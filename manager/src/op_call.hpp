// SPDX-License-Identifier: MIT
// One request as its handler sees it (manager/src/ops_*.cpp): the request and who
// sent it, the segment and the manager's facts, the ways to answer later (a wait,
// an answer made off the event loop), and the field readers every family shares.
// Each op's handler is a plain function of it; op_dispatch.cpp holds them in an
// array indexed by op_code, checked at compile time to cover every op.
#pragma once

#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "mpstate/core/owned_segment.hpp"
#include "mpstate/core/protocol.hpp"
#include "mpstate/core/record_ops.hpp"
#include "mpstate/core/sync_ops.hpp"
#include "request_handler.hpp"

namespace mpstate::manager {

struct op_call {
  const json& request;
  const peer_context& peer;
  core::owned_segment& segment;
  server_facts& facts;
  std::optional<pending_wait>& wait;  // set it: the connection answers when the version moves
  std::function<json()>& later;       // set it: the answer is made off the event loop (answer_pool)

  // The variable the request's "name" names: not_found when there is none.
  core::variable_record& existing() const;
  // The owner an owning op acts for: the peer (SO_PEERCRED), or an explicit "pid" of
  // a live process (a helper acting for a process it manages). Over TCP: the
  // connection's lease, and no "pid" (a remote pid means nothing here).
  core::process_identity owner() const;
  // A sync op's actor: the owner, and the thread an rlock client names ("tid").
  core::sync_actor actor() const;
  // The request's "epoch": the ownership an owner's op is made as (release,
  // loop_mark, loop_heartbeat). Absent: made as whoever sends it.
  std::optional<std::uint64_t> epoch() const;

  // set, add and cas may carry a lock's fence: {"lock": NAME, "epoch": N}.
  struct fence_spec {
    std::string lock;
    std::uint64_t epoch;
  };
  std::optional<fence_spec> fence() const;
  core::variable_record& fence_lock(const fence_spec& f) const;  // ownership_lost when gone
  // Runs write() as the request's fenced write when it carries a fence, else plainly.
  template <class Write>
  decltype(auto) as_fenced(core::variable_record& value, Write&& write) const {
    if (auto f = fence()) return core::fenced(fence_lock(*f), f->epoch, value, write);
    return write();
  }
  // Runs write(record); when the value outgrows the record, grows it and writes
  // again. Returns the record written.
  template <class Write>
  core::variable_record* growing(const std::string& name, core::variable_record* r, Write&& write) const {
    try {
      write(*r);
      return r;
    } catch (const core::buffer_too_small& e) {
      r = segment.grow_variable(name, e.needed());  // then the value fits
      write(*r);
      return r;
    }
  }
};

using op_handler = json (*)(op_call&);

// Runs the handler of `op` (op_dispatch.cpp).
json dispatch(core::op_code op, op_call& call);
// {"ops": {name: count}, "errors": {code: count}}, the non-zero ones (for stat).
json op_counters(const server_facts& facts);

}  // namespace mpstate::manager
