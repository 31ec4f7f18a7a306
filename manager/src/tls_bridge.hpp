// SPDX-License-Identifier: MIT
// TLS for --listen (--tls-cert, --tls-key, optionally --tls-ca for client
// certificates), through Asio's SSL stream. After the TLS handshake the bridge
// carries the plaintext to an ordinary connection over a socketpair, so the key
// handshake, the leases and every op run inside TLS exactly as on plain TCP; when
// either side ends, so does the other (and with it the connection's lease).
#pragma once

#include <array>
#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <functional>
#include <memory>
#include <string>

#include "mpstate/core/tcp_liveness.hpp"
#include "mpstate/manager/options.hpp"

namespace mpstate::manager {

// The server's TLS context from the options. Throws error(invalid_argument) with
// the file that cannot be used.
std::unique_ptr<boost::asio::ssl::context> make_tls_context(const options& opts);

class tls_bridge : public std::enable_shared_from_this<tls_bridge> {
 public:
  using tls_stream = boost::asio::ssl::stream<boost::asio::ip::tcp::socket>;
  using inner_socket = boost::asio::local::stream_protocol::socket;

  // `lease`: once TLS is up, a peer whose machine stays silent that long (core::tcp_silence_watch)
  // ends the bridge, and with it the connection's lease.
  tls_bridge(tls_stream stream, std::chrono::seconds lease);
  // Runs the TLS handshake (closing the socket if it takes over `deadline`); then
  // calls `serve` with the plaintext side's other end, and carries bytes both ways.
  void start(std::chrono::milliseconds deadline, std::function<void(inner_socket)> serve,
             std::function<void(const std::string&)> on_failure);
  // Still in its TLS handshake.
  bool in_handshake() const { return !serving_ && !stopped_; }
  void stop();

 private:
  // Carries what `from` reads to `to`, through `buffer`, until either side ends.
  template <class From, class To>
  void pump(From& from, To& to, std::array<char, std::size_t{16} * 1024>& buffer);
  void watch_silence();

  tls_stream tls_;
  inner_socket inner_;
  boost::asio::steady_timer deadline_;
  boost::asio::steady_timer silence_timer_;
  std::chrono::seconds lease_;
  core::tcp_silence_watch silence_;
  std::array<char, std::size_t{16} * 1024> from_tls_{}, from_inner_{};
  bool stopped_ = false;
  bool serving_ = false;
};

}  // namespace mpstate::manager
