// SPDX-License-Identifier: MIT
#include "mpstate/core/value_codec.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <nlohmann/json.hpp>

#include "mpstate/core/array_ops.hpp"
#include "mpstate/core/counter_ops.hpp"
#include "mpstate/core/loop_ops.hpp"
#include "mpstate/core/queue_ops.hpp"
#include "mpstate/core/record_ops.hpp"
#include "mpstate/core/sync_ops.hpp"
#include "mpstate/error.hpp"

namespace mpstate::core {
namespace {

// What a JSON value is converted for: a variable, or the items of a queue.
struct value_target {
  value_target(const variable_record& r) : name(r.name_view()), type(r.type) {}  // NOLINT: implicit on purpose
  value_target(std::string_view n, value_type t) : name(n), type(t) {}
  std::string_view name_view() const { return name; }
  std::string_view name;
  value_type type;
};

[[noreturn]] void throw_not_a_value(const variable_record& r) {
  throw error(errc::type_mismatch, std::string(to_string(r.type)) + " '" + std::string(r.name_view()) +
                                       "' changes only through its own ops (docs/protocol.md)");
}

[[noreturn]] void json_mismatch(const value_target& r, const json& v) {
  throw error(errc::type_mismatch, "variable '" + std::string(r.name_view()) + "' is " +
                                       std::string(to_string(r.type)) + "; cannot store a JSON " + v.type_name());
}

// A number the parser kept as a double (written with an exponent or a fraction, or
// an integer beyond 64 bits) that is a whole number. Above 2^53 a double is no
// longer exact, so such a number counts as out of range rather than rounded.
bool is_whole_number(const json& v) {
  if (!v.is_number_float()) return false;
  double d = v.get<double>();
  return std::isfinite(d) && d == std::trunc(d);
}
constexpr double exact_limit = 0x1p53;

std::int64_t to_int64(const value_target& r, const json& v) {
  if (v.is_number_unsigned()) {
    auto u = v.get<std::uint64_t>();
    if (u > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
      throw error(errc::out_of_range, std::to_string(u) + " does not fit int64");
    }
    return static_cast<std::int64_t>(u);
  }
  if (v.is_number_integer()) return v.get<std::int64_t>();
  if (is_whole_number(v)) {  // 1e3, or an integer too long for 64 bits
    double d = v.get<double>();
    if (std::fabs(d) > exact_limit) throw error(errc::out_of_range, v.dump() + " is beyond int64 or not exact");
    return static_cast<std::int64_t>(d);
  }
  json_mismatch(r, v);
}

std::uint64_t to_uint64(const value_target& r, const json& v) {
  if (v.is_number_unsigned()) return v.get<std::uint64_t>();
  if (v.is_number_integer()) {
    auto i = v.get<std::int64_t>();
    if (i < 0) throw error(errc::out_of_range, std::to_string(i) + " does not fit uint64");
    return static_cast<std::uint64_t>(i);
  }
  if (is_whole_number(v)) {
    double d = v.get<double>();
    if (d < 0 || d > exact_limit) throw error(errc::out_of_range, v.dump() + " is beyond uint64 or not exact");
    return static_cast<std::uint64_t>(d);
  }
  json_mismatch(r, v);
}

double to_double(const value_target& r, const json& v) {
  if (auto d = double_from_json(v)) return *d;
  json_mismatch(r, v);
}

bool to_bool(const value_target& r, const json& v) {
  if (v.is_boolean()) return v.get<bool>();
  json_mismatch(r, v);
}

// The bytes a buffer record stores for `v`.
std::string to_buffer_bytes(const value_target& r, const json& v) {
  switch (r.type) {
    case value_type::string:
      if (!v.is_string()) json_mismatch(r, v);
      return v.get<std::string>();  // the parser took only valid UTF-8
    case value_type::bytes:
      if (!v.is_string()) json_mismatch(r, v);
      return base64_decode(v.get_ref<const std::string&>());
    case value_type::json:
      return encode_json_text(v);
    default:
      json_mismatch(r, v);
  }
}

json from_buffer_bytes(const value_target& r, const std::string& bytes) {
  switch (r.type) {
    case value_type::string:
      return bytes;
    case value_type::bytes:
      return base64_encode(bytes);
    case value_type::json:
      check_json_depth(bytes);  // a local writer may have stored anything
      return json::parse(bytes, nullptr, false);
    default:
      return nullptr;
  }
}

json scalar_json(const variable_record& r) {
  switch (r.type) {
    case value_type::int64:
      return load_scalar<std::int64_t>(r);
    case value_type::uint64:
      return load_scalar<std::uint64_t>(r);
    case value_type::float64:
      return double_to_json(load_scalar<double>(r));
    case value_type::boolean:
      return load_scalar<bool>(r);
    default:
      return nullptr;
  }
}

}  // namespace

std::string element_from_json(std::string_view owner, value_type t, const json& v) {
  const value_target target(owner, t);
  auto bits = [](auto value) { return scalar_bytes(scalar_codec<decltype(value)>::to_bits(value)); };
  switch (t) {
    case value_type::int64:
      return bits(to_int64(target, v));
    case value_type::uint64:
      return bits(to_uint64(target, v));
    case value_type::float64:
      return bits(to_double(target, v));
    case value_type::boolean:
      return bits(to_bool(target, v));
    default:
      return to_buffer_bytes(target, v);
  }
}

json element_to_json(value_type t, const std::string& bytes) {
  const std::uint64_t b = is_scalar(t) ? scalar_bits(bytes) : 0;
  switch (t) {
    case value_type::int64:
      return scalar_codec<std::int64_t>::from_bits(b);
    case value_type::uint64:
      return b;
    case value_type::float64:
      return double_to_json(scalar_codec<double>::from_bits(b));
    case value_type::boolean:
      return b != 0;
    default:
      return from_buffer_bytes(value_target("", t), bytes);
  }
}

json double_to_json(double d) {
  if (std::isnan(d)) return "NaN";
  if (std::isinf(d)) return d > 0 ? "Infinity" : "-Infinity";
  return d;
}

std::optional<double> double_from_json(const json& v) {
  if (v.is_number()) return v.get<double>();
  if (v.is_null()) return std::numeric_limits<double>::quiet_NaN();
  if (v.is_string()) {
    const auto& s = v.get_ref<const std::string&>();
    if (s == "NaN") return std::numeric_limits<double>::quiet_NaN();
    if (s == "Infinity") return std::numeric_limits<double>::infinity();
    if (s == "-Infinity") return -std::numeric_limits<double>::infinity();
  }
  return std::nullopt;
}

void check_utf8(std::string_view text) {
  auto bad = [&](std::size_t at) {
    throw error(errc::invalid_argument, "a string must be valid UTF-8 (bad byte at offset " + std::to_string(at) +
                                            "); use bytes for binary data");
  };
  const auto* p = reinterpret_cast<const unsigned char*>(text.data());
  const std::size_t n = text.size();
  for (std::size_t i = 0; i < n;) {
    unsigned char c = p[i];
    if (c < 0x80) {
      ++i;
      continue;
    }
    std::size_t len = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC2 ? 2 : 0;
    if (len == 0 || c > 0xF4 || i + len > n) bad(i);
    for (std::size_t k = 1; k < len; ++k) {
      if ((p[i + k] & 0xC0) != 0x80) bad(i);
    }
    // Overlong 3- and 4-byte forms, UTF-16 surrogates, code points above U+10FFFF.
    if ((c == 0xE0 && p[i + 1] < 0xA0) || (c == 0xED && p[i + 1] > 0x9F) || (c == 0xF0 && p[i + 1] < 0x90) ||
        (c == 0xF4 && p[i + 1] > 0x8F)) {
      bad(i);
    }
    i += len;
  }
}

value_type type_for_json(const json& value) {
  if (value.is_number_unsigned()) {
    return value.get<std::uint64_t>() > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())
               ? value_type::uint64
               : value_type::int64;
  }
  if (value.is_number_integer()) return value_type::int64;
  if (value.is_number_float()) return value_type::float64;
  if (value.is_boolean()) return value_type::boolean;
  if (value.is_string()) return value_type::string;
  return value_type::json;
}

