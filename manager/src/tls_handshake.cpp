// SPDX-License-Identifier: MIT
#include "tls_handshake.hpp"

#include "mpstate/error.hpp"

namespace mpstate::manager {

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

tls_handshake::tls_handshake(std::unique_ptr<tls_stream> stream)
    : stream_(std::move(stream)), deadline_(stream_->get_executor()) {}

void tls_handshake::start(std::chrono::milliseconds deadline, std::function<void(std::unique_ptr<tls_stream>)> serve,
                          std::function<void(const std::string&)> on_failure) {
  deadline_.expires_after(deadline);
  deadline_.async_wait([weak = weak_from_this()](boost::system::error_code ec) {
    if (auto self = weak.lock(); self && !ec) {  // a handshake that never ends
      self->timed_out_ = true;
      self->stop();
    }
  });
  stream_->async_handshake(
      ssl::stream_base::server, [self = shared_from_this(), serve = std::move(serve),
                                 on_failure = std::move(on_failure)](boost::system::error_code ec) {
        self->deadline_.cancel();
        if (ec || self->stopped_) {
          on_failure(self->timed_out_ ? "no handshake within the deadline" : ec ? ec.message() : "let go");
          return self->stop();
        }
        serve(std::move(self->stream_));
      });
}

void tls_handshake::stop() {
  if (stopped_) return;
  stopped_ = true;
  deadline_.cancel();
  if (!stream_) return;  // handed over: the connection closes it
  boost::system::error_code ignored;
  stream_->lowest_layer().shutdown(peer_socket::shutdown_both, ignored);
  stream_->lowest_layer().close(ignored);
}

}  // namespace mpstate::manager
