// SPDX-License-Identifier: MIT
#include "socket_channel.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <nlohmann/json.hpp>

#include "mpstate/core/auth.hpp"
#include "mpstate/core/protocol.hpp"
#include "mpstate/core/tcp_liveness.hpp"
#include "mpstate/error.hpp"

namespace mpstate::detail {

namespace asio = boost::asio;

socket_channel::socket_channel(const std::string& address, const std::string& key)
    : owner_pid_(getpid()), address_(address) {
  if (core::is_network_url(address)) {
    remote_ = true;
    connect_tcp(key);
    return;
  }
  boost::system::error_code ec;
  socket_.connect(asio::local::stream_protocol::endpoint(address), ec);
  if (ec) {
    throw error(errc::manager_unavailable, "no manager at " + address + ": " + ec.message());
  }
}

// The manager speaks first (its challenge); the client answers with its proof and
// challenge; the manager's proof comes back, and is checked before anything is sent.
void socket_channel::connect_tcp(const std::string& key) {
  const core::tcp_address where = core::parse_tcp_address(address_);
  if (key.empty()) {
    throw error(errc::permission_denied,
                "a tcp:// manager needs its key: $MPSTATE_KEY_FILE (a file only you may "
                "read), $MPSTATE_KEY, or ClientOptions::key");
  }
  boost::system::error_code ec;
  asio::ip::tcp::resolver resolver(io_);
  auto found = resolver.resolve(where.host, std::to_string(where.port), ec);
  if (!ec) {
    ec = asio::error::host_not_found;
    for (const auto& entry : found) {
      socket_.close();
      socket_.connect(entry.endpoint(), ec);
      if (!ec) break;
    }
  }
  if (ec) throw error(errc::manager_unavailable, "no manager at " + address_ + ": " + ec.message());
  const int on = 1;
  ::setsockopt(socket_.native_handle(), IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
  if (!core::is_tls_url(address_)) set_slices();
  if (core::is_tls_url(address_)) {
    start_tls(where.host);
  } else {  // a TLS manager says nothing until it hears a TLS hello: do not wait for ever
    pollfd ready{socket_.native_handle(), POLLIN, 0};
    if (::poll(&ready, 1, 5000) != 1) {
      throw error(errc::manager_unavailable, address_ + " sent no challenge within 5 s: if it serves TLS, use tls://");
    }
  }

  const core::client_handshake sent = core::answer_challenge(read_text(), key, next_id_++);
  write_all(sent.line, ec);
  if (ec) throw error(errc::manager_unavailable, "lost the manager at " + address_ + ": " + ec.message());
  lease_ = core::check_manager_answer(read_text(), sent).lease;
  core::keep_tcp_alive(socket_.native_handle(), std::chrono::ceil<std::chrono::seconds>(lease_));
  if (!tls_) set_slices();
}

std::size_t socket_channel::run_tls(const std::function<void(tls_completion)>& start, boost::system::error_code& ec) {
  core::tcp_silence_watch silence;
  bool done = false;
  std::size_t moved = 0;
  start([&](boost::system::error_code e, std::size_t bytes) {
    ec = e;
    moved = bytes;
    done = true;
  });
  while (!done) {
    io_.restart();
    if (io_.run_one_for(std::chrono::milliseconds(slice_ms())) > 0 || done) continue;
    try {
      check_heard(silence);
    } catch (...) {
      socket_.close();  // the operation completes, aborted, before its handler's frame goes
      io_.restart();
      io_.run();
      throw;
    }
  }
  return moved;
}

int socket_channel::slice_ms() const { return static_cast<int>(std::clamp<std::int64_t>(lease_.count() / 4, 50, 250)); }

void socket_channel::check_heard(core::tcp_silence_watch& silence) {
  if (!silence.gone(socket_.native_handle(), lease_)) return;
  throw error(errc::manager_unavailable, "nothing heard from " + address_ + " for over " +
                                             std::to_string(lease_.count()) +
                                             " ms (its machine or the network is gone): the connection, and what this "
                                             "client held over it, are lost");
}

// Plain TCP: the socket's own timeouts (SO_RCVTIMEO, SO_SNDTIMEO) make a blocked read
// or write come back every slice, so the common case is one system call, and the
// silence check runs only while the manager keeps us waiting.
void socket_channel::set_slices() {
  const timeval slice{0, static_cast<suseconds_t>(slice_ms()) * 1000};
  ::setsockopt(socket_.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &slice, sizeof slice);
  ::setsockopt(socket_.native_handle(), SOL_SOCKET, SO_SNDTIMEO, &slice, sizeof slice);
}

void socket_channel::start_tls(const std::string& host) {
  namespace ssl = asio::ssl;
  tls_context_ = std::make_unique<ssl::context>(ssl::context::tls_client);
  tls_context_->set_options(ssl::context::no_sslv2 | ssl::context::no_sslv3 | ssl::context::no_tlsv1 |
                            ssl::context::no_tlsv1_1);
  boost::system::error_code ec;
  const char* ca = std::getenv("MPSTATE_TLS_CA");
  if (ca && *ca)
    tls_context_->load_verify_file(ca, ec);
  else
    tls_context_->set_default_verify_paths(ec);
  if (ec)
    throw error(errc::invalid_argument,
                std::string("cannot use $MPSTATE_TLS_CA ") + (ca ? ca : "") + ": " + ec.message());
  const char* cert = std::getenv("MPSTATE_TLS_CERT");
  const char* key = std::getenv("MPSTATE_TLS_KEY");
  if (cert && *cert) {
    tls_context_->use_certificate_chain_file(cert, ec);
    if (!ec) tls_context_->use_private_key_file(key ? key : cert, ssl::context::pem, ec);
    if (ec) throw error(errc::invalid_argument, std::string("cannot use $MPSTATE_TLS_CERT/KEY: ") + ec.message());
  }
  tls_ = std::make_unique<ssl::stream<asio::generic::stream_protocol::socket&>>(socket_, *tls_context_);
  tls_->set_verify_mode(ssl::verify_peer);
  tls_->set_verify_callback(ssl::host_name_verification(host));
  boost::system::error_code not_an_address;
  asio::ip::make_address(host, not_an_address);
  if (not_an_address) SSL_set_tlsext_host_name(tls_->native_handle(), host.c_str());  // SNI, for names only
  bool done = false;  // asynchronous, to bound it: a silent peer does not hang us
  tls_->async_handshake(ssl::stream_base::client, [&](boost::system::error_code e) {
    ec = e;
    done = true;
  });
  io_.restart();
  io_.run_for(std::chrono::seconds(10));
  if (!done) {
    socket_.close();
    io_.restart();
    io_.run();  // the handshake completes, aborted
    throw error(errc::manager_unavailable, "TLS with " + address_ + " did not finish within 10 s");
  }
  if (ec) {
    throw error(errc::permission_denied, "TLS with " + address_ + " failed: " + ec.message() +
                                             " (is its certificate signed by $MPSTATE_TLS_CA, for this host?)");
  }
}

void socket_channel::write_all(const std::string& bytes, boost::system::error_code& ec) {
  if (!remote_) {
    asio::write(socket_, asio::buffer(bytes), ec);
    return;
  }
  core::tcp_silence_watch silence;
  for (std::size_t done = 0; done < bytes.size() && !ec;) {
    if (tls_) {
      done += run_tls(
          [&](tls_completion completion) {
            tls_->async_write_some(asio::buffer(bytes.data() + done, bytes.size() - done), std::move(completion));
          },
          ec);
      continue;
    }
    const ssize_t n = ::send(socket_.native_handle(), bytes.data() + done, bytes.size() - done, MSG_NOSIGNAL);
    if (n > 0) {
      done += static_cast<std::size_t>(n);
    } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      check_heard(silence);  // a slice went by, blocked: is the manager's machine still there?
    } else if (n < 0 && errno != EINTR) {
      ec = boost::system::error_code(errno, boost::system::system_category());
    }
  }
}

void socket_channel::read_line_into(boost::system::error_code& ec) {
  if (!remote_) {
    asio::read_until(socket_, input_, '\n', ec);
    return;
  }
  core::tcp_silence_watch silence;
  std::size_t scanned = 0;
  while (!ec) {
    const char* data = static_cast<const char*>(input_.data().data());
    if (std::memchr(data + scanned, '\n', input_.size() - scanned)) return;
    scanned = input_.size();
    auto room = input_.prepare(std::size_t{64} * 1024);
    if (tls_) {
      input_.commit(
          run_tls([&](tls_completion completion) { tls_->async_read_some(room, std::move(completion)); }, ec));
      continue;
    }
    const ssize_t n = ::recv(socket_.native_handle(), room.data(), room.size(), 0);
    if (n > 0) {
      input_.commit(static_cast<std::size_t>(n));
    } else if (n == 0) {
      ec = asio::error::eof;
    } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
      check_heard(silence);
    } else if (errno != EINTR) {
      ec = boost::system::error_code(errno, boost::system::system_category());
    }
  }
}

