// SPDX-License-Identifier: MIT
// A blocking connection for raw protocol lines (pipelined runs, setup): a Unix
// socket path, or tcp://IPv4:PORT with the key handshake done before anything else,
// or tls://IPv4:PORT: the same inside TLS (the CA in $MPSTATE_TLS_CA).
#pragma once

#include <string>

namespace mpstate::bench {

class line_socket {
 public:
  explicit line_socket(const std::string& path, const std::string& key = {});
  ~line_socket();  // closes
  line_socket(const line_socket&) = delete;
  line_socket& operator=(const line_socket&) = delete;
  void send(const std::string& bytes);
  // Reads `n` response lines; returns how many carried an "error" (and counts in
  // `swapped` those of a cas that stored).
  int read_responses(int n, std::string* first_error = nullptr, std::uint64_t* swapped = nullptr);
  // Reads one line.
  std::string read_line();

 private:
  void fill();
  void authenticate(const std::string& key);
  void start_tls();
  void* tls_context_ = nullptr;  // SSL_CTX*, SSL* (OpenSSL's, when tls://)
  void* tls_ = nullptr;
  int fd_ = -1;
  std::string buffer_;
  std::size_t start_ = 0;
};

}  // namespace mpstate::bench
