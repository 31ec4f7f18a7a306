// SPDX-License-Identifier: MIT
#include "mpstate/core/protocol.hpp"

#include <array>

namespace mpstate::core {
namespace {

constexpr std::array<op_spec, op_code_count> ops = {{
    {op_code::hello, "hello", "", "pid, layout_version, protocol_version",
     "{manager, segment, segment_size, layout_version, protocol_version, manager_pid, version, incarnation}",
     "Greets the manager; tells the client which segment to map."},
    {op_code::create, "create", "name, type", "value, capacity", "{name, type, capacity, version}",
     "Creates a variable of a type (int64, uint64, double, bool, string, bytes, json, loop, lock, rlock, "
     "semaphore, bounded_semaphore, event, barrier, condition, queue, array, list)."},
    {op_code::set, "set", "name, value", "capacity, fence", "{version}",
     "Stores a value; creates the variable (type from the JSON value) when absent. With a fence "
     "{lock, epoch}: only while that lock is held with that epoch (else ownership_lost)."},
    {op_code::get, "get", "name", "", "{value, version, type}", "Reads a value."},
    {op_code::add, "add", "name, delta", "fence", "{value}",
     "Adds to an int64, uint64 or double; returns the new value. Fenced as set."},
    {op_code::cas, "cas", "name, expected, desired", "fence", "{ok, value}",
     "Compare-and-swap: stores desired when the value equals expected. Fenced as set."},
    {op_code::delete_, "delete", "name", "", "{}", "Deletes a variable."},
    {op_code::list, "list", "", "prefix", "{names: [..]}",
     "Names of the variables, sorted, optionally under a prefix."},
    {op_code::stat, "stat", "", "", "{manager, segment, size, free_bytes, variables, ...}",
     "The manager's and the segment's figures."},
    {op_code::dump, "dump", "", "prefix", "{variables: [{name, type, version, value, ...}]}",
     "Every variable (under a prefix) with its metadata."},
    {op_code::wait, "wait", "name, version", "timeout_ms", "{version, changed}",
     "Answers when the variable's version differs from `version`, or at the timeout."},
    {op_code::loop_get, "loop_get", "name", "", "{state, pid, iterations, ...}",
     "Reads a loop's state."},
    {op_code::loop_mark, "loop_mark", "name, state", "reason, pid, epoch",
     "{state, pid, iterations, epoch, ...}",
     "Owner transition (starting, running, stopping, stopped, failed) for the calling process; `starting` "
     "begins a new epoch, the others made as `epoch` are refused ownership_lost once it ended."},
    {op_code::loop_heartbeat, "loop_heartbeat", "name", "count, pid, epoch", "{state, iterations, epoch, ...}",
     "Owner heartbeat: adds `count` (default 1) iterations; ownership_lost once `epoch` ended."},
    {op_code::loop_request_stop, "loop_request_stop", "name", "", "{state}",
     "Asks a starting or running loop to stop (state stopping)."},
    {op_code::shutdown, "shutdown", "", "", "{}",
     "Stops the manager gracefully (after answering)."},
    {op_code::acquire, "acquire", "name", "tid, pid", "{acquired, owner_died, fence}",
     "Tries once to take a lock, rlock or semaphore permit for the calling process (never blocks); `fence` "
     "is the holding's epoch."},
    {op_code::release, "release", "name", "tid, pid, epoch", "{kept}",
     "Releases a lock, rlock or semaphore permit; made as the holding `epoch`, refused ownership_lost once it "
     "ended."},
    {op_code::event_set, "event_set", "name, set", "", "{}", "Sets (true) or clears (false) an event."},
    {op_code::barrier_arrive, "barrier_arrive", "name", "pid, hold", "{generation, index, trip}",
     "Arrives at a barrier; the last party trips it, or with hold holds the trip (trip true) to run an action "
     "first."},
    {op_code::barrier_check, "barrier_check", "name, generation", "pid", "{passed}",
     "Whether that generation has tripped; broken_barrier when it broke instead."},
    {op_code::barrier_abort, "barrier_abort", "name", "", "{}", "Breaks a barrier for every waiting party."},
    {op_code::barrier_reset, "barrier_reset", "name", "", "{}",
     "Python's reset: waiting parties leave with broken_barrier, then it is usable again."},
    {op_code::barrier_trip, "barrier_trip", "name, generation", "pid", "{}",
     "Lets everyone through after the held trip's action; broken_barrier when it broke meanwhile."},
    {op_code::queue_put, "queue_put", "name, value", "", "{ok, version}",
     "Appends an item to a queue unless it is full (never blocks; wait on version to block)."},
    {op_code::queue_get, "queue_get", "name", "", "{ok, value, version}",
     "Takes the head item of a queue unless it is empty (never blocks)."},
    {op_code::task_done, "task_done", "name", "", "{unfinished}",
     "Marks one item taken from a queue as processed (JoinableQueue)."},
    {op_code::condition_wait, "condition_wait", "name", "tid, pid", "{depth}",
     "Releases a condition's lock (held by the caller) and queues the caller as a waiter."},
    {op_code::condition_check, "condition_check", "name", "tid, pid", "{notified}",
     "Whether the waiting caller has been notified (then it leaves the waiters)."},
    {op_code::condition_cancel, "condition_cancel", "name", "tid, pid", "{notified}",
     "Leaves a condition's waiters after a timeout."},
    {op_code::notify, "notify", "name", "n, tid, pid", "{woken}",
     "Notifies up to n (default 1) waiters of a condition whose lock the caller holds."},
    {op_code::grow, "grow", "name", "capacity, items", "{capacity, version}",
     "Moves a string, bytes, json or list variable to a buffer of at least `capacity` bytes."},
    {op_code::item_get, "item_get", "name, index", "", "{value}", "Reads one item of an array or list."},
    {op_code::item_set, "item_set", "name, index, value", "", "{version}", "Writes one item of an array or list."},
    {op_code::list_append, "list_append", "name", "value, items", "{size}",
     "Appends an item (or every item of `items`) to a list, growing it as needed."},
    {op_code::list_insert, "list_insert", "name, index, value", "", "{size}", "Inserts an item before `index`."},
    {op_code::list_pop, "list_pop", "name", "index", "{value}", "Removes and returns an item (default the last)."},
    {op_code::collect, "collect", "name", "", "{removed}",
     "Removes a collectable variable (an unnamed Python proxy's) and those under '<name>/' when no process "
     "holds it bound; removed 0 when it stays."},
    {op_code::auth, "auth", "challenge, proof", "", "{proof, access}",
     "TCP only, and first: proves the client holds the key, and the manager that it does too."},
}};

}  // namespace

std::span<const op_spec> op_table() { return ops; }

std::string incarnation_text(std::uint64_t incarnation) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string text(16, '0');
  for (int i = 15; i >= 0; --i, incarnation >>= 4) text[static_cast<std::size_t>(i)] = digits[incarnation & 15];
  return text;
}

const op_spec* find_op(std::string_view name) {
  for (const auto& op : ops) {
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