std::string socket_channel::read_text() {
  boost::system::error_code ec;
  read_line_into(ec);
  if (ec) throw error(errc::manager_unavailable, "lost the manager at " + address_ + ": " + ec.message());
  std::string text;
  std::istream in(&input_);
  std::getline(in, text);
  return text;
}

nlohmann::json socket_channel::read_message() {
  nlohmann::json message = nlohmann::json::parse(read_text(), nullptr, false);
  if (!message.is_object()) throw error(errc::internal, "manager sent a malformed line");
  return message;
}

// A poll and at most a peek: about a microsecond against a round trip of tens.
// One peek on plain TCP (a poll and maybe a peek through TLS): under a microsecond
// against a round trip of tens.
bool socket_channel::closed_by_peer() const {
  const int fd = const_cast<socket_channel*>(this)->socket_.native_handle();
  if (tls_) {
    pollfd ready{fd, POLLIN | POLLRDHUP, 0};
    if (::poll(&ready, 1, 0) <= 0) return false;
    return (ready.revents & (POLLERR | POLLHUP | POLLRDHUP)) != 0;  // TLS bytes: left for the read to judge
  }
  char byte;
  const ssize_t n = ::recv(fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT);
  return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR);
}

std::optional<nlohmann::json> socket_channel::round_trip(const nlohmann::json& request) {
  // Over TCP, a connection the manager ended (its lease lapsed while the network was
  // cut, say) is not written to: the request goes on a new one, whose lease session
  // is new (client_core::session), so what was held over this one is told lost.
  if (remote_ && closed_by_peer()) return std::nullopt;
  const std::uint64_t id = next_id_++;
  nlohmann::json numbered = request;
  numbered["id"] = id;
  std::string line = core::to_line(numbered);
  boost::system::error_code ec;
  write_all(line, ec);
  if (ec) {
    throw_refusal_if_any();  // a manager that refuses a client answers, then closes
    return std::nullopt;
  }
  nlohmann::json response = read_message();
  if (response.value("id", nlohmann::json()) != id && !response.contains("error")) {
    throw error(errc::internal, "manager answered id " + response.value("id", nlohmann::json()).dump() + ", expected " +
                                    std::to_string(id));
  }
  return response;
}

void socket_channel::throw_refusal_if_any() {
  boost::system::error_code ec;
  read_line_into(ec);  // the peer has closed: this ends at EOF
  if (ec && input_.size() == 0) return;
  std::string text;
  std::istream in(&input_);
  std::getline(in, text);
  nlohmann::json refusal = nlohmann::json::parse(text, nullptr, false);
  if (refusal.is_object() && refusal.contains("error") && refusal["error"].is_object()) {
    const auto& e = refusal["error"];
    throw error(errc_from_string(e.value("code", "")), e.value("message", ""));
  }
}

}  // namespace mpstate::detail
