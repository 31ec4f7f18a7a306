// SPDX-License-Identifier: MIT
#include "connection.hpp"

#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <nlohmann/json.hpp>

#include "log.hpp"
#include "mpstate/core/auth.hpp"
#include "mpstate/core/segment.hpp"
#include "tcp_listener.hpp"

namespace mpstate::manager {

namespace {
// Past this many unsent response bytes we stop reading requests from this client
// until it reads its responses: its backlog cannot grow without bound.
constexpr std::size_t max_outbox = 4 << 20;
}  // namespace

connection::connection(peer_socket socket, request_handler& handler, wait_pool& waits, answer_pool& answers,
                       const options& limits, std::function<void()> on_close, std::function<void()> on_shutdown)
    : socket_(std::move(socket)),
      handler_(handler),
      input_(limits.max_line + 1),
      options_(limits),
      waits_(waits),
      answers_(answers),
      idle_timeout_(limits.idle_timeout),
      idle_timer_(socket_.get_executor()),
      busy_timeout_(limits.busy_timeout),
      max_answer_memory_(limits.max_answer_memory),
      retry_timer_(socket_.get_executor()),
      silence_timer_(socket_.get_executor()),
      on_close_(std::move(on_close)),
      on_shutdown_(std::move(on_shutdown)) {}

connection::connection(std::unique_ptr<tls_stream> tls, request_handler& handler, wait_pool& waits,
                       answer_pool& answers, const options& limits, std::function<void()> on_close,
                       std::function<void()> on_shutdown)
    : connection(peer_socket(tls->get_executor()), handler, waits, answers, limits, std::move(on_close),
                 std::move(on_shutdown)) {
  tls_ = std::move(tls);
  tls_input_.resize(std::size_t{16} * 1024);
}

connection::~connection() {
  handler_.facts().answer_bytes_held -= outbox_.size() + in_flight_.size();  // unsent, never to be
  if (pending_wait_) wait_pool::cancel(*pending_wait_);
  end_lease();
  if (!authenticated_) --handler_.facts().handshakes_pending;
  if (on_close_) on_close_();
}

void connection::start(const core::process_identity& peer) {
  peer_.process = peer;
  const int on = 1;  // per-message credentials from here on (the listener has it too)
  ::setsockopt(socket_.native_handle(), SOL_SOCKET, SO_PASSCRED, &on, sizeof on);
  arm_idle_timer();
  do_read();
}

void connection::start_remote(std::string address) {
  remote_address_ = std::move(address);
  authenticated_ = false;
  ++handler_.facts().handshakes_pending;
  peer_.remote = true;
  peer_.lease = [this] {
    if (!session_) {
      session_ = handler_.segment().open_session();
      peer_.process = *session_;
      ++handler_.facts().leases;
      log().debug("{}: holds under TCP session {}", remote_address_, -session_->pid);
    }
    return *session_;
  };
  challenge_ = core::new_challenge();
  send({{"auth", "hmac-sha256"}, {"challenge", challenge_}, {"protocol_version", core::protocol_version}});
  arm_idle_timer();
  watch_silence();
  do_read();
}

void connection::watch_silence() {
  silence_timer_.expires_after(silence_check);
  silence_timer_.async_wait([weak = weak_from_this()](boost::system::error_code ec) {
    auto self = weak.lock();
    if (!self || ec || self->closing_) return;
    if (self->session_ && self->silence_.gone(self->socket().native_handle(), self->options_.lease)) {
      log().warn("{}: nothing heard from the peer's machine for over {} s: its connection and lease end",
                 self->remote_address_, self->options_.lease.count());
      return self->close();
    }
    self->watch_silence();
  });
}

// docs/protocol.md, "TCP and the key". Every failure looks the same to the peer and
// comes after the same delay; the connection reads nothing more meanwhile.
bool connection::authenticate(std::string_view line) {
  const auto grant = core::check_client_auth(line, challenge_, options_.key, options_.read_only_key);
  if (!grant) {
    ++handler_.facts().auth_failures;
    static log_budget budget;  // a peer can fail as often as it likes: its lines are rate-limited
    if (std::uint64_t left_out = 0; budget.allow(left_out)) {
      log().warn("{}: authentication failed (wrong key, or no auth line first); refusing after {} ms{}",
                 remote_address_, core::auth_failure_delay.count(),
                 left_out ? " (" + std::to_string(left_out) + " more failures in the last second not logged)" : "");
    }
    refused_ = true;  // reads nothing more
    retry_timer_.expires_after(core::auth_failure_delay);
    json id = json::parse(line, nullptr, false);
    id = id.is_object() ? id.value("id", json()) : json();
    retry_timer_.async_wait([self = shared_from_this(), id](boost::system::error_code ec) {
      if (ec) return;
      self->closing_ = true;
      self->send(core::make_error(id, errc::permission_denied,
                                  "authentication failed: this manager's TCP clients must prove they hold its key"));
    });
    return false;
  }
  authenticated_ = true;
  --handler_.facts().handshakes_pending;
  peer_.read_only = grant->read_only;
  const char* access = grant->read_only ? "read_only" : "read_write";
  const auto lease_ms = std::chrono::duration_cast<std::chrono::milliseconds>(options_.lease).count();
  send(core::make_result(grant->id, {{"proof", grant->proof}, {"access", access}, {"lease_ms", lease_ms}}));
  log().info("{}: authenticated ({})", remote_address_, access);
  arm_idle_timer();
  return true;
}

// What the peer held is freed as a dead holder's (by the watch loop, or by the
// next acquirer).
void connection::end_lease() {
  if (!session_) return;
  --handler_.facts().leases;
  handler_.segment().end_session(*session_);
  session_.reset();
}

void connection::refuse(errc code, const std::string& message) {
  closing_ = true;
  send(core::make_error(nullptr, code, message));
}

// Armed once per quiet spell, not per request: a request only notes its time
// (last_request_), and the timer, when it fires early, waits out the rest. Re-arming
// per request cost a timerfd update and a cancelled handler's run each time.
void connection::arm_idle_timer() {
  // A TCP peer has a few seconds to authenticate, whatever the idle timeout.
  constexpr std::chrono::milliseconds auth_deadline{10'000};
  auto timeout = idle_timeout_;
  if (!authenticated_ && (timeout.count() <= 0 || timeout > auth_deadline)) timeout = auth_deadline;
  if (timeout.count() <= 0) {
    idle_timer_.cancel();  // (the auth deadline, once authenticated)
    return;
  }
  last_request_ = std::chrono::steady_clock::now();
  idle_timer_.expires_at(last_request_ + timeout);
  wait_idle_timer();
}

void connection::wait_idle_timer() {
  idle_timer_.async_wait([weak = weak_from_this()](boost::system::error_code ec) {
    auto self = weak.lock();
    if (ec || !self) return;
    // A pending wait is not idleness, nor a TCP peer's lease: its keepalive says
    // whether it lives (a stopped client keeps what it holds, as a local one does).
    if (self->waiting_ || self->session_) return self->arm_idle_timer();
    const auto quiet_until = self->last_request_ + self->idle_timeout_;
    if (self->authenticated_ && quiet_until > std::chrono::steady_clock::now()) {
      self->idle_timer_.expires_at(quiet_until);  // a request came meanwhile
      return self->wait_idle_timer();
    }
    self->close();  // silent, or stalled half-way through a line
  });
}

void connection::close() {
  closing_ = true;  // nothing more is served, even a line already buffered
  boost::system::error_code ignored;
  if (pending_wait_) wait_pool::cancel(*pending_wait_);
  idle_timer_.cancel();
  retry_timer_.cancel();
  silence_timer_.cancel();
  end_lease();
  if (peer_.remote) {  // unread input would make the close a reset, and lose our last answer
    char discard[4096];
    for (int i = 0; i < 16 && ::recv(socket().native_handle(), discard, sizeof discard, MSG_DONTWAIT) > 0; ++i) {
    }
  }
  socket().shutdown(peer_socket::shutdown_both, ignored);
  socket().close(ignored);
}

// Serves the complete lines buffered (pipelined requests, without a read each),
// reads once when none is left, and otherwise waits for the socket. A loop, not
// recursion (10,000 pipelined lines do not grow the stack); one read and at most
// 32 lines or 50 µs a turn (the next goes through the io_context's queue), so a
// client that floods cannot keep the others waiting, even with slow requests such
// as a large dump, and a pipelined batch is answered in one write.
void connection::do_read() {
  constexpr int lines_per_turn = 32;
  constexpr auto time_per_turn = std::chrono::microseconds(50);
  bool received = false;
  int served = 0;
  std::chrono::steady_clock::time_point turn_start;
  while (!closing_ && !waiting_ && !refused_) {
    if (writing_ && (outbox_.size() > max_outbox || handler_.facts().answer_bytes_held > max_answer_memory_)) {
      reading_paused_ = true;  // until its answers are written (do_write resumes it)
      return;
    }
    reading_paused_ = false;
    const auto* data = static_cast<const char*>(input_.data().data());
    if (const void* end = std::memchr(data, '\n', input_.size())) {
      if (++served == 1) {
        turn_start = std::chrono::steady_clock::now();
      } else if (served > lines_per_turn || std::chrono::steady_clock::now() - turn_start > time_per_turn) {
        flush();
        return asio::post(socket().get_executor(), [self = shared_from_this()] { self->do_read(); });
      }
      if (!on_line(static_cast<std::size_t>(static_cast<const char*>(end) - data + 1))) return;
      continue;
    }
    if (!authenticated_ && input_.size() > 4096) {  // an auth line is short
      authenticate({});
      return;
    }
    if (input_.size() >= input_.max_size()) {  // the line outgrew the buffer
      closing_ = true;
      send(core::make_error(
          nullptr, errc::line_too_long,
          "request line over " + std::to_string(input_.max_size() - 1) + " bytes; closing the connection"));
      return;
    }
    if (received || !receive()) break;
    received = true;
  }
  if (closing_ || waiting_ || refused_ || !socket().is_open()) return;
  if (peer_done_) {
    // Every complete request it sent has been answered above (what is left is a
    // partial line): close once those answers are written, not before.
    closing_ = true;
    flush();
    return;
  }
  await_input();
}

void connection::await_input() {
  if (!tls_) {
    return socket_.async_wait(peer_socket::wait_read, [self = shared_from_this()](boost::system::error_code ec) {
      if (ec) return self->close();
      self->do_read();
    });
  }
  if (tls_reading_) return;
  tls_reading_ = true;
  const std::size_t room = std::min(tls_input_.size(), input_.max_size() - input_.size());
  tls_->async_read_some(
      asio::buffer(tls_input_.data(), room), [self = shared_from_this()](boost::system::error_code ec, std::size_t n) {
        self->tls_reading_ = false;
        if (self->closing_) return;
        if (n > 0) {
          std::memcpy(self->input_.prepare(n).data(), self->tls_input_.data(), n);
          self->input_.commit(n);
          self->handler_.facts().bytes_in += n;
        }
        if (ec) {
          // An end while a `wait` is pending ends the lease now (as on plain TCP);
          // otherwise (a deferred answer pending included) what it sent is
          // answered first.
          if (self->pending_wait_ || (ec != asio::error::eof && ec != asio::ssl::error::stream_truncated))
            return self->close();
          self->peer_done_ = true;
        }
        self->do_read();
      });
}

// One recvmsg, with the sender's credentials (SO_PASSCRED): the kernel never hands
// out bytes of two senders in one call, so each request is attributed to the
// process that wrote it, a fork child on its parent's connection included.
// The senders seen on this connection (a parent and its fork children, taking
// turns), so a switch costs no /proc read. A sender already gone by now gets a
// start time no process has: whatever its request takes is freed as a dead
// holder's at once (is_alive needs the exact process).
core::process_identity connection::identity_of(pid_t pid) {
  for (const auto& known : senders_) {
    if (known.pid == pid) return known;
  }
  core::process_identity who{pid, core::process_start_time(pid)};
  if (who.start_time == 0) who.start_time = ~std::uint64_t{0};
  if (senders_.size() == 8) senders_.erase(senders_.begin());
  senders_.push_back(who);
  return who;
}

bool connection::receive() {
  if (tls_) return false;  // TLS reads complete in await_input
  // As much again as is buffered (a long line grows geometrically), from 512 bytes:
  // an idle connection keeps a small buffer.
  const std::size_t room = std::min<std::size_t>(std::clamp<std::size_t>(input_.size(), 512, std::size_t{64} * 1024),
                                                 input_.max_size() - input_.size());
  auto buffer = input_.prepare(room);
  iovec io{buffer.data(), buffer.size()};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(ucred))];
  msghdr msg{};
  msg.msg_iov = &io;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  const ssize_t n = ::recvmsg(socket_.native_handle(), &msg, MSG_DONTWAIT);
  if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) return false;
  if (n == 0) {  // the peer sends no more (it may still read: a half-close)
    peer_done_ = true;
    return false;
  }
  if (n < 0) {  // the connection broke
    close();
    return false;
  }
  input_.commit(static_cast<std::size_t>(n));
  handler_.facts().bytes_in += static_cast<std::uint64_t>(n);
  for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_CREDENTIALS) continue;
    ucred sender{};
    std::memcpy(&sender, CMSG_DATA(c), sizeof sender);
    if (sender.pid > 0 && sender.pid != peer_.process.pid) peer_.process = identity_of(sender.pid);
  }
  return true;
}

