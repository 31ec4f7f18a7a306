// SPDX-License-Identifier: MIT
#include "tls_bridge.hpp"

#include "mpstate/error.hpp"
#include "tcp_listener.hpp"

namespace mpstate::manager {

namespace asio = boost::asio;
namespace ssl = asio::ssl;

std::unique_ptr<ssl::context> make_tls_context(const options& opts) {
  auto ctx = std::make_unique<ssl::context>(ssl::context::tls_server);
  ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                   ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 | ssl::context::single_dh_use);
  auto load = [](const std::string& what, const std::string& path, auto&& fn) {
    boost::system::error_code ec;
    fn(ec);
    if (ec) throw error(errc::invalid_argument, "cannot use " + what + " " + path + ": " + ec.message());
  };
  load("--tls-cert", opts.tls_cert, [&](auto& ec) { ctx->use_certificate_chain_file(opts.tls_cert, ec); });
  load("--tls-key", opts.tls_key, [&](auto& ec) { ctx->use_private_key_file(opts.tls_key, ssl::context::pem, ec); });
  if (!opts.tls_ca.empty()) {  // client certificates, signed by this CA, are required
    load("--tls-ca", opts.tls_ca, [&](auto& ec) { ctx->load_verify_file(opts.tls_ca, ec); });
    ctx->set_verify_mode(ssl::verify_peer | ssl::verify_fail_if_no_peer_cert);
  }
  return ctx;
}

tls_bridge::tls_bridge(tls_stream stream, std::chrono::seconds lease)
    : tls_(std::move(stream)),
      inner_(tls_.get_executor()),
      deadline_(tls_.get_executor()),
      silence_timer_(tls_.get_executor()),
      lease_(lease) {}

void tls_bridge::watch_silence() {
  silence_timer_.expires_after(silence_check);
  silence_timer_.async_wait([weak = weak_from_this()](boost::system::error_code ec) {
    auto self = weak.lock();
    if (!self || ec || self->stopped_) return;
    if (self->silence_.gone(self->tls_.lowest_layer().native_handle(), self->lease_)) return self->stop();
    self->watch_silence();
  });
}

void tls_bridge::start(std::chrono::milliseconds deadline, std::function<void(inner_socket)> serve,
                       std::function<void(const std::string&)> on_failure) {
  deadline_.expires_after(deadline);
  deadline_.async_wait([weak = weak_from_this()](boost::system::error_code ec) {
    if (auto self = weak.lock(); self && !ec) self->stop();  // a handshake that never ends
  });
  tls_.async_handshake(ssl::stream_base::server, [self = shared_from_this(), serve = std::move(serve),
                                                  on_failure = std::move(on_failure)](boost::system::error_code ec) {
    self->deadline_.cancel();
    if (ec) {
      on_failure(ec.message());
      return self->stop();
    }
    inner_socket outer(self->inner_.get_executor());
    asio::local::connect_pair(self->inner_, outer, ec);
    if (ec) {
      on_failure("socketpair: " + ec.message());
      return self->stop();
    }
    self->serving_ = true;
    serve(std::move(outer));
    self->watch_silence();
    self->pump(self->tls_, self->inner_, self->from_tls_);
    self->pump(self->inner_, self->tls_, self->from_inner_);
  });
}

template <class From, class To>
void tls_bridge::pump(From& from, To& to, std::array<char, std::size_t{16} * 1024>& buffer) {
  from.async_read_some(asio::buffer(buffer), [self = shared_from_this(), &from, &to, &buffer](
                                                 boost::system::error_code ec, std::size_t n) {
    if (ec) return self->stop();
    asio::async_write(to, asio::buffer(buffer.data(), n),
                      [self, &from, &to, &buffer](boost::system::error_code write_ec, std::size_t) {
                        if (write_ec) return self->stop();
                        self->pump(from, to, buffer);
                      });
  });
}

// Either side ended: end both (the connection sees its end close and ends its lease).
void tls_bridge::stop() {
  if (stopped_) return;
  stopped_ = true;
  boost::system::error_code ignored;
  deadline_.cancel();
  silence_timer_.cancel();
  inner_.shutdown(inner_socket::shutdown_both, ignored);
  inner_.close(ignored);
  tls_.lowest_layer().shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
  tls_.lowest_layer().close(ignored);
}

}  // namespace mpstate::manager
