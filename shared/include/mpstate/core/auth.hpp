// SPDX-License-Identifier: MIT
// The key handshake of TCP connections (docs/protocol.md, "TCP and the key"), used
// by the manager and the client alike. A TCP peer has no uid to check, so each side
// proves it knows the shared key by an HMAC-SHA256 over both sides' fresh random
// challenges: nothing that crosses the wire can be replayed on another connection,
// and the key itself never crosses it.
#pragma once

#include <chrono>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

namespace mpstate::core {

// Keys shorter than this are refused (a password is not a key: use
// `head -c 32 /dev/urandom | base64 > key`, which also fits $MPSTATE_KEY).
constexpr std::size_t min_key_bytes = 16;
// An auth line is short: a longer first line is refused.
constexpr std::size_t max_auth_line = 4096;
// A failed handshake is answered only after this long (a guesser gets one try a second
// per connection; other clients are served meanwhile).
constexpr std::chrono::milliseconds auth_failure_delay{1000};

// The whole file, one trailing newline taken off. Throws error(not_found),
// error(permission_denied) when group or others may read it (chmod 600) or another
// user owns it, and
// error(invalid_argument) for a key under min_key_bytes or over 4 KiB.
std::string read_key_file(const std::string& path);
// $MPSTATE_KEY, else the file named by $MPSTATE_KEY_FILE (read_key_file), else "".
std::string key_from_environment();

// 32 random bytes from OpenSSL's generator, base64: one side's challenge.
std::string new_challenge();
// base64(HMAC-SHA256(key, role "\n" first "\n" second)): what `role` ("client" or
// "manager") sends to prove it holds `key`. The client signs (manager's challenge,
// its own); the manager signs (client's challenge, its own).
std::string auth_proof(std::string_view key, std::string_view role, std::string_view first, std::string_view second);
// Equality of two proofs in constant time (CRYPTO_memcmp); false when lengths differ.
bool proofs_equal(std::string_view a, std::string_view b);

// The manager's check of a TCP peer's first line against its challenge: an `auth`
// op whose proof one of the keys makes (read_only_key may be empty). nullopt for
// anything else; never throws, whatever the line holds.
struct auth_grant {
  nlohmann::json id;       // the request's, to answer with
  bool read_only = false;  // proven with read_only_key
  std::string proof;       // the manager's proof, for the answer's "proof"
};
std::optional<auth_grant> check_client_auth(std::string_view line, std::string_view challenge, std::string_view key,
                                            std::string_view read_only_key) noexcept;

// The client's side. From the manager's first line (its challenge): the auth line
// to send, with a fresh challenge of ours, and the proof the manager must answer
// with. Throws the manager's error when that line is one (too_many_connections),
// error(internal) when it is no challenge (not an mpstate manager?).
struct client_handshake {
  std::string line;            // '\n'-terminated
  std::string expected_proof;  // the manager's, if it holds the key
  std::uint64_t id = 0;
};
client_handshake answer_challenge(std::string_view manager_line, std::string_view key, std::uint64_t id);
// The manager's answer to that line: whether access is read-only, and the lease of
// the connection (what the client holds lasts while the manager hears from its
// machine that long: tcp_liveness.hpp; 5 s from a manager that does not say). Throws
// its error (permission_denied: a wrong key), or error(permission_denied) when its
// proof is not the expected one: that manager does not hold the key.
struct manager_grant {
  bool read_only = false;
  std::chrono::milliseconds lease{5000};
};
manager_grant check_manager_answer(std::string_view answer_line, const client_handshake& sent);

// "tcp://HOST:PORT" or "tls://HOST:PORT" (or "HOST:PORT"; "[v6]:PORT"), split. Throws
// error(invalid_argument) for anything else or a port outside 0..65535.
struct tcp_address {
  std::string host;
  std::uint16_t port = 0;
};
tcp_address parse_tcp_address(std::string_view text);
// True for "tcp://..." and "tls://...": the manager is reached over the network,
// not a Unix socket; is_tls_url for "tls://..." (TCP inside TLS).
bool is_network_url(std::string_view address);
// "redis://", "redis+unix://" or "redis+cluster://": the client's Redis backend
// (docs/redis.md), which needs no manager at all.
bool is_redis_url(std::string_view address);
bool is_tls_url(std::string_view address);

}  // namespace mpstate::core
