// SPDX-License-Identifier: MIT
#include "request_fuzz.hpp"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "fast_path.hpp"
#include "mpstate/core/auth.hpp"
#include "mpstate/core/owned_segment.hpp"
#include "mpstate/core/process_identity.hpp"
#include "mpstate/core/protocol.hpp"
#include "mpstate/core/segment.hpp"
#include "mpstate/error.hpp"
#include "request_handler.hpp"

namespace mpstate::fuzz {
namespace {

using core::json;

// A small segment, replaced every so often so creates keep succeeding.
struct scratch {
  static constexpr std::size_t inputs_per_segment = 2000;
  std::string name = "mpstate-fuzz-" + std::to_string(::getpid());
  std::unique_ptr<core::owned_segment> segment;
  manager::server_facts facts{"fuzz", 1, 0, false};
  std::unique_ptr<manager::request_handler> handler;
  std::size_t inputs = 0;

  manager::request_handler& next() {
    if (!segment || ++inputs % inputs_per_segment == 0) {
      handler.reset();
      if (segment) segment->unlink();
      segment.reset();
      segment = core::owned_segment::create_or_adopt(name, 1 << 20);
      handler = std::make_unique<manager::request_handler>(*segment, facts);
    }
    facts.shutdown_requested = false;
    return *handler;
  }
  ~scratch() {
    if (segment) segment->unlink();
  }
};

[[noreturn]] void violated(const char* what, std::string_view detail) {
  std::fprintf(stderr, "request_fuzz: %s: %.*s\n", what, static_cast<int>(std::min<std::size_t>(detail.size(), 500)),
               detail.data());
  std::abort();
}

void check_response(const json& response) {
  std::string line;
  try {
    line = core::to_line(response);
  } catch (const std::exception& e) {
    violated("a response does not serialise", e.what());
  }
  json back = json::parse(line, nullptr, false);
  if (!back.is_object()) violated("a response is not a JSON object", line);
  if (!back.contains("id")) violated("a response has no id", line);
  if (back.contains("result") == back.contains("error")) violated("not exactly one of result/error", line);
  if (back.contains("error")) {
    const json& e = back["error"];
    if (!e.is_object() || !e.contains("code") || !e["code"].is_string() || !e.contains("message")) {
      violated("a malformed error", line);
    }
    const std::string code = e["code"].get<std::string>();
    if (errc_from_string(code) == errc::internal) violated("an unknown or internal error code", line);
  }
}

}  // namespace

// Every line is also a TCP peer's first line: nothing but a proof made with the key
// may be granted, and a fuzzer cannot make one (HMAC-SHA256).
void check_handshake(std::string_view line) {
  static const std::string challenge = core::new_challenge();
  if (auto grant =
          core::check_client_auth(line, challenge, "the-fuzzers-key-0123456789", "a-read-only-key-0123456789")) {
    violated("a handshake without the key was accepted", std::string(line));
  }
}

std::size_t feed_request_bytes(const std::uint8_t* data, std::size_t size) {
  static scratch s;
  manager::request_handler& handler = s.next();
  // A first byte 0x01: the lines come from an authenticated read-only TCP peer (no
  // pid, a lease for what it owns), so those paths are fuzzed too.
  manager::peer_context peer = core::self_identity();
  if (size > 0 && data[0] == 0x01) {
    peer.remote = true;
    peer.read_only = true;
    peer.lease = [] { return core::self_identity(); };
    ++data, --size;
  }
  std::string_view rest(reinterpret_cast<const char*>(data), size);
  std::size_t responses = 0;
  while (!rest.empty()) {
    std::size_t end = rest.find('\n');
    std::string_view line = rest.substr(0, end);
    rest = end == std::string_view::npos ? std::string_view() : rest.substr(end + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) continue;
    check_handshake(line);
    manager::handler_outcome out = handler.handle_line(line, peer);
    if (out.wait) {
      core::segment::unbind(out.wait->record);  // a connection would answer it later
      continue;
    }
    if (!out.text.empty()) {  // the fast path: for a get the general path must answer the very same bytes
      if (manager::parse_plain_request(line)->op == core::op_code::get) {
        const std::string general = core::to_line(handler.handle(json::parse(line), peer).response);
        if (general != out.text) violated("the fast path answered otherwise than the general path", out.text + general);
      }
      out.response = json::parse(out.text);
    }
    check_response(manager::answer_now(out));  // a deferred answer, made here
    ++responses;
  }
  return responses;
}

}  // namespace mpstate::fuzz
