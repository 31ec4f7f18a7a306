// SPDX-License-Identifier: MIT
// A binding's calls over the wire: each builds its request's JSON from element bytes
// and turns the answer back into them, so the proxies' templates (value.hpp,
// array.hpp, queue.hpp, counter.hpp) compile without nlohmann.
#include <nlohmann/json.hpp>
#include <utility>

#include "mpstate/core/value_codec.hpp"
#include "mpstate/detail/binding.hpp"
#include "mpstate/error.hpp"

namespace mpstate::detail {

using nlohmann::json;

std::string binding::element_of(core::value_type type, const json& value) const {
  try {
    return core::element_from_json(name_, type, value);
  } catch (const error&) {
    throw_holds(value);
  } catch (const json::exception&) {
    throw_holds(value);
  }
}

std::string binding::remote_get(core::value_type type) const {
  return element_of(type, core_->value_call(value_op::get, name_, json()));
}

void binding::remote_set(core::value_type type, std::string_view value, const Fence* fence) const {
  json operand = core::element_to_json(type, std::string(value));
  if (!fence) {
    core_->value_call(value_op::set, name_, operand);
    return;
  }
  remote({{"op", "set"}, {"value", std::move(operand)}, {"fence", fence_field(*fence)}});
}

std::string binding::remote_add(core::value_type type, std::string_view delta, const Fence* fence) const {
  json operand = core::element_to_json(type, std::string(delta));
  if (!fence) return element_of(type, core_->value_call(value_op::add, name_, operand));
  return element_of(type,
                    remote({{"op", "add"}, {"delta", std::move(operand)}, {"fence", fence_field(*fence)}}).at("value"));
}

void binding::remote_add_only(core::value_type type, std::string_view delta) const {
  core_->value_call(value_op::add, name_, core::element_to_json(type, std::string(delta)));
}

bool binding::remote_compare_exchange(core::value_type type, std::string& expected, std::string_view desired,
                                      const Fence* fence) const {
  json request = {{"op", "cas"},
                  {"expected", core::element_to_json(type, expected)},
                  {"desired", core::element_to_json(type, std::string(desired))}};
  if (fence) request["fence"] = fence_field(*fence);
  const json result = remote(std::move(request));
  const bool ok = result.at("ok").get<bool>();
  if (!ok) expected = element_of(type, result.at("value"));
  return ok;
}

std::string binding::remote_item_get(core::value_type type, std::int64_t index) const {
  return element_of(type, remote({{"op", "item_get"}, {"index", index}}).at("value"));
}

void binding::remote_item_set(core::value_type type, std::int64_t index, std::string_view value) const {
  remote({{"op", "item_set"}, {"index", index}, {"value", core::element_to_json(type, std::string(value))}});
}

std::vector<std::string> binding::remote_items(core::value_type type) const {
  const json got = remote({{"op", "get"}});
  std::vector<std::string> out;
  for (const json& item : got.at("value").at("items")) out.push_back(element_of(type, item));
  return out;
}

namespace {
json items_json(core::value_type type, const std::vector<std::string>& items) {
  json list = json::array();
  for (const std::string& item : items) list.push_back(core::element_to_json(type, item));
  return list;
}
}  // namespace

void binding::remote_assign(core::value_type type, const std::vector<std::string>& items) const {
  remote({{"op", "set"}, {"value", {{"items", items_json(type, items)}}}});
}

std::uint64_t binding::remote_append(core::value_type type, const std::vector<std::string>& items) const {
  return remote({{"op", "list_append"}, {"items", items_json(type, items)}}).at("size").get<std::uint64_t>();
}

void binding::remote_insert(core::value_type type, std::int64_t index, std::string_view value) const {
  remote({{"op", "list_insert"}, {"index", index}, {"value", core::element_to_json(type, std::string(value))}});
}

std::string binding::remote_pop(core::value_type type, std::int64_t index) const {
  return element_of(type, remote({{"op", "list_pop"}, {"index", index}}).at("value"));
}

void binding::remote_op(std::string_view op) const { remote({{"op", op}}); }

}  // namespace mpstate::detail
