// SPDX-License-Identifier: MIT
#include "fast_path.hpp"

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

std::optional<plain_get> parse_plain_get(std::string_view line) noexcept {
  reader r{line};
  plain_get out;
  bool has_op = false, has_name = false, has_id = false;
  if (!r.take('{')) return std::nullopt;
  do {
    std::string_view key;
    if (!r.plain_string(key) || !r.take(':')) return std::nullopt;
    if (key == "op" && !has_op) {
      std::string_view op;
      if (!r.plain_string(op) || op != "get") return std::nullopt;
      has_op = true;
    } else if (key == "name" && !has_name) {
      if (!r.plain_string(out.name)) return std::nullopt;
      has_name = true;
    } else if (key == "id" && !has_id) {
      if (!r.plain_integer(out.id)) return std::nullopt;
      has_id = true;
    } else {
      return std::nullopt;  // another field, or one twice
    }
  } while (r.take(','));
  if (!r.take('}')) return std::nullopt;
  r.spaces();
  if (r.i != line.size() || !has_op || !has_name) return std::nullopt;
  return out;
}

std::string format_get_answer(std::string_view id, std::string_view type, const core::json& value,
                              std::uint64_t version) {
  std::string line;
  line.reserve(64 + id.size());
  line.append(R"({"id":)").append(id.empty() ? std::string_view("null") : id);
  line.append(R"(,"result":{"type":")").append(type).append(R"(","value":)");
  line.append(value.dump(-1, ' ', false, core::json::error_handler_t::replace));
  line.append(R"(,"version":)").append(std::to_string(version)).append("}}\n");
  return line;
}

}  // namespace mpstate::manager
