// SPDX-License-Identifier: MIT
// The Redis backend's scripts as the link runs them: the embedded Lua (lua/*.lua,
// through the generated redis_lua.hpp), and the fenced writes made of two of them.
#include "redis_scripts.hpp"

#include "redis_lua.hpp"

namespace mpstate::detail::redis_scripts {

namespace {
std::string fenced(std::string_view write) { return std::string(lua::fence_check) + std::string(write); }
}  // namespace

const std::string create{lua::create}, read{lua::read}, set{lua::set}, set_or_create{lua::set_or_create},
    add_int{lua::add_int}, cas{lua::cas}, watch{lua::watch}, remove{lua::remove};
const std::string fenced_set = fenced(lua::set), fenced_set_or_create = fenced(lua::set_or_create),
                  fenced_add_int = fenced(lua::add_int), fenced_cas = fenced(lua::cas);
const std::string lock{lua::lock}, loop{lua::loop}, event{lua::event}, queue{lua::queue};
const std::string items{lua::items}, barrier{lua::barrier}, condition{lua::condition};

}  // namespace mpstate::detail::redis_scripts
