// SPDX-License-Identifier: MIT
// A connection's answers: queued in order, written in batches, held back behind a
// pending `wait`, a deferred answer or a retry (connection.hpp).
#include <sys/socket.h>

#include <cerrno>
#include <nlohmann/json.hpp>

#include "connection.hpp"

namespace mpstate::manager {

void connection::retry_later() {
  if (!busy_since_) busy_since_ = std::chrono::steady_clock::now();
  flush();  // the answers before it need not wait
  retry_timer_.expires_after(std::chrono::milliseconds(1));
  retry_timer_.async_wait([self = shared_from_this()](boost::system::error_code ec) {
    if (!ec && !self->closing_) self->do_read();  // the same line is still first in the buffer
  });
}

// A waiter thread sleeps on the variable's futex (as local proxies do) and hands
// the answer back here; reading resumes after it, so responses stay in order.
void connection::start_wait(const pending_wait& wait) {
  waiting_ = true;
  if (peer_.remote) watch_peer_while_waiting();
  // The completion holds the connection: nothing else is pending on it meanwhile.
  pending_wait_ =
      waits_.start(wait.record, wait.seen_version, wait.deadline,
                   [self = shared_from_this(), id = wait.id, exact = wait.exact_id](
                       std::uint64_t version, bool changed) { self->finish_wait(id, exact, version, changed); });
}

// A TCP peer that dies during a long wait (its keepalive fails, or its process is
// killed) must not keep its lease until the wait ends: the socket is watched
// meanwhile. Bytes that arrive are later requests, read after the wait.
void connection::watch_peer_while_waiting() {
  if (tls_) return await_input();  // its completion closes on an end, and keeps what arrives
  socket_.async_wait(peer_socket::wait_read, [weak = weak_from_this()](boost::system::error_code ec) {
    auto self = weak.lock();
    if (!self || ec || !self->waiting_) return;
    char byte;
    const ssize_t n = ::recv(self->socket_.native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) self->close();
  });
}

void connection::finish_wait(const core::json& id, const std::string& exact_id, std::uint64_t version, bool changed) {
  waiting_ = false;
  pending_wait_.reset();
  queue(core::make_result(id, {{"version", version}, {"changed", changed}}), exact_id);
  flush();
  do_read();
}

// Every answer counts against the manager-wide budget until written. Past it, a
// read's answer over 64 KiB is refused (busy) rather than held: clients that
// pipeline large reads and never read cannot grow the manager without bound. (An op
// that changed something, a queue get say, always has its answer sent.)
void connection::queue(const core::json& response, std::string_view exact_id, bool refusable) {
  queue_line(core::to_line(response, exact_id), response.value("id", core::json()), exact_id, refusable);
}

void connection::queue_line(std::string line, const core::json& id, std::string_view exact_id, bool refusable) {
  std::size_t& held = handler_.facts().answer_bytes_held;
  if (refusable && line.size() > std::size_t{64} * 1024 && held + line.size() > max_answer_memory_) {
    line = core::to_line(
        core::make_error(id, errc::busy,
                         "the manager holds " + std::to_string(held >> 20) +
                             " MiB of answers that clients have not read (limit " +
                             std::to_string(max_answer_memory_ >> 20) + " MiB); this " + std::to_string(line.size()) +
                             "-byte answer is refused: read your answers and ask again"),
        exact_id);
  }
  held += line.size();
  outbox_ += line;
}

void connection::start_deferred(handler_outcome out) {
  waiting_ = true;
  const core::json id = out.deferred_id;
  const std::string exact = out.exact_id;
  const bool refusable = out.refusable;
  answers_.run([out = std::move(out)] { return core::to_line(answer_now(out), out.exact_id); },
               [self = shared_from_this(), id, exact, refusable](std::string line) {
                 self->finish_deferred(std::move(line), id, exact, refusable);
               });
}

void connection::finish_deferred(std::string line, const core::json& id, const std::string& exact_id, bool refusable) {
  waiting_ = false;
  if (closing_) return;
  queue_line(std::move(line), id, exact_id, refusable);
  flush();
  do_read();
}

void connection::queue_text(const std::string& line) {
  handler_.facts().answer_bytes_held += line.size();
  outbox_ += line;
}

void connection::flush() {
  if (!writing_) do_write();
}

void connection::send(const core::json& response) {
  queue(response);
  flush();
}

void connection::do_write() {
  if (outbox_.empty()) {
    writing_ = false;
    if (shutdown_after_write_) on_shutdown_();
    if (closing_) return close();
    if (reading_paused_) do_read();
    return;
  }
  writing_ = true;
  in_flight_.swap(outbox_);
  outbox_.clear();
  // What fits the socket's buffer (nearly every answer) goes at once, in this
  // wake-up, with no completion to pass through the event loop; the rest as below.
  std::size_t sent = 0;
  if (!tls_) {
    const ssize_t n =
        ::send(socket_.native_handle(), in_flight_.data(), in_flight_.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
    if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
      handler_.facts().answer_bytes_held -= in_flight_.size();
      in_flight_.clear();
      writing_ = false;
      return close();
    }
    sent = n > 0 ? static_cast<std::size_t>(n) : 0;
    if (sent == in_flight_.size()) {
      handler_.facts().answer_bytes_held -= in_flight_.size();
      handler_.facts().bytes_out += sent;
      in_flight_.clear();
      return do_write();
    }
  }
  auto written = [self = shared_from_this(), sent](boost::system::error_code ec, std::size_t bytes) {
    self->handler_.facts().answer_bytes_held -= self->in_flight_.size();
    self->handler_.facts().bytes_out += sent + bytes;
    self->in_flight_.clear();
    if (ec) {
      self->writing_ = false;
      return self->close();
    }
    self->do_write();
  };
  if (tls_) return asio::async_write(*tls_, asio::buffer(in_flight_), std::move(written));
  asio::async_write(socket_, asio::buffer(in_flight_.data() + sent, in_flight_.size() - sent), std::move(written));
}

}  // namespace mpstate::manager