bool connection::on_line(std::size_t bytes) {
  last_request_ = std::chrono::steady_clock::now();  // a complete request: the client is alive
  // A streambuf's readable bytes are one contiguous block: parse them in place.
  std::string_view line(static_cast<const char*>(input_.data().data()), bytes - 1);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  if (!authenticated_) {
    const bool accepted = authenticate(line);
    input_.consume(bytes);
    return accepted;
  }
  const bool blank = line.find_first_not_of(" \t") == std::string_view::npos;
  handler_outcome out = blank ? handler_outcome{} : handler_.handle_line(line, peer_);
  if (out.retry && (!busy_since_ || std::chrono::steady_clock::now() - *busy_since_ < busy_timeout_)) {
    retry_later();
    return false;
  }
  busy_since_.reset();
  input_.consume(bytes);
  if (out.wait) {
    flush();  // answers to the requests before it go now, not after the wait
    start_wait(*out.wait);
    return false;
  }
  if (out.deferred) {
    flush();
    start_deferred(std::move(out));
    return false;
  }
  if (!blank) {
    if (handler_.shutdown_requested()) {
      shutdown_after_write_ = true;
      closing_ = true;
    }
    if (!out.text.empty())
      queue_text(out.text);
    else
      queue(out.response, out.exact_id, out.refusable);
    waits_.answer_changed();  // this request may have changed what others wait on
  }
  // Pipelined requests already buffered are answered together, in one write, so a
  // client that sent 16 requests wakes once for 16 responses; a blank line counts as
  // nothing but never holds back the answers before it.
  const auto* data = static_cast<const char*>(input_.data().data());
  if (std::memchr(data, '\n', input_.size()) == nullptr) flush();
  return true;
}

}  // namespace mpstate::manager
