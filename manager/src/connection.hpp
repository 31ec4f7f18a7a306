// SPDX-License-Identifier: MIT
// One client connection: reads request lines, hands them to the request handler,
// writes responses in order. Pipelined requests are answered one after another;
// a `wait` holds the later ones back until it answers.
#pragma once

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "answer_pool.hpp"
#include "mpstate/core/tcp_liveness.hpp"
#include "mpstate/manager/options.hpp"
#include "request_handler.hpp"
#include "wait_pool.hpp"

namespace mpstate::manager {

namespace asio = boost::asio;
// A Unix or a TCP socket: the same reads and writes serve both.
using peer_socket = asio::generic::stream_protocol::socket;
// A TCP peer's TLS, after its handshake (tls_handshake.hpp).
using tls_stream = asio::ssl::stream<peer_socket>;

class connection : public std::enable_shared_from_this<connection> {
 public:
  // Takes max_line, idle_timeout and busy_timeout from `limits`.
  connection(peer_socket socket, request_handler& handler, wait_pool& waits, answer_pool& answers,
             const options& limits, std::function<void()> on_close, std::function<void()> on_shutdown);
  // The same, reading and writing through TLS (the handshake done).
  connection(std::unique_ptr<tls_stream> tls, request_handler& handler, wait_pool& waits, answer_pool& answers,
             const options& limits, std::function<void()> on_close, std::function<void()> on_shutdown);
  ~connection();
  // Serves `peer` (already checked against the allowed users).
  void start(const core::process_identity& peer);
  // Serves a TCP peer at `address` once it proves it holds options.key (or
  // read_only_key): sends the challenge, and serves no op before the answer.
  void start_remote(std::string address);
  // Refuses the peer: one error line, then close.
  void refuse(errc code, const std::string& message);
  void close();
  // A TCP peer that has not proven the key yet (nor been refused).
  bool in_handshake() const { return !authenticated_ && !closing_; }

 private:
  void do_read();
  // Reads what has arrived (never blocks), taking the sender's pid from the
  // message's credentials. False when nothing was there, or the connection ended.
  bool receive();
  // Calls do_read when more arrives: a wait for the socket, or a TLS read (whose
  // bytes it appends to input_); nothing if a TLS read is already pending.
  void await_input();
  // The socket itself (under TLS, the one the stream runs on).
  peer_socket& socket() { return tls_ ? tls_->next_layer() : socket_; }
  core::process_identity identity_of(pid_t pid);
  // Closes the connection when no complete request arrives for idle_timeout_.
  void arm_idle_timer();
  void wait_idle_timer();
  // Serves the first buffered line, of `bytes`; false when reading must stop for now
  // (a wait, or a retry, is pending).
  bool on_line(std::size_t bytes);
  // The first line met a lock a client holds: run it again in a moment (later lines
  // wait behind it, so answers stay in order; other connections go on).
  void retry_later();
  // Appends a response to the outbox; flush() starts writing it.
  void queue(const core::json& response, std::string_view exact_id = {}, bool refusable = false);
  // The same for a line already made: past the answer-memory budget, a refusable
  // one over 64 KiB is replaced by a `busy` error for request `id`.
  void queue_line(std::string line, const core::json& id, std::string_view exact_id, bool refusable);
  // An answer made off the event loop (handler_outcome::deferred): later lines wait
  // behind it, as behind a `wait`.
  void start_deferred(handler_outcome out);
  void finish_deferred(std::string line, const core::json& id, const std::string& exact_id, bool refusable);
  void queue_text(const std::string& line);  // an answer line made by the fast path
  void flush();
  void send(const core::json& response);  // queue + flush
  void do_write();
  void start_wait(const pending_wait& wait);
  // The first line of a TCP peer: its auth. False when refused (after a delay).
  bool authenticate(std::string_view line);
  void end_lease();
  void watch_peer_while_waiting();
  // A TCP peer whose kernel has answered nothing for the lease (its machine or the
  // network is gone) loses its connection, and with it its lease: checked every
  // silence_check while it holds one.
  void watch_silence();
  void finish_wait(const core::json& id, const std::string& exact_id, std::uint64_t version, bool changed);

  peer_socket socket_;  // closed under TLS: socket() is the stream's
  std::unique_ptr<tls_stream> tls_;
  bool tls_reading_ = false;
  std::vector<char> tls_input_;  // a TLS read's plaintext, before input_ (16 KiB, TLS only)
  request_handler& handler_;
  asio::streambuf input_;
  std::string outbox_;     // responses waiting for the current write to finish
  std::string in_flight_;  // the bytes being written
  bool writing_ = false;
  bool closing_ = false;  // close once the outbox is written
  bool reading_paused_ = false;
  bool peer_done_ = false;  // it sent EOF: answer what it sent, then close
  peer_context peer_;
  const options& options_;     // the server's: keys and lease
  bool authenticated_ = true;  // false for a TCP peer until its auth succeeds
  bool refused_ = false;       // its auth failed: nothing more is read
  std::string challenge_;      // what the TCP peer must sign
  std::string remote_address_;
  std::optional<core::process_identity> session_;  // a TCP peer's, made at its first owning op
  std::vector<core::process_identity> senders_;    // identity_of's cache, the last 8
  wait_pool& waits_;
  answer_pool& answers_;
  bool waiting_ = false;  // a `wait` (or a deferred answer) is pending: later requests queue behind it
  std::chrono::milliseconds idle_timeout_;
  asio::steady_timer idle_timer_;
  std::chrono::steady_clock::time_point last_request_;  // the idle timer's reference
  std::chrono::milliseconds busy_timeout_;
  std::size_t max_answer_memory_;  // for all connections together (server_facts::answer_bytes_held)
  asio::steady_timer retry_timer_;
  asio::steady_timer silence_timer_;
  core::tcp_silence_watch silence_;
  std::optional<std::chrono::steady_clock::time_point> busy_since_;  // the line being retried
  std::shared_ptr<wait_pool::entry> pending_wait_;
  std::function<void()> on_close_;
  std::function<void()> on_shutdown_;
  bool shutdown_after_write_ = false;
};

}  // namespace mpstate::manager
