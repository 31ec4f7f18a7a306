// SPDX-License-Identifier: MIT
#include "mpstate/queue.hpp"

#include <nlohmann/json.hpp>

#include "mpstate/core/value_codec.hpp"
#include "mpstate/error.hpp"

namespace mpstate::detail {

using namespace std::chrono;

queue_handle::queue_handle(std::shared_ptr<client_core> core, std::string_view name, core::value_type element)
    : binding_(std::move(core), name, core::value_type::queue), element_(element) {
  if (core::value_type of = counts().element; of != element) {
    throw error(errc::type_mismatch, "queue '" + binding_.name() + "' holds " + std::string(core::to_string(of)) +
                                         ", not " + std::string(core::to_string(element)));
  }
}

core::queue_counts queue_handle::counts() const {
  if (binding_.record()) return binding_.on_record([](auto& r) { return core::read_queue(r); });
  nlohmann::json s = state();
  return {core::value_type_from_string(s.at("of").get<std::string>()),
          s.at("size").get<std::uint64_t>(),
          s.at("maxsize").get<std::uint64_t>(),
          s.at("item_size").get<std::uint64_t>(),
          s.at("unfinished").get<std::uint64_t>(),
          s.at("puts").get<std::uint64_t>(),
          s.at("gets").get<std::uint64_t>(),
          s.at("slots").get<std::uint64_t>(),
          s.at("maxsize").get<std::uint64_t>() == 0};
}

nlohmann::json queue_handle::state() const {
  if (binding_.record()) return binding_.on_record([](auto& r) { return core::queue_to_json(r); });
  return binding_.remote({{"op", "get"}}).at("value");
}

std::uint64_t queue_handle::size() const { return counts().size; }
bool queue_handle::full() const {
  const core::queue_counts c = counts();
  return !c.unbounded && c.size >= c.max_items;
}
std::uint64_t queue_handle::maxsize() const { return counts().max_items; }

bool queue_handle::retry_until(const std::function<core::queue_attempt()>& attempt, milliseconds timeout) const {
  core::queue_attempt a = attempt();
  if (a.done) return true;  // the common case reads no clock
  const bool bounded = timeout >= milliseconds::zero();
  const auto deadline = steady_clock::now() + (bounded ? timeout : milliseconds::zero());
  while (true) {
    nanoseconds left = hours(1);
    if (bounded) {
      left = deadline - steady_clock::now();
      if (left <= nanoseconds::zero()) return false;
    }
    binding_.wait_for_change(a.version, left);  // a futex sleep locally; the `wait` op remotely
    a = attempt();
    if (a.done) return true;
  }
}

bool queue_handle::put_item(std::string_view bytes, milliseconds timeout) {
  if (binding_.record()) {  // on_record: follows a queue the manager moved, asks it to grow the item size
    return retry_until([&] { return binding_.on_record([&](auto& r) { return core::try_put(r, bytes); }); }, timeout);
  }
  const nlohmann::json request = {{"op", "queue_put"}, {"value", core::element_to_json(element_, std::string(bytes))}};
  return retry_until(
      [&] {
        nlohmann::json out = binding_.remote(request);
        return core::queue_attempt{out.at("ok").get<bool>(), out.at("version").get<std::uint64_t>()};
      },
      timeout);
}

bool queue_handle::get_item(std::string& bytes, milliseconds timeout) {
  if (binding_.record()) {
    return retry_until([&] { return binding_.on_record([&](auto& r) { return core::try_get(r, bytes); }); }, timeout);
  }
  return retry_until(
      [&] {
        nlohmann::json out = binding_.remote({{"op", "queue_get"}});
        if (out.at("ok").get<bool>()) bytes = core::element_from_json(binding_.name(), element_, out.at("value"));
        return core::queue_attempt{out.at("ok").get<bool>(), out.at("version").get<std::uint64_t>()};
      },
      timeout);
}

}  // namespace mpstate::detail