json read_json_value(variable_record& r) {
  if (is_scalar(r.type)) return scalar_json(r);
  if (r.type == value_type::loop) return loop_to_json(read_loop(r));
  if (is_sync(r.type)) return sync_to_json(r);
  if (r.type == value_type::queue) return queue_to_json(r);
  if (is_sequence(r.type)) return sequence_to_json(r);
  if (r.type == value_type::counter) return counter_value(r);
  std::string bytes;
  read_buffer(r, bytes);
  return from_buffer_bytes(r, bytes);
}

std::optional<json> read_json_value_unlocked(const variable_record& r) {
  if (is_scalar(r.type)) return scalar_json(r);                // one atomic load
  if (r.type == value_type::counter) return counter_value(r);  // lock-free
  const bool one_buffer = r.type == value_type::string || r.type == value_type::bytes || r.type == value_type::json ||
                          r.type == value_type::loop;
  std::string bytes;
  if (!one_buffer || !read_buffer_unlocked(r, bytes)) return std::nullopt;
  if (r.type != value_type::loop) return from_buffer_bytes(r, bytes);
  loop_snapshot s{};
  std::memcpy(&s, bytes.data(), std::min(bytes.size(), sizeof s));
  s.reason[sizeof s.reason - 1] = '\0';
  return loop_to_json(s);
}

void write_json_value(variable_record& r, const json& value) {
  if (has_own_ops(r.type) && r.type != value_type::loop) throw_not_a_value(r);
  switch (r.type) {
    case value_type::int64:
      return store_scalar(r, to_int64(r, value));
    case value_type::uint64:
      return store_scalar(r, to_uint64(r, value));
    case value_type::float64:
      return store_scalar(r, to_double(r, value));
    case value_type::boolean:
      return store_scalar(r, to_bool(r, value));
    case value_type::loop:
      throw error(errc::type_mismatch, "loop '" + std::string(r.name_view()) + "' changes only through the loop ops");
    case value_type::array:
    case value_type::list:
      return sequence_from_json(r, value);
    default:
      return write_buffer(r, to_buffer_bytes(r, value));
  }
}

