// SPDX-License-Identifier: MIT
#include "line_socket.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/ssl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <stdexcept>

#include "mpstate/core/auth.hpp"

namespace mpstate::bench {

line_socket::line_socket(const std::string& path, const std::string& key) {
  if (core::is_network_url(path)) {
    const core::tcp_address where = core::parse_tcp_address(path);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(where.port);
    if (inet_pton(AF_INET, where.host.c_str(), &addr.sin_addr) != 1) {
      throw std::runtime_error("the bench connects to IPv4 addresses: " + path);
    }
    fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    const int on = 1;
    setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
    if (connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      int err = errno;
      close(fd_);
      throw std::runtime_error("connect " + path + ": " + std::strerror(err));
    }
    if (core::is_tls_url(path)) start_tls();
    authenticate(key);
    return;
  }
  fd_ = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
  if (connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    int err = errno;
    close(fd_);
    throw std::runtime_error("connect " + path + ": " + std::strerror(err));
  }
}

line_socket::~line_socket() {
  if (tls_) SSL_free(static_cast<SSL*>(tls_));
  if (tls_context_) SSL_CTX_free(static_cast<SSL_CTX*>(tls_context_));
  close(fd_);
}

void line_socket::start_tls() {
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  tls_context_ = ctx;
  const char* ca = std::getenv("MPSTATE_TLS_CA");
  if (!ca || SSL_CTX_load_verify_locations(ctx, ca, nullptr) != 1)
    throw std::runtime_error("tls://: no $MPSTATE_TLS_CA");
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
  SSL* ssl = SSL_new(ctx);
  tls_ = ssl;
  SSL_set_fd(ssl, fd_);
  if (SSL_connect(ssl) != 1) throw std::runtime_error("TLS handshake failed");
}

// docs/protocol.md, "TCP and the key".
void line_socket::authenticate(const std::string& key) {
  const core::client_handshake sent = core::answer_challenge(read_line(), key, 1);
  send(sent.line);
  core::check_manager_answer(read_line(), sent);
}

void line_socket::send(const std::string& bytes) {
  std::size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = tls_ ? SSL_write(static_cast<SSL*>(tls_), bytes.data() + done, static_cast<int>(bytes.size() - done))
                     : ::send(fd_, bytes.data() + done, bytes.size() - done, MSG_NOSIGNAL);
    if (n <= 0) throw std::runtime_error("send failed");
    done += static_cast<std::size_t>(n);
  }
}

void line_socket::fill() {
  if (start_ > 0 && start_ == buffer_.size()) {
    buffer_.clear();
    start_ = 0;
  }
  char buf[65536];
  ssize_t n = tls_ ? SSL_read(static_cast<SSL*>(tls_), buf, sizeof buf) : ::recv(fd_, buf, sizeof buf, 0);
  if (n <= 0) throw std::runtime_error("the manager closed the connection");
  buffer_.append(buf, static_cast<std::size_t>(n));
}

std::string line_socket::read_line() {
  while (true) {
    auto nl = buffer_.find('\n', start_);
    if (nl != std::string::npos) {
      std::string line = buffer_.substr(start_, nl - start_);
      start_ = nl + 1;
      return line;
    }
    fill();
  }
}

int line_socket::read_responses(int n, std::string* first_error, std::uint64_t* swapped) {
  int errors = 0;
  for (int got = 0; got < n;) {
    auto nl = buffer_.find('\n', start_);
    if (nl == std::string::npos) {
      fill();
      continue;
    }
    if (buffer_.compare(start_, 9, "{\"error\":") == 0) {
      if (errors++ == 0 && first_error) *first_error = buffer_.substr(start_, nl - start_);
    }
    if (swapped && buffer_.find(R"("ok":true)", start_) < nl) ++*swapped;  // a cas that stored
    start_ = nl + 1;
    ++got;
  }
  return errors;
}

}  // namespace mpstate::bench
