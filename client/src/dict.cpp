// SPDX-License-Identifier: MIT
#include "mpstate/dict.hpp"

#include <nlohmann/json.hpp>

#include "mpstate/core/dump.hpp"
#include "mpstate/core/names.hpp"

namespace mpstate {
namespace detail {

std::string key_name(const std::string& prefix, std::string_view key) {
  if (key.find('/') != std::string_view::npos) {
    throw error(errc::invalid_name, "key '" + std::string(key) + "' of '" + prefix + "' may not contain '/'");
  }
  std::string name = prefix + "/" + std::string(key);
  core::validate_variable_name(name);
  return name;
}

bool create_if_absent(client_core& core, const std::string& name, core::value_type type, std::string_view initial) {
  try {
    core.call({{"op", "create"},
               {"name", name},
               {"type", core::to_string(type)},
               {"value", core::element_to_json(type, std::string(initial))}});
    return true;
  } catch (const error& e) {
    if (e.code() != errc::already_exists) throw;
    return false;
  }
}

bool remove_if_present(client_core& core, const std::string& name) {
  try {
    core.call({{"op", "delete"}, {"name", name}});
    return true;
  } catch (const error& e) {
    if (e.code() != errc::not_found) throw;
    return false;
  }
}

std::vector<std::string> child_keys(client_core& core, const std::string& prefix) {
  const std::string under = prefix + "/";
  std::vector<std::string> names;
  if (core::segment* s = core.segment()) {
    names = s->list_names(under);
  } else {
    names = core.call({{"op", "list"}, {"prefix", under}}).at("names").get<std::vector<std::string>>();
  }
  std::vector<std::string> keys;
  for (const std::string& n : names) {
    std::string key = n.substr(under.size());
    if (key.find('/') == std::string::npos) keys.push_back(std::move(key));  // deeper names are not keys
  }
  return keys;
}

std::optional<core::value_type> variable_type(client_core& core, const std::string& name) {
  if (core::segment* s = core.segment()) {
    if (const core::variable_record* r = s->find(name)) return r->type;
    return std::nullopt;
  }
  try {
    return core::value_type_from_string(core.call({{"op", "get"}, {"name", name}}).at("type").get<std::string>());
  } catch (const error& e) {
    if (e.code() != errc::not_found) throw;
    return std::nullopt;
  }
}

}  // namespace detail

Namespace::Namespace(std::shared_ptr<detail::client_core> core, std::string_view name)
    : core_(std::move(core)), name_(name) {
  detail::key_name(name_, "k");  // checks the name
}

bool Namespace::has(std::string_view attr) const {
  return detail::variable_exists(*core_, detail::key_name(name_, attr));
}
bool Namespace::erase(std::string_view attr) {
  return detail::remove_if_present(*core_, detail::key_name(name_, attr));
}
std::vector<std::string> Namespace::names() const { return detail::child_keys(*core_, name_); }

nlohmann::json Namespace::to_json() const {
  const std::string under = name_ + "/";
  nlohmann::json dump =
      core_->segment() ? core::dump_json(*core_->segment(), under) : core_->call({{"op", "dump"}, {"prefix", under}});
  nlohmann::json out = nlohmann::json::object();
  for (const auto& v : dump.at("variables")) {
    std::string key = v.at("name").get<std::string>().substr(under.size());
    if (key.find('/') == std::string::npos) out[key] = v.at("value");
  }
  return out;
}

}  // namespace mpstate
