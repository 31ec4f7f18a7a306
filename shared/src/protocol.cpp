// SPDX-License-Identifier: MIT
#include "mpstate/core/protocol.hpp"

#include <nlohmann/json.hpp>

namespace mpstate::core {

std::span<const op_spec> op_table() { return op_specs; }

std::string incarnation_text(std::uint64_t incarnation) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string text(16, '0');
  for (int i = 15; i >= 0; --i, incarnation >>= 4) text[static_cast<std::size_t>(i)] = digits[incarnation & 15];
  return text;
}

const op_spec* find_op(std::string_view name) {
  for (const auto& op : op_specs) {
    if (op.name == name) return &op;
  }
  return nullptr;
}

const json& require_field(const json& request, const char* field) {
  auto it = request.find(field);
  if (it == request.end()) {
    throw error(errc::missing_field, std::string("missing field '") + field + "'");
  }
  return *it;
}

std::string require_string(const json& request, const char* field) {
  const json& v = require_field(request, field);
  if (!v.is_string()) throw error(errc::bad_request, std::string("field '") + field + "' must be a string");
  return v.get<std::string>();
}

std::int64_t require_integer(const json& request, const char* field) {
  const json& v = require_field(request, field);
  if (!v.is_number_integer()) {
    throw error(errc::bad_request, std::string("field '") + field + "' must be an integer");
  }
  if (v.is_number_unsigned() && v.get<std::uint64_t>() > INT64_MAX) {
    throw error(errc::bad_request, std::string("field '") + field + "' is too large");
  }
  return v.get<std::int64_t>();
}

std::string optional_string(const json& request, const char* field, std::string fallback) {
  return request.contains(field) ? require_string(request, field) : std::move(fallback);
}

std::int64_t optional_integer(const json& request, const char* field, std::int64_t fallback) {
  return request.contains(field) ? require_integer(request, field) : fallback;
}

json make_result(const json& id, json result) {
  // Built field by field: an initializer list would build each pair as an array first.
  json response(json::value_t::object);
  response["id"] = id;
  response["result"] = std::move(result);
  return response;
}

json make_error(const json& id, errc code, std::string_view message) {
  return {{"id", id}, {"error", {{"code", to_string(code)}, {"message", message}}}};
}

std::string to_line(const json& message, std::string_view exact_id) {
  std::string line = message.dump(-1, ' ', false, json::error_handler_t::replace);
  if (!exact_id.empty()) {
    // The top-level "id" key: the first one not inside a string (there a quote is
    // escaped). In {"error":...,"id":...} the error object has no "id" key; in
    // {"id":...,"result":...} it comes first.
    const std::string key = "\"id\":" + message.at("id").dump();
    for (auto at = line.find(key); at != std::string::npos; at = line.find(key, at + 1)) {
      if (at > 0 && line[at - 1] == '\\') continue;
      line.replace(at + 5, key.size() - 5, exact_id);
      break;
    }
  }
  line += '\n';
  return line;
}

namespace {

// Finds the raw text of the top-level "id" number (nlohmann keeps it for floats).
class id_text_finder : public nlohmann::json_sax<json> {
 public:
  std::string text;
  bool null() override { return value(); }
  bool boolean(bool) override { return value(); }
  bool number_integer(number_integer_t) override { return value(); }
  bool number_unsigned(number_unsigned_t) override { return value(); }
  bool number_float(number_float_t, const string_t& raw) override {
    if (at_id()) text = raw;
    return value();
  }
  bool string(string_t&) override { return value(); }
  bool binary(binary_t&) override { return value(); }
  bool start_object(std::size_t) override { return ++depth_ > 0; }
  bool key(string_t& k) override {
    id_key_ = depth_ == 1 && k == "id";
    return true;
  }
  bool end_object() override { return --depth_ >= 0; }
  bool start_array(std::size_t) override { return ++depth_ > 0; }
  bool end_array() override { return --depth_ >= 0; }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) override { return false; }

 private:
  bool at_id() const { return depth_ == 1 && id_key_; }
  bool value() {
    id_key_ = false;
    return true;
  }
  int depth_ = 0;
  bool id_key_ = false;
};

}  // namespace

std::string exact_number_id(std::string_view line, const json& parsed_id) {
  if (!parsed_id.is_number_float()) return {};  // integers up to 64 bits, and the rest, echo exactly
  id_text_finder finder;
  json::sax_parse(line, &finder, json::input_format_t::json, /*strict=*/true);
  // A raw text that a double writes back the same needs nothing (1.5, 2e-3 as sent?).
  if (finder.text.empty() || finder.text == parsed_id.dump()) return {};
  return finder.text;
}

}  // namespace mpstate::core
