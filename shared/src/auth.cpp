// SPDX-License-Identifier: MIT
#include "mpstate/core/auth.hpp"

#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <cstring>
#include <nlohmann/json.hpp>

#include "mpstate/core/names.hpp"
#include "mpstate/core/value_codec.hpp"
#include "mpstate/error.hpp"

namespace mpstate::core {

std::string read_key_file(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);  // a FIFO does not hang us
  if (fd < 0) {
    throw error(errno == ENOENT ? errc::not_found : errc::permission_denied,
                "cannot open key file " + path + ": " + std::strerror(errno));
  }
  struct stat st {};
  std::string key(4097, '\0');
  ssize_t n = -1;
  const bool usable =
      ::fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 077) == 0 && st.st_uid == ::geteuid();
  if (usable) n = ::read(fd, key.data(), key.size());
  ::close(fd);
  if (!S_ISREG(st.st_mode)) throw error(errc::invalid_argument, "key file " + path + " is not a regular file");
  if (st.st_mode & 077) {
    throw error(errc::permission_denied, "key file " + path + " may be read by others (" +
                                             permission_text(st.st_mode & 07777) + "): chmod 600 " + path);
  }
  if (st.st_uid != ::geteuid()) {
    throw error(errc::permission_denied,
                "key file " + path + " belongs to uid " + std::to_string(st.st_uid) + ", not to this user");
  }
  if (n < 0) throw error(errc::permission_denied, "cannot read key file " + path + ": " + std::strerror(errno));
  key.resize(static_cast<std::size_t>(n));
  if (!key.empty() && key.back() == '\n') key.pop_back();
  if (key.size() > 4096) throw error(errc::invalid_argument, "key file " + path + " is over 4 KiB");
  if (key.size() < min_key_bytes) {
    throw error(errc::invalid_argument, "the key in " + path + " has " + std::to_string(key.size()) + " bytes, under " +
                                            std::to_string(min_key_bytes) +
                                            ": make one with head -c 32 /dev/urandom | base64 > " + path);
  }
  return key;
}

std::string key_from_environment() {
  if (const char* key = std::getenv("MPSTATE_KEY"); key && *key) {
    if (std::strlen(key) < min_key_bytes) {
      throw error(errc::invalid_argument, "$MPSTATE_KEY has under " + std::to_string(min_key_bytes) + " bytes");
    }
    return key;
  }
  if (const char* file = std::getenv("MPSTATE_KEY_FILE"); file && *file) return read_key_file(file);
  return {};
}

std::string new_challenge() {
  unsigned char bytes[32];
  if (RAND_bytes(bytes, sizeof bytes) != 1) throw error(errc::system_error, "no random bytes from OpenSSL");
  return base64_encode({reinterpret_cast<const char*>(bytes), sizeof bytes});
}

std::string auth_proof(std::string_view key, std::string_view role, std::string_view first, std::string_view second) {
  std::string message;
  message.reserve(role.size() + first.size() + second.size() + 2);
  message.append(role).append("\n").append(first).append("\n").append(second);
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (!HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
            reinterpret_cast<const unsigned char*>(message.data()), message.size(), digest, &length)) {
    throw error(errc::system_error, "HMAC-SHA256 failed");
  }
  return base64_encode({reinterpret_cast<const char*>(digest), length});
}

