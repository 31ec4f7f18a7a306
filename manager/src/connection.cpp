#include "connection.hpp"

#include "mpstate/core/segment.hpp"

namespace mpstate::manager {

namespace {
// Past this many unsent response bytes we stop reading requests from this client
// until it reads its responses: its backlog cannot grow without bound.
constexpr std::size_t max_outbox = 4 << 20;
constexpr auto wait_poll_interval = std::chrono::milliseconds(1);
}  // namespace

connection::connection(unix_socket socket, request_handler& handler, std::size_t max_line,
                       std::function<void()> on_close, std::function<void()> on_shutdown)
    : socket_(std::move(socket)),
      handler_(handler),
      input_(max_line + 1),
      wait_timer_(socket_.get_executor()),
      on_close_(std::move(on_close)),
      on_shutdown_(std::move(on_shutdown)) {}

connection::~connection() {
  if (wait_) core::segment::unbind(wait_->record);
  if (on_close_) on_close_();
}

void connection::start(const core::process_identity& peer) {
  peer_ = peer;
  do_read();
}

void connection::refuse(const std::string& message) {
  closing_ = true;
  send(core::make_error(nullptr, errc::permission_denied, message));
}

void connection::close() {
  boost::system::error_code ignored;
  wait_timer_.cancel();
  socket_.shutdown(unix_socket::shutdown_both, ignored);
  socket_.close(ignored);
}

void connection::do_read() {
  if (closing_ || wait_) return;
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
  std::string line(asio::buffers_begin(input_.data()), asio::buffers_begin(input_.data()) + bytes - 1);
  input_.consume(bytes);
  if (!line.empty() && line.back() == '\r') line.pop_back();
  if (line.find_first_not_of(" \t") == std::string::npos) return do_read();  // blank: ignore
  handler_outcome out = handler_.handle_line(line, peer_);
  if (out.wait) {
    wait_ = std::move(out.wait);
    return poll_wait();
  }
  if (handler_.shutdown_requested()) {
    shutdown_after_write_ = true;
    closing_ = true;
  }
  send(out.response);
  do_read();
}

// The socket `wait` op checks the version every millisecond; local proxies sleep
// on the futex instead (core::wait_for_change).
void connection::poll_wait() {
  const std::uint64_t now = wait_->record->version.load();
  const bool changed = now != wait_->seen_version;
  if (changed || std::chrono::steady_clock::now() >= wait_->deadline) {
    core::json response = core::make_result(wait_->id, {{"version", now}, {"changed", changed}});
    core::segment::unbind(wait_->record);
    wait_.reset();
    send(response);
    return do_read();
  }
  wait_timer_.expires_after(wait_poll_interval);
  wait_timer_.async_wait([self = shared_from_this()](boost::system::error_code ec) {
    if (!ec && self->wait_) self->poll_wait();
  });
}

void connection::send(const core::json& response) {
  outbox_ += core::to_line(response);
  if (!writing_) do_write();
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
