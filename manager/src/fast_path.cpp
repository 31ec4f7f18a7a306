// SPDX-License-Identifier: MIT
#include "fast_path.hpp"

#include <algorithm>
#include <bit>
#include <charconv>
#include <iterator>
#include <nlohmann/json.hpp>

namespace mpstate::manager {

namespace {

// A cursor over the line; every step fails (false) on anything unexpected.
struct reader {
  std::string_view s;
  std::size_t i = 0;
  void spaces() {
    while (i < s.size() && (s[i] == ' ' || s[i] == '\t')) ++i;
  }
  bool take(char c) {
    spaces();
    if (i >= s.size() || s[i] != c) return false;
    ++i;
    return true;
  }
  // A string of printable ASCII without escapes.
  bool plain_string(std::string_view& out) {
    if (!take('"')) return false;
    const std::size_t start = i;
    while (i < s.size() && s[i] != '"') {
      const auto c = static_cast<unsigned char>(s[i]);
      if (c < 0x20 || c >= 0x80 || c == '\\') return false;
      ++i;
    }
    if (i >= s.size()) return false;
    out = s.substr(start, i - start);
    ++i;
    return true;
  }
  // An integer JSON writes back as sent: 0, or an optional '-' and 1 to 18 digits
  // without a leading zero (so it fits 64 bits and "-0" / "007" go the general way).
  bool plain_integer(std::string_view& out) {
    spaces();
    const std::size_t start = i;
    if (i < s.size() && s[i] == '-') ++i;
    const std::size_t digits = i;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
    const std::size_t n = i - digits;
    if (n == 0 || n > 18 || (s[digits] == '0' && (n > 1 || digits != start))) return false;
    if (i < s.size() && (s[i] == '.' || s[i] == 'e' || s[i] == 'E')) return false;
    out = s.substr(start, i - start);
    return true;
  }
};

}  // namespace

std::optional<plain_request> parse_plain_request(std::string_view line) noexcept {
  // The integer fields, and which op takes which (a bit each).
  constexpr std::string_view number_keys[] = {"value", "delta", "expected", "desired"};
  constexpr unsigned value = 1, delta = 2, expected = 4, desired = 8;
  reader r{line};
  plain_request out;
  bool has_op = false, has_name = false, has_id = false;
  unsigned numbers_seen = 0;
  std::string_view numbers[4];
  if (!r.take('{')) return std::nullopt;
  do {
    std::string_view key;
    if (!r.plain_string(key) || !r.take(':')) return std::nullopt;
    if (key == "op" && !has_op) {
      std::string_view op;
      if (!r.plain_string(op)) return std::nullopt;
      if (op == "get")
        out.op = core::op_code::get;
      else if (op == "set")
        out.op = core::op_code::set;
      else if (op == "add")
        out.op = core::op_code::add;
      else if (op == "cas")
        out.op = core::op_code::cas;
      else
        return std::nullopt;
      has_op = true;
    } else if (key == "name" && !has_name) {
      if (!r.plain_string(out.name)) return std::nullopt;
      has_name = true;
    } else if (key == "id" && !has_id) {
      if (!r.plain_integer(out.id)) return std::nullopt;
      has_id = true;
    } else {
      const auto* k = std::find(std::begin(number_keys), std::end(number_keys), key);
      const auto bit = 1u << (k - std::begin(number_keys));
      if (k == std::end(number_keys) || (numbers_seen & bit) != 0) return std::nullopt;  // another field, or twice
      if (!r.plain_integer(numbers[k - std::begin(number_keys)])) return std::nullopt;
      numbers_seen |= bit;
    }
  } while (r.take(','));
  if (!r.take('}')) return std::nullopt;
  r.spaces();
  if (r.i != line.size() || !has_op || !has_name) return std::nullopt;
  const unsigned wanted = out.op == core::op_code::set   ? value
                          : out.op == core::op_code::add ? delta
                          : out.op == core::op_code::cas ? expected | desired
                                                         : 0;
  if (numbers_seen != wanted) return std::nullopt;     // get with a number, set without its value, ...
  auto number = [&](unsigned bit, std::int64_t& to) {  // 18 digits fit
    const std::string_view text = numbers[std::countr_zero(bit)];
    std::from_chars(text.data(), text.data() + text.size(), to);
  };
  if (wanted & value) number(value, out.number);
  if (wanted & delta) number(delta, out.number);
  if (wanted & expected) number(expected, out.number);
  if (wanted & desired) number(desired, out.desired);
  return out;
}

std::string format_answer(std::string_view id, std::string_view result) {
  std::string line;
  line.reserve(24 + id.size() + result.size());
  line.append(R"({"id":)").append(id.empty() ? std::string_view("null") : id);
  line.append(R"(,"result":)").append(result).append("}\n");
  return line;
}

std::string get_result(std::string_view type, const core::json& value, std::uint64_t version) {
  std::string text = R"({"type":")";
  text.append(type).append(R"(","value":)");
  text.append(value.dump(-1, ' ', false, core::json::error_handler_t::replace));
  text.append(R"(,"version":)").append(std::to_string(version)).append("}");
  return text;
}

}  // namespace mpstate::manager
