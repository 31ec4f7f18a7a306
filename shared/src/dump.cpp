// SPDX-License-Identifier: MIT
#include "mpstate/core/dump.hpp"

#include <algorithm>
#include <iomanip>
#include <nlohmann/json.hpp>
#include <utility>

#include "mpstate/core/process_identity.hpp"
#include "mpstate/core/record_ops.hpp"
#include "mpstate/core/value_codec.hpp"
#include "mpstate/error.hpp"

namespace mpstate::core {
namespace {

std::string shorten(std::string text, std::size_t width) {
  for (char& c : text) {
    if (c == '\n' || c == '\t' || c == '\r') c = ' ';
  }
  if (text.size() > width) text = text.substr(0, width - 3) + "...";
  return text;
}

std::string age_text(std::int64_t since_ns) {
  if (since_ns <= 0) return "-";
  double s = static_cast<double>(now_ns() - since_ns) / 1e9;
  std::ostringstream o;
  o << std::fixed << std::setprecision(s < 10 ? 2 : 0) << std::max(0.0, s) << "s";
  return o.str();
}

// A holder: a process by its pid, or a TCP connection's session (a negative pid).
std::string holder_text(int pid) {
  return pid < 0 ? "TCP session " + std::to_string(-pid) : "pid " + std::to_string(pid);
}

std::string pids_text(const nlohmann::json& holders) {
  std::string text;
  for (const auto& h : holders) {
    const int pid = h.at("pid").get<int>();
    if (!text.empty()) text += ',';
    if (pid < 0) text += "session ";
    text += std::to_string(pid < 0 ? -pid : pid);
    if (const auto count = h.at("count").get<std::uint64_t>(); count > 1)
      text.append("x").append(std::to_string(count));
  }
  return text.empty() ? "-" : text;
}

// Synchronisation variables, one line each: who holds what.
std::string sync_text(const std::string& type, const nlohmann::json& value) {
  if (type == "lock" || type == "rlock") {
    if (!value.at("locked").get<bool>()) return "free";
    std::string text = "held by " + holder_text(value.at("holder_pid").get<int>());
    if (type == "rlock") text += " depth " + std::to_string(value.at("depth").get<std::uint64_t>());
    return text;
  }
  if (type == "semaphore" || type == "bounded_semaphore") {
    std::string text = std::to_string(value.at("value").get<std::int64_t>()) + " free";
    if (value.contains("bound")) text += " of " + std::to_string(value.at("bound").get<std::int64_t>());
    if (!value.value("return_dead_permits", false)) return text;  // a counter: permits have no holders
    return text + ", held by " + pids_text(value.at("holders"));
  }
  if (type == "condition") {
    std::string text = value.at("locked").get<bool>() ? "held by " + holder_text(value.at("holder_pid").get<int>())
                                                      : std::string("free");
    return text + ", " + std::to_string(value.at("waiting").get<std::uint64_t>()) + " waiting";
  }
  if (type == "event") return value.at("set").get<bool>() ? "set" : "clear";
  const auto waiting = value.at("waiting").get<std::int64_t>();
  std::string text =
      std::to_string(waiting) + " of " + std::to_string(value.at("parties").get<std::int64_t>()) + " parties waiting";
  if (waiting > 0) text += " (pids " + pids_text(value.at("holders")) + ")";
  text += ", passed " + std::to_string(value.at("generation").get<std::uint64_t>()) + " times";
  return text + (value.at("broken").get<bool>() ? ", BROKEN" : "");
}

std::string value_text(const nlohmann::json& v) {
  const nlohmann::json& value = v.at("value");
  const std::string type = v.at("type").get<std::string>();
  if (is_sync(value_type_from_string(type))) return sync_text(type, value);
  if (type == "array" || type == "list") {
    return value.at("of").get<std::string>() + "[" + std::to_string(value.at("items").size()) + "] " +
           encode_json_text(value.at("items"));
  }
  if (type == "queue") {
    const auto maxsize = value.at("maxsize").get<std::uint64_t>();
    std::string text = std::to_string(value.at("size").get<std::uint64_t>()) +
                       (maxsize ? "/" + std::to_string(maxsize) : std::string(" (unbounded)")) + " " +
                       value.at("of").get<std::string>() + " items";
    if (auto unfinished = value.at("unfinished").get<std::uint64_t>()) {
      text += ", " + std::to_string(unfinished) + " unfinished";
    }
    return text + ", " + std::to_string(value.at("puts").get<std::uint64_t>()) + " put";
  }
  if (type == "loop") {
    const int pid = value.at("pid").get<int>();
    std::string text = value.at("state").get<std::string>() +
                       (pid < 0 ? " session=" + std::to_string(-pid) : " pid=" + std::to_string(pid)) +
                       " iterations=" + std::to_string(value.at("iterations").get<std::uint64_t>());
    auto age = value.at("heartbeat_age_ms").get<std::int64_t>();
    if (age >= 0) text += " heartbeat=" + std::to_string(age) + "ms ago";
    if (auto reason = value.at("reason").get<std::string>(); !reason.empty()) {
      text += " reason=\"" + reason + "\"";
    }
    return text;
  }
  return encode_json_text(value);
}

// Never waits for a record's lock (the dump is what an operator runs when something
// is stuck): a held record is read without it where its value is one buffer (the
// last committed value), and shown with who holds it.
nlohmann::json describe_without_waiting(variable_record& r) {
  op_context never_wait{.may_wait = false};  // for this read only: the caller's own comes back after it
  const op_scope scope(never_wait);
  try {
    return describe_record(r);
  } catch (const lock_busy& busy) {
    nlohmann::json out = describe_record(r, read_json_value_unlocked(r).value_or(nullptr));
    out["locked"] = busy.message();
    return out;
  }
}

// The VALUE column: shortened, except what an operator came for (why a loop failed,
// who holds a variable) which is shown whole.
std::string row_value_text(const nlohmann::json& v) {
  std::string text;
  if (v.at("value").is_null() && v.contains("error")) {
    text = "(unreadable: " + v.at("error").get<std::string>() + ")";
  } else if (v.at("value").is_null() && v.contains("locked")) {
    text = "(its state cannot be read while it is locked)";
  } else {
    text = value_text(v);
  }
  const bool failed_loop =
      v.at("type") == "loop" && v.at("value").is_object() && v.at("value").value("state", "") == "failed";
  text = failed_loop ? shorten(text, 100000) : shorten(text, 60);
  if (v.contains("locked")) text += "  [" + v.at("locked").get<std::string>() + "]";
  return text;
}

}  // namespace

std::optional<nlohmann::json> describe_bound(const segment& s, variable_record* r) {
  variable_record* current = r;  // bound, so it keeps the records it moved to alive
  try {
    while (true) {
      try {
        return describe_without_waiting(*current);
      } catch (const record_moved&) {
        current = s.record_at(current->moved_to.load(std::memory_order_acquire));
      }
    }
  } catch (const error& e) {
    if (e.code() == errc::not_found) return std::nullopt;  // deleted meanwhile: leave it out
    // One unreadable value must not hide the others: show it with its error.
    return nlohmann::json{{"name", std::string(r->name_view())},
                          {"type", to_string(r->type)},
                          {"version", r->version.load()},
                          {"capacity", r->capacity},
                          {"last_writer_pid", r->last_writer_pid()},
                          {"last_write_ns", r->last_write_ns()},
                          {"value", nullptr},
                          {"error", e.what()}};
  }
}

nlohmann::json dump_json(const segment& s, std::string_view prefix) {
  nlohmann::json vars = nlohmann::json::array();
  std::vector<variable_record*> records = s.list(prefix, /*bind=*/true);
  for (variable_record* r : records) {
    if (auto described = describe_bound(s, r)) vars.push_back(*std::move(described));
  }
  for (auto* r : records) segment::unbind(r);
  const segment_header& h = s.header();
  return {{"segment", s.shm_name()},
          {"size", s.size()},
          {"manager_pid", h.manager_pid.load()},
          {"manager_alive", is_alive({h.manager_pid.load(), h.manager_start_time.load()})},
          {"variables", std::move(vars)}};
}

void write_dump_table(std::ostream& out, const nlohmann::json& dump) {
  const auto& vars = dump.at("variables");
  std::size_t name_width = 4;
  for (const auto& v : vars) {
    name_width = std::max(name_width, v.at("name").get_ref<const std::string&>().size());
  }
  name_width = std::min<std::size_t>(name_width, 40);
  if (dump.contains("redis")) {  // the Redis backend: no segment, no manager
    out << "redis " << dump.at("redis").get<std::string>() << ", " << vars.size() << " variable(s)\n";
  } else {
    out << "segment " << dump.at("segment").get<std::string>() << ", " << vars.size() << " variable(s), manager pid "
        << dump.at("manager_pid").get<int>() << (dump.value("manager_alive", false) ? "" : " (not running)") << "\n";
  }
  constexpr int type_width = 19;  // "bounded_semaphore" and two spaces
  out << std::left << std::setw(static_cast<int>(name_width) + 2) << "NAME" << std::setw(type_width) << "TYPE"
      << std::setw(9) << "VERSION" << std::setw(9) << "WRITER" << std::setw(9) << "AGE"
      << "VALUE\n";
  for (const auto& v : vars) {
    out << std::left << std::setw(static_cast<int>(name_width) + 2)
        << shorten(v.at("name").get<std::string>(), name_width) << std::setw(type_width)
        << v.at("type").get<std::string>() << std::setw(9) << v.at("version").get<std::uint64_t>() << std::setw(9)
        << v.at("last_writer_pid").get<int>() << std::setw(9) << age_text(v.at("last_write_ns").get<std::int64_t>())
        << row_value_text(v) << "\n";
  }
}

}  // namespace mpstate::core