json add_json_value(variable_record& r, const json& delta) {
  switch (r.type) {
    case value_type::int64:
      return add_scalar(r, to_int64(r, delta));
    case value_type::uint64:
      return add_scalar(r, to_uint64(r, delta));
    case value_type::float64:
      return add_scalar(r, to_double(r, delta));
    case value_type::counter:
      counter_add(r, to_int64(r, delta));
      return counter_value(r);
    default:
      throw error(errc::type_mismatch, "add needs an int64, uint64, double or counter; '" + std::string(r.name_view()) +
                                           "' is " + std::string(to_string(r.type)));
  }
}

namespace {
// cas on a scalar record, with both operands converted by `to_value`.
template <class T>
bool compare_exchange_converted(variable_record& r, const json& expected, const json& desired,
                                T (*to_value)(const value_target&, const json&)) {
  T e = to_value(r, expected);
  return compare_exchange_scalar(r, e, to_value(r, desired));
}
}  // namespace

json compare_exchange_json_value(variable_record& r, const json& expected, const json& desired) {
  if (has_own_ops(r.type) && r.type != value_type::loop) throw_not_a_value(r);
  bool ok = false;
  switch (r.type) {
    case value_type::int64:
      ok = compare_exchange_converted(r, expected, desired, to_int64);
      break;
    case value_type::uint64:
      ok = compare_exchange_converted(r, expected, desired, to_uint64);
      break;
    case value_type::float64:
      ok = compare_exchange_converted(r, expected, desired, to_double);
      break;
    case value_type::boolean:
      ok = compare_exchange_converted(r, expected, desired, to_bool);
      break;
    case value_type::loop:
      throw error(errc::type_mismatch, "cas does not apply to loop '" + std::string(r.name_view()) + "'");
    default: {
      std::string e = to_buffer_bytes(r, expected);
      ok = compare_exchange_buffer(r, e, to_buffer_bytes(r, desired));
      break;
    }
  }
  return {{"ok", ok}, {"value", read_json_value(r)}};
}

json describe_record(variable_record& r) { return describe_record(r, read_json_value(r)); }

json describe_record(const variable_record& r, json value) {
  return {{"name", std::string(r.name_view())},
          {"type", to_string(r.type)},
          {"version", r.version.load()},
          {"capacity", r.capacity},
          {"last_writer_pid", r.last_writer_pid()},
          {"last_write_ns", r.last_write_ns()},
          {"value", std::move(value)}};
}

void check_json_depth(std::string_view text) {
  std::size_t depth = 0;
  bool in_string = false, escaped = false;
  for (char c : text) {
    if (in_string) {
      if (escaped)
        escaped = false;
      else if (c == '\\')
        escaped = true;
      else if (c == '"')
        in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > max_json_depth) {
        throw error(errc::bad_request, "JSON nests deeper than " + std::to_string(max_json_depth) + " levels");
      }
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
}

std::string encode_json_text(const json& value) { return value.dump(-1, ' ', false, json::error_handler_t::replace); }

namespace {
constexpr char b64_alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
int b64_value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}
}  // namespace

std::string base64_encode(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    std::uint32_t n = (std::uint8_t(bytes[i]) << 16) | (std::uint8_t(bytes[i + 1]) << 8) | std::uint8_t(bytes[i + 2]);
    for (int shift = 18; shift >= 0; shift -= 6) out += b64_alphabet[(n >> shift) & 63];
  }
  if (std::size_t rest = bytes.size() - i; rest > 0) {
    std::uint32_t n = std::uint8_t(bytes[i]) << 16;
    if (rest == 2) n |= std::uint8_t(bytes[i + 1]) << 8;
    out += b64_alphabet[(n >> 18) & 63];
    out += b64_alphabet[(n >> 12) & 63];
    out += rest == 2 ? b64_alphabet[(n >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

std::string base64_decode(std::string_view text) {
  if (text.size() % 4 != 0) throw error(errc::invalid_argument, "base64 length is not a multiple of 4");
  std::string out;
  out.reserve(text.size() / 4 * 3);
  for (std::size_t i = 0; i < text.size(); i += 4) {
    int v[4];
    int pad = 0;
    for (int k = 0; k < 4; ++k) {
      char c = text[i + k];
      bool last_group = i + 4 == text.size();
      if (c == '=' && last_group && k >= 2 && (k == 3 || text[i + 3] == '=')) {
        v[k] = 0;
        ++pad;
      } else if ((v[k] = b64_value(c)) < 0) {
        throw error(errc::invalid_argument, "invalid base64 character at " + std::to_string(i + k));
      }
    }
    std::uint32_t n = (v[0] << 18) | (v[1] << 12) | (v[2] << 6) | v[3];
    out += static_cast<char>((n >> 16) & 0xff);
    if (pad < 2) out += static_cast<char>((n >> 8) & 0xff);
    if (pad < 1) out += static_cast<char>(n & 0xff);
  }
  return out;
}

}  // namespace mpstate::core