bool proofs_equal(std::string_view a, std::string_view b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::optional<auth_grant> check_client_auth(std::string_view line, std::string_view challenge, std::string_view key,
                                            std::string_view read_only_key) noexcept {
  try {
    if (line.size() > max_auth_line) return std::nullopt;
    const nlohmann::json request = nlohmann::json::parse(line, nullptr, false);
    if (!request.is_object() || request.value("op", nlohmann::json()) != "auth") return std::nullopt;
    const nlohmann::json theirs = request.value("challenge", nlohmann::json());
    const nlohmann::json proof = request.value("proof", nlohmann::json());
    // At least 16 random bytes in base64, and not our own challenge sent back.
    if (!theirs.is_string() || !proof.is_string() || theirs == challenge ||
        base64_decode(theirs.get_ref<const std::string&>()).size() < 16) {
      return std::nullopt;
    }
    const std::string& c = theirs.get_ref<const std::string&>();
    const std::string& p = proof.get_ref<const std::string&>();
    auth_grant grant{request.value("id", nlohmann::json()), false, {}};
    if (proofs_equal(p, auth_proof(key, "client", challenge, c))) {
      grant.proof = auth_proof(key, "manager", c, challenge);
    } else if (!read_only_key.empty() && proofs_equal(p, auth_proof(read_only_key, "client", challenge, c))) {
      grant.read_only = true;
      grant.proof = auth_proof(read_only_key, "manager", c, challenge);
    } else {
      return std::nullopt;
    }
    return grant;
  } catch (...) {  // out of memory, say: a refusal like any other
    return std::nullopt;
  }
}

namespace {
nlohmann::json parse_manager_line(std::string_view line) {
  nlohmann::json message = nlohmann::json::parse(line, nullptr, false);
  if (!message.is_object()) throw error(errc::internal, "the manager sent a malformed line: not an mpstate manager?");
  if (auto e = message.find("error"); e != message.end()) {
    if (!e->is_object() || !e->value("code", nlohmann::json()).is_string()) {
      throw error(errc::internal, "the manager sent a malformed error");
    }
    throw error(errc_from_string(e->at("code").get<std::string>()), e->value("message", nlohmann::json()).is_string()
                                                                        ? e->at("message").get<std::string>()
                                                                        : std::string());
  }
  return message;
}
}  // namespace

client_handshake answer_challenge(std::string_view manager_line, std::string_view key, std::uint64_t id) {
  const nlohmann::json hello = parse_manager_line(manager_line);
  const nlohmann::json theirs = hello.value("challenge", nlohmann::json());
  if (hello.value("auth", nlohmann::json()) != "hmac-sha256" || !theirs.is_string()) {
    throw error(errc::internal, "the peer did not open with an mpstate challenge: not an mpstate manager?");
  }
  const std::string ours = new_challenge();
  const std::string& challenge = theirs.get_ref<const std::string&>();
  const nlohmann::json request = {
      {"op", "auth"}, {"id", id}, {"challenge", ours}, {"proof", auth_proof(key, "client", challenge, ours)}};
  return {request.dump() + "\n", auth_proof(key, "manager", ours, challenge), id};
}

manager_grant check_manager_answer(std::string_view answer_line, const client_handshake& sent) {
  const nlohmann::json answer = parse_manager_line(answer_line);
  const nlohmann::json result = answer.value("result", nlohmann::json());
  const nlohmann::json proof = result.is_object() ? result.value("proof", nlohmann::json()) : nlohmann::json();
  if (answer.value("id", nlohmann::json()) != sent.id || !proof.is_string() ||
      !proofs_equal(proof.get_ref<const std::string&>(), sent.expected_proof)) {
    throw error(errc::permission_denied, "the manager did not prove it holds the key: not our manager");
  }
  manager_grant grant;
  grant.read_only = result.value("access", nlohmann::json()) == "read_only";
  if (const auto lease = result.value("lease_ms", nlohmann::json());
      lease.is_number_integer() && lease.get<std::int64_t>() > 0) {
    grant.lease = std::chrono::milliseconds(lease.get<std::int64_t>());
  }
  return grant;
}

bool is_tls_url(std::string_view address) { return address.starts_with("tls://"); }
bool is_network_url(std::string_view address) { return address.starts_with("tcp://") || is_tls_url(address); }

bool is_redis_url(std::string_view address) {
  return address.starts_with("redis://") || address.starts_with("redis+unix://") ||
         address.starts_with("redis+cluster://");
}

tcp_address parse_tcp_address(std::string_view text) {
  const std::string whole(text);
  if (is_network_url(text)) text.remove_prefix(6);  // "tcp://" or "tls://"
  const auto bad = [&](const std::string& why) {
    return error(errc::invalid_argument, "bad TCP address '" + whole + "': " + why + " (HOST:PORT, [IPv6]:PORT)");
  };
  const auto colon = text.rfind(':');
  if (colon == std::string_view::npos) throw bad("no port");
  std::string_view host = text.substr(0, colon), port = text.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  if (host.empty()) throw bad("no host");
  if (host.find_first_of("/[] ") != std::string_view::npos) throw bad("bad host");
  unsigned value = 0;
  auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (port.empty() || ec != std::errc() || end != port.data() + port.size() || value > 65535) {
    throw bad("the port is not a number 0..65535");
  }
  return {std::string(host), static_cast<std::uint16_t>(value)};
}

}  // namespace mpstate::core
