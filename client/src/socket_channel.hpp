// SPDX-License-Identifier: MIT
// A blocking line-per-message connection to a manager: its Unix socket, or
// "tcp://HOST:PORT" with the key handshake (docs/protocol.md, "TCP and the key"),
// or "tls://HOST:PORT": the same inside TLS, the manager's certificate checked
// against $MPSTATE_TLS_CA (else the system's CAs) and the host name; a client
// certificate from $MPSTATE_TLS_CERT and $MPSTATE_TLS_KEY when the manager asks.
#pragma once

#include <sys/types.h>

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "mpstate/core/tcp_liveness.hpp"
#include "request_channel.hpp"

namespace mpstate::detail {

class socket_channel : public request_channel {
 public:
  // Throws error(manager_unavailable) when nothing listens at `address`, and over
  // TCP error(permission_denied) when the key is missing or either side's proof fails.
  socket_channel(const std::string& address, const std::string& key);
  // Sends `request` (an "id" is added) and returns the whole response object, or
  // nullopt when the request could not be sent at all (the manager went away
  // before it: safe to resend on a new connection). Throws error(manager_unavailable)
  // when the connection breaks after sending (the request may have been applied).
  std::optional<nlohmann::json> round_trip(const nlohmann::json& request) override;
  pid_t owner_pid() const override { return owner_pid_; }
  bool ownership_is_per_connection() const override { return remote_; }

 private:
  void connect_tcp(const std::string& key);
  void start_tls(const std::string& host);
  // Whole writes and line reads, through TLS when it is on. Over TCP they never
  // wait blind: they wait in slices and, between them, take a manager whose machine
  // has answered nothing for the lease (not even keepalive probes) as gone
  // (manager_unavailable), so a cut network ends a blocked call within about the
  // lease, and a client holding something is told it lost it (client_core::session).
  void write_all(const std::string& bytes, boost::system::error_code& ec);
  void read_line_into(boost::system::error_code& ec);
  // Runs one asynchronous TLS read or write (`start` begins it with the completion
  // it is given) to its end, in those slices; returns the bytes it moved. (A TLS
  // stream's plaintext may wait in its buffers while the socket has nothing, so
  // polling the socket first could wait for ever.)
  using tls_completion = std::function<void(boost::system::error_code, std::size_t)>;
  std::size_t run_tls(const std::function<void(tls_completion)>& start, boost::system::error_code& ec);
  int slice_ms() const;
  // Throws manager_unavailable when `silence` finds the manager's machine gone.
  void check_heard(core::tcp_silence_watch& silence);
  void set_slices();
  // Whether the manager has closed (or reset) this connection: its FIN or RST arrived.
  bool closed_by_peer() const;
  // The next line (parsed); throws error(manager_unavailable) when the connection ends.
  std::string read_text();
  nlohmann::json read_message();
  // After a failed send: when the manager left an error line before closing (it
  // refused this client: permission_denied, too_many_connections), throws it.
  void throw_refusal_if_any();

  boost::asio::io_context io_;
  boost::asio::generic::stream_protocol::socket socket_{io_};
  std::unique_ptr<boost::asio::ssl::context> tls_context_;
  std::unique_ptr<boost::asio::ssl::stream<boost::asio::generic::stream_protocol::socket&>> tls_;
  boost::asio::streambuf input_;
  std::uint64_t next_id_ = 1;
  pid_t owner_pid_;
  std::string address_;
  bool remote_ = false;                    // tcp:// or tls://
  std::chrono::milliseconds lease_{5000};  // the manager's, from its auth answer
};

}  // namespace mpstate::detail
