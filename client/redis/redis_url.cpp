// SPDX-License-Identifier: MIT
#include "redis_url.hpp"

#include <charconv>

#include "mpstate/error.hpp"

namespace mpstate::detail {

namespace {

// The address without its password (user:PASSWORD@ or password=...), for messages.
std::string redacted(std::string_view address) {
  std::string text(address);
  const auto scheme = text.find("://");
  const auto at = text.rfind('@', text.find('?'));  // the last '@' before the query, as the parser takes it
  if (scheme != std::string::npos && at != std::string::npos && at > scheme && !text.starts_with("redis+unix")) {
    text = text.substr(0, scheme + 3) + "***@" + text.substr(at + 1);
  }
  for (auto p = text.find("password="); p != std::string::npos; p = text.find("password=", p + 12)) {
    const auto end = text.find('&', p);
    text.replace(p, (end == std::string::npos ? text.size() : end) - p, "password=***");
  }
  return text;
}

[[noreturn]] void bad(std::string_view address, const std::string& why) {
  throw error(errc::invalid_argument, "bad Redis address '" + redacted(address) + "': " + why);
}

long number(std::string_view address, std::string_view what, std::string_view text, long low, long high) {
  long n = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (ec != std::errc() || end != text.data() + text.size() || n < low || n > high) {
    bad(address, std::string(what) + " '" + std::string(text) + "' is not a number from " + std::to_string(low) +
                     " to " + std::to_string(high));
  }
  return n;
}

std::pair<std::string, int> host_port(std::string_view address, std::string_view text) {
  std::string_view host = text;
  int port = 6379;
  if (!text.empty() && text.front() == '[') {  // [IPv6]:PORT
    const auto close = text.find(']');
    if (close == std::string_view::npos) bad(address, "an unclosed '['");
    host = text.substr(1, close - 1);
    const auto rest = text.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') bad(address, "expected ':' after ']'");
      port = static_cast<int>(number(address, "port", rest.substr(1), 1, 65535));
    }
  } else if (const auto colon = text.rfind(':'); colon != std::string_view::npos) {
    host = text.substr(0, colon);
    port = static_cast<int>(number(address, "port", text.substr(colon + 1), 1, 65535));
  }
  if (host.empty()) bad(address, "no host");
  return {std::string(host), port};
}

// Characters a prefix may have: they must not be glob characters (list scans
// "PREFIX{*}") nor braces (the hash tag).
bool plain_prefix(std::string_view p) {
  for (char c : p) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
                    c == '-' || c == '.' || c == ':' || c == '/';
    if (!ok) return false;
  }
  return !p.empty() && p.size() <= 128;
}

}  // namespace

redis_url parse_redis_url(std::string_view address) {
  redis_url url;
  std::string_view rest;
  if (address.starts_with("redis://")) {
    url.how = redis_url::kind::tcp;
    rest = address.substr(8);
  } else if (address.starts_with("redis+unix://")) {
    url.how = redis_url::kind::unix_socket;
    rest = address.substr(13);
  } else if (address.starts_with("redis+cluster://")) {
    url.how = redis_url::kind::cluster;
    rest = address.substr(16);
  } else {
    bad(address, "it starts with neither redis://, redis+unix:// nor redis+cluster://");
  }
  std::string_view query;
  if (const auto q = rest.find('?'); q != std::string_view::npos) {
    query = rest.substr(q + 1);
    rest = rest.substr(0, q);
  }
  if (url.how == redis_url::kind::unix_socket) {
    if (!rest.starts_with('/')) bad(address, "redis+unix:// needs an absolute socket path");
    url.path = std::string(rest);
  } else {
    if (const auto at = rest.rfind('@'); at != std::string_view::npos) {
      std::string_view user_info = rest.substr(0, at);
      if (const auto colon = user_info.find(':'); colon != std::string_view::npos) user_info.remove_prefix(colon + 1);
      url.password = std::string(user_info);
      rest = rest.substr(at + 1);
    }
    std::string_view hosts = rest;
    if (const auto slash = rest.find('/'); slash != std::string_view::npos) {
      hosts = rest.substr(0, slash);
      const auto db = rest.substr(slash + 1);
      if (!db.empty()) {
        if (url.how == redis_url::kind::cluster) bad(address, "a cluster has only database 0");
        url.db = static_cast<int>(number(address, "database", db, 0, 1 << 20));
      }
    }
    if (hosts.empty()) bad(address, "no host");
    while (!hosts.empty()) {
      const auto comma = hosts.find(',');
      url.nodes.push_back(host_port(address, hosts.substr(0, comma)));
      hosts = comma == std::string_view::npos ? std::string_view{} : hosts.substr(comma + 1);
    }
    if (url.how == redis_url::kind::tcp && url.nodes.size() != 1) {
      bad(address, "several hosts: name a cluster redis+cluster://");
    }
  }
  while (!query.empty()) {
    const auto amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
    const auto eq = pair.find('=');
    const std::string_view key = pair.substr(0, eq);
    const std::string_view value = eq == std::string_view::npos ? std::string_view{} : pair.substr(eq + 1);
    if (key == "prefix") {
      if (!plain_prefix(value))
        bad(address, "prefix '" + std::string(value) + "' must be 1 to 128 of [A-Za-z0-9_.:/-]");
      url.prefix = std::string(value);
    } else if (key == "lease_ms") {
      url.lease = std::chrono::milliseconds(number(address, "lease_ms", value, 100, 3'600'000));
    } else if (key == "db") {
      if (url.how == redis_url::kind::cluster) bad(address, "a cluster has only database 0");
      url.db = static_cast<int>(number(address, "db", value, 0, 1 << 20));
    } else if (key == "password") {
      url.password = std::string(value);
    } else {
      bad(address, "unknown option '" + std::string(key) + "' (prefix, lease_ms, db, password)");
    }
  }
  url.text = redacted(address);  // never a password in messages, stat or pickles' text
  return url;
}

}  // namespace mpstate::detail
