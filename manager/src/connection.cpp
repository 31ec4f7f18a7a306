#include "connection.hpp"

#include <cstring>

#include "mpstate/core/segment.hpp"

namespace mpstate::manager {

namespace {
// Past this many unsent response bytes we stop reading requests from this client
// until it reads its responses: its backlog cannot grow without bound.
constexpr std::size_t max_outbox = 4 << 20;
}  // namespace

connection::connection(unix_socket socket, request_handler& handler, wait_pool& waits, const options& limits,
                       std::function<void()> on_close, std::function<void()> on_shutdown)
    : socket_(std::move(socket)),
      handler_(handler),
      input_(limits.max_line + 1),
      waits_(waits),
      idle_timeout_(limits.idle_timeout),
      idle_timer_(socket_.get_executor()),
      busy_timeout_(limits.busy_timeout),
      retry_timer_(socket_.get_executor()),
      on_close_(std::move(on_close)),
      on_shutdown_(std::move(on_shutdown)) {}

connection::~connection() {
  if (pending_wait_) wait_pool::cancel(*pending_wait_);
  if (on_close_) on_close_();
}

void connection::start(const core::process_identity& peer) {
  peer_ = peer;
  arm_idle_timer();
  do_read();
}

void connection::refuse(errc code, const std::string& message) {
  closing_ = true;
  send(core::make_error(nullptr, code, message));
}

void connection::arm_idle_timer() {
  if (idle_timeout_.count() <= 0) return;
  idle_timer_.expires_after(idle_timeout_);
  idle_timer_.async_wait([weak = weak_from_this()](boost::system::error_code ec) {
    auto self = weak.lock();
    if (ec || !self) return;
    if (self->waiting_) return self->arm_idle_timer();  // a pending wait is not idleness
    self->close();  // silent, or stalled half-way through a line
  });
}

void connection::close() {
  boost::system::error_code ignored;
  if (pending_wait_) wait_pool::cancel(*pending_wait_);
  idle_timer_.cancel();
  retry_timer_.cancel();
  socket_.shutdown(unix_socket::shutdown_both, ignored);
  socket_.close(ignored);
}

void connection::do_read() {
  if (closing_ || waiting_) return;
  if (writing_ && outbox_.size() > max_outbox) {
    reading_paused_ = true;
    return;
  }
  reading_paused_ = false;
  asio::async_read_until(socket_, input_, '\n',
                         [self = shared_from_this()](boost::system::error_code ec, std::size_t n) {
                           if (!ec) return self->on_line(n);
                           if (ec == asio::error::not_found) {  // the line outgrew the buffer
                             self->closing_ = true;
                             self->send(core::make_error(nullptr, errc::line_too_long,
                                                         "request line over " +
                                                             std::to_string(self->input_.max_size() - 1) +
                                                             " bytes; closing the connection"));
                             return;
                           }
                           self->close();
                         });
}

void connection::on_line(std::size_t bytes) {
  arm_idle_timer();  // a complete request: the client is alive
  // A streambuf's readable bytes are one contiguous block: parse them in place.
  std::string_view line(static_cast<const char*>(input_.data().data()), bytes - 1);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  const bool blank = line.find_first_not_of(" \t") == std::string_view::npos;
  handler_outcome out = blank ? handler_outcome{} : handler_.handle_line(line, peer_);
  if (out.retry && (!busy_since_ || std::chrono::steady_clock::now() - *busy_since_ < busy_timeout_)) {
    return retry_later(bytes);
  }
  busy_since_.reset();
  input_.consume(bytes);
  if (out.wait) {
    flush();  // answers to the requests before it go now, not after the wait
    return start_wait(std::move(*out.wait));
  }
  if (!blank) {
    if (handler_.shutdown_requested()) {
      shutdown_after_write_ = true;
      closing_ = true;
    }
    queue(out.response);
    waits_.answer_changed();  // this request may have changed what others wait on
  }
  // Pipelined requests already buffered are answered together, in one write, so a
  // client that sent 16 requests wakes once for 16 responses; a blank line counts as
  // nothing but never holds back the answers before it.
  const auto* data = static_cast<const char*>(input_.data().data());
  if (std::memchr(data, '\n', input_.size()) == nullptr) flush();
  do_read();
}

void connection::retry_later(std::size_t bytes) {
  if (!busy_since_) busy_since_ = std::chrono::steady_clock::now();
  flush();  // the answers before it need not wait
  retry_timer_.expires_after(std::chrono::milliseconds(1));
  retry_timer_.async_wait([self = shared_from_this(), bytes](boost::system::error_code ec) {
    if (!ec && !self->closing_) self->on_line(bytes);
  });
}

// A waiter thread sleeps on the variable's futex (as local proxies do) and hands
// the answer back here; reading resumes after it, so responses stay in order.
void connection::start_wait(pending_wait wait) {
  waiting_ = true;
  // The completion holds the connection: nothing else is pending on it meanwhile.
  pending_wait_ = waits_.start(wait.record, wait.seen_version, wait.deadline,
                                 [self = shared_from_this(), id = wait.id](std::uint64_t version, bool changed) {
                                   self->finish_wait(id, version, changed);
                                 });
}

void connection::finish_wait(const core::json& id, std::uint64_t version, bool changed) {
  waiting_ = false;
  pending_wait_.reset();
  send(core::make_result(id, {{"version", version}, {"changed", changed}}));
  do_read();
}

void connection::queue(const core::json& response) { outbox_ += core::to_line(response); }

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
  asio::async_write(socket_, asio::buffer(in_flight_),
                    [self = shared_from_this()](boost::system::error_code ec, std::size_t) {
                      if (ec) {
                        self->writing_ = false;
                        return self->close();
                      }
                      self->do_write();
                    });
}

}  // namespace mpstate::manager
