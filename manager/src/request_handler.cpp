// SPDX-License-Identifier: MIT
#include "request_handler.hpp"

#include <nlohmann/json.hpp>

#include "fast_path.hpp"
#include "mpstate/core/names.hpp"
#include "mpstate/core/op_context.hpp"
#include "mpstate/core/record_ops.hpp"
#include "mpstate/core/value_codec.hpp"
#include "op_call.hpp"

namespace mpstate::manager {

using namespace mpstate::core;

json answer_now(const handler_outcome& out) {
  if (!out.deferred) return out.response;
  try {
    return make_result(out.deferred_id, out.deferred());
  } catch (const error& e) {
    return make_error(out.deferred_id, e.code(), e.message());
  } catch (const std::exception& e) {
    return make_error(out.deferred_id, errc::internal, e.what());
  }
}

handler_outcome request_handler::handle_line(std::string_view line, const peer_context& peer) {
  const auto began = std::chrono::steady_clock::now();
  handler_outcome out = handle_line_timed(line, peer);
  facts_.latency.observe(std::chrono::steady_clock::now() - began);
  return out;
}

handler_outcome request_handler::handle_line_timed(std::string_view line, const peer_context& peer) {
  if (auto answer = answer_plain(line, peer)) return *std::move(answer);
  try {
    check_json_depth(line);
  } catch (const error& e) {
    return {make_error(nullptr, e.code(), e.message()), {}};
  }
  json request;
  try {
    request = json::parse(line);
  } catch (const json::parse_error& e) {
    // The position only: the parser's own text quotes the input, which may not be UTF-8.
    return {
        make_error(nullptr, errc::bad_request, "the line is not valid JSON (at byte " + std::to_string(e.byte) + ")"),
        {}};
  } catch (const json::exception&) {  // 406: a number such as 1e400 overflows a double
    return {make_error(nullptr, errc::out_of_range, "a number in the line is beyond the range of a double"), {}};
  }
  handler_outcome out = handle(request, peer);
  if (request.is_object() && request.contains("id")) {
    out.exact_id = exact_number_id(line, request["id"]);
    if (out.wait) out.wait->exact_id = out.exact_id;
  }
  return out;
}

handler_outcome request_handler::handle(const json& request, const peer_context& peer) {
  if (!request.is_object()) {
    return {make_error(nullptr, errc::bad_request, "a request must be a JSON object"), {}};
  }
  json id = request.contains("id") ? request["id"] : json(nullptr);
  bool read_only = false;
  const op_spec* op = nullptr;
  // Its writes are stamped with the peer's pid (a TCP peer without a lease yet: the
  // manager's own); it waits for locks as the thread it runs on may (the event loop:
  // never); `committed` decides the busy rule below.
  core::op_context ctx{.for_pid = peer.process.pid, .may_wait = core::ops_may_wait()};
  const core::op_scope scope(ctx);
  try {
    const json& op_field = require_field(request, "op");
    if (!op_field.is_string()) throw error(errc::bad_request, "field 'op' must be a string");
    op = find_op(op_field.get_ref<const std::string&>());
    if (!op) throw error(errc::unknown_op, "unknown op '" + op_field.get<std::string>() + "'");
    std::optional<pending_wait> wait;
    read_only = only_reads(op->code);
    if (peer.read_only && !read_only) {
      throw error(errc::permission_denied,
                  "this connection's key is read-only: '" + std::string(op->name) + "' changes state");
    }
    std::function<json()> later;
    op_call call{request, peer, segment_, facts_, wait, later};
    json result = dispatch(op->code, call);
    ++facts_.ops_by_code[static_cast<std::size_t>(op->code)];
    if (wait) {
      wait->id = id;
      return {json(), std::move(wait)};
    }
    if (later) {
      handler_outcome out{json(), {}, false, {}, read_only};
      out.deferred = std::move(later);
      out.deferred_id = id;
      return out;
    }
    return {make_result(id, std::move(result)), {}, false, {}, read_only};
  } catch (const error& e) {
    const bool retry = core::retry_later(ctx, e.code());  // never retry a change already made
    if (!retry) {
      ++facts_.errors_by_code[static_cast<std::size_t>(e.code())];
      if (op) ++facts_.ops_by_code[static_cast<std::size_t>(op->code)];
    }
    if (e.code() == errc::busy && ctx.committed) {
      return {make_error(id, e.code(), e.message() + " (the request was partly applied before it)"), {}};
    }
    return {make_error(id, e.code(), e.message()), {}, retry};
  } catch (const std::exception& e) {
    ++facts_.errors_by_code[static_cast<std::size_t>(errc::internal)];
    return {make_error(id, errc::internal, e.what()), {}};
  }
}

// The same calls as the general get, set, add and cas (dispatch), answered as they would
// be, byte for byte. Anything the general path would treat otherwise (a missing or
// other-typed variable, a read-only peer's write, a busy record) goes there, unless
// a write already committed: then its error is answered here.
std::optional<handler_outcome> request_handler::answer_plain(std::string_view line, const peer_context& peer) {
  const auto request = parse_plain_request(line);
  if (!request || (request->op != op_code::get && peer.read_only)) return std::nullopt;
  variable_record* r = nullptr;
  try {
    validate_variable_name(request->name);
    r = segment_.find(request->name);
  } catch (...) {
    return std::nullopt;
  }
  if (!r || (request->op == op_code::get ? !is_scalar(r->type) : r->type != value_type::int64)) return std::nullopt;
  handler_outcome out;
  core::op_context ctx{.for_pid = peer.process.pid, .may_wait = core::ops_may_wait()};
  const core::op_scope scope(ctx);
  try {
    switch (request->op) {
      case op_code::get: {
        const json value = read_json_value(*r);
        out.text = format_answer(request->id, get_result(to_string(r->type), value, r->version.load()));
        break;
      }
      case op_code::set:
        write_json_value(*r, json(request->number));
        out.text = format_answer(request->id, R"({"version":)" + std::to_string(r->version.load()) + "}");
        break;
      case op_code::cas:
        out.text = format_answer(request->id,
                                 compare_exchange_json_value(*r, json(request->number), json(request->desired)).dump());
        break;
      default:
        out.text = format_answer(request->id, R"({"value":)" + add_json_value(*r, json(request->number)).dump() + "}");
        break;
    }
  } catch (const error& e) {
    if (!ctx.committed) return std::nullopt;  // nothing changed: the general path decides
    ++facts_.errors_by_code[static_cast<std::size_t>(e.code())];
    out.text = to_line(make_error(request->id.empty() ? json() : json::parse(request->id), e.code(), e.message()));
  }
  ++facts_.ops_by_code[static_cast<std::size_t>(request->op)];
  return out;
}

json request_handler::counters() const { return op_counters(facts_); }

}  // namespace mpstate::manager
