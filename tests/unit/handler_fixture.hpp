// SPDX-License-Identifier: MIT
// A request handler over a scratch segment, called as the connection calls it
// (request_handler_test.cpp, fast_path_test.cpp).
#pragma once

#include <boost/test/unit_test.hpp>
#include <nlohmann/json.hpp>
#include <string>

#include "mpstate/core/process_identity.hpp"
#include "request_handler.hpp"
#include "test_support.hpp"

namespace mpstate::test {

using core::json;

struct handler_fixture {
  test::scratch_segment scratch{1 << 20};
  manager::server_facts facts{"unit", 0, core::now_ns(), false};
  manager::request_handler handler{*scratch.segment, facts};
  core::process_identity me = core::self_identity();

  json call(const json& request) { return manager::answer_now(handler.handle(request, me)); }
  json line(const std::string& text) {
    manager::handler_outcome out = handler.handle_line(text, me);
    return out.text.empty() ? manager::answer_now(out) : json::parse(out.text);  // the fast path answers in text
  }
  std::string error_code(const json& request) {
    json r = call(request);
    BOOST_REQUIRE_MESSAGE(r.contains("error"), "expected an error for " << request.dump() << ", got " << r.dump());
    return r["error"]["code"].get<std::string>();
  }
  json result(const json& request) {
    json r = call(request);
    BOOST_REQUIRE_MESSAGE(r.contains("result"), request.dump() << " -> " << r.dump());
    return r["result"];
  }
};

}  // namespace mpstate::test
