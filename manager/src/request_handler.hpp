// SPDX-License-Identifier: MIT
// Pure request logic: one parsed request in, one response out, no I/O. The
// connection code feeds it lines; tests call it directly.
#pragma once

#include <sys/types.h>

#include <array>
#include <chrono>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "mpstate/core/metrics.hpp"
#include "mpstate/core/owned_segment.hpp"
#include "mpstate/core/process_identity.hpp"
#include "mpstate/core/protocol.hpp"
#include "mpstate/core/sync_ops.hpp"

namespace mpstate::manager {

using core::json;

// Facts about the server the handler reports (stat) or acts on (shutdown).
class wait_pool;

struct server_facts {
  std::string manager_name;
  std::size_t connections = 0;
  std::int64_t started_ns = 0;
  bool shutdown_requested = false;
  std::size_t answer_bytes_held = 0;  // answers queued or being written, all connections
  const wait_pool* waits = nullptr;   // pending socket waits (for stat)
  // Counters for stat, since the start (the event-loop thread only).
  std::array<std::uint64_t, core::op_code_count> ops_by_code{};  // requests answered, by op_code
  std::array<std::uint64_t, static_cast<std::size_t>(errc::internal) + 1> errors_by_code{};  // error answers, by errc
  core::latency_histogram latency;       // time to handle each request line (handle_line)
  std::uint64_t bytes_in = 0;            // request bytes read, all connections
  std::uint64_t bytes_out = 0;           // answer bytes written
  std::vector<std::string> listening;    // TCP addresses served (HOST:PORT)
  std::string metrics_address;           // --metrics HOST:PORT served, or empty
  std::uint64_t auth_failures = 0;       // TCP handshakes refused
  std::size_t leases = 0;                // TCP connections holding a lease now
  std::size_t handshakes_pending = 0;    // TCP peers not yet through TLS and the key
  std::uint64_t handshakes_dropped = 0;  // ... let go to make room for newer ones (a full table)
  std::int64_t busy_poll_us = 0;         // --busy-poll (event_loop.hpp)
  bool starter_gone = false;             // embedded: the starter ended (options::starter_pid)
  bool other_users_admitted = false;     // --allow-uid / --allow-gid given
};

// Who sent a request. A local peer is a process (SO_PEERCRED, SCM_CREDENTIALS); a
// TCP peer has no pid to check, so what it owns is held under its connection's
// session (core/sessions.hpp), made on its first owning op.
struct peer_context {
  peer_context() = default;
  peer_context(const core::process_identity& local) : process(local) {}  // NOLINT: a local peer
  core::process_identity process;                 // local: the sender; TCP: the session once made
  bool remote = false;                            // a TCP connection
  bool read_only = false;                         // authenticated with the read-only key
  std::function<core::process_identity()> lease;  // TCP: the lease identity (made on first call)
};

// A `wait` the connection must finish: answer when the version moves or at the deadline.
struct pending_wait {
  json id;
  core::variable_record* record;  // bound; the connection unbinds it when done
  std::uint64_t seen_version;
  std::chrono::steady_clock::time_point deadline;
  std::string exact_id = {};  // core::exact_number_id of the request
};

struct handler_outcome {
  json response;  // empty when `wait` or `text` is set
  std::optional<pending_wait> wait;
  // A lock a client holds stood in the way (errc::busy) and nothing changed: the
  // connection retries the same line later, and sends `response` only past its
  // busy timeout.
  bool retry = false;
  std::string exact_id = {};  // core::exact_number_id: echo the id as these bytes
  // A read that changed nothing: past the answer-memory budget its large answer may
  // be refused (busy) and asked again; a change's answer is always sent.
  bool refusable = false;
  std::string text = {};  // the answer line itself, made by the fast path (fast_path.hpp)
  // An answer too large to make on the event loop: the connection has make() run on
  // the answer pool (answer_pool.hpp) and sends {"id": deferred_id, "result": make()}
  // (or the error it throws) in its turn. make() is safe off the event loop.
  std::function<json()> deferred = {};
  json deferred_id = {};
};

// The response of an outcome whose answer is ready or deferred: a deferred one is made
// here, now (on whatever thread calls this), its error answered as an error.
json answer_now(const handler_outcome& out);

// Values whose buffer holds more than this are answered off the event loop.
constexpr std::uint64_t deferred_answer_bytes = 64 * 1024;

class request_handler {
 public:
  request_handler(core::owned_segment& segment, server_facts& facts) : segment_(segment), facts_(facts) {}

  // Parses one line and handles it. Never throws: every failure is an error response.
  handler_outcome handle_line(std::string_view line, const peer_context& peer);
  // Handles a parsed request (an object). Never throws.
  handler_outcome handle(const json& request, const peer_context& peer);
  // True once a `shutdown` request was answered.
  bool shutdown_requested() const { return facts_.shutdown_requested; }
  server_facts& facts() { return facts_; }
  core::owned_segment& segment() { return segment_; }
  // {"ops": {name: count}, "errors": {code: count}}, the non-zero ones (for stat).
  json counters() const;

 private:
  handler_outcome handle_line_timed(std::string_view line, const peer_context& peer);
  // A plain get, set or add, without JSON trees (fast_path.hpp); nullopt: the
  // request goes the general way.
  std::optional<handler_outcome> answer_plain(std::string_view line, const peer_context& peer);

  core::owned_segment& segment_;
  server_facts& facts_;
};

}  // namespace mpstate::manager
