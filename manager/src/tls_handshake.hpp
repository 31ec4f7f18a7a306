// SPDX-License-Identifier: MIT
// TLS for --listen (--tls-cert, --tls-key, optionally --tls-ca for client
// certificates), through Asio's SSL stream. The handshake runs here, under a
// deadline; the stream it yields is served by an ordinary connection, which reads
// and writes through it (connection.hpp), so the key handshake, the leases and
// every op run inside TLS exactly as on plain TCP, in the same wake-up.
#pragma once

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <functional>
#include <memory>
#include <string>

#include "connection.hpp"
#include "mpstate/manager/options.hpp"

namespace mpstate::manager {

// The server's TLS context from the options. Throws error(invalid_argument) with
// the file that cannot be used.
std::unique_ptr<boost::asio::ssl::context> make_tls_context(const options& opts);

class tls_handshake : public std::enable_shared_from_this<tls_handshake> {
 public:
  explicit tls_handshake(std::unique_ptr<tls_stream> stream);
  // Runs the handshake (closing the socket if it takes over `deadline`); then hands
  // the stream to `serve`, or says why it failed to `on_failure`.
  void start(std::chrono::milliseconds deadline, std::function<void(std::unique_ptr<tls_stream>)> serve,
             std::function<void(const std::string&)> on_failure);
  bool in_handshake() const { return stream_ && !stopped_; }
  void stop();

 private:
  std::unique_ptr<tls_stream> stream_;
  boost::asio::steady_timer deadline_;
  bool stopped_ = false;
  bool timed_out_ = false;
};

}  // namespace mpstate::manager
