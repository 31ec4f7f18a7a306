// SPDX-License-Identifier: MIT
// Helpers shared by the Redis backend suites (redis_backend_test.cpp,
// redis_sync_test.cpp).
#pragma once

#include <unistd.h>

#include <boost/test/unit_test.hpp>
#include <cstdio>
#include <fstream>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "process_fixture.hpp"
#include "redis_fixture.hpp"

namespace mpstate::test {

constexpr std::int64_t rb_int64_max = std::numeric_limits<std::int64_t>::max();
constexpr std::int64_t rb_int64_min = std::numeric_limits<std::int64_t>::min();

inline Client rb_connect(const std::string& url) { return Client(ClientOptions{.manager_name = url}); }

// The code and the what() of the mpstate::error `fn` throws (errc::ok when it returns).
struct rb_failure {
  errc code = errc::ok;
  std::string what;
};
template <class Fn>
rb_failure rb_failure_of(Fn&& fn) {
  try {
    fn();
    return {};
  } catch (const error& e) {
    return {e.code(), e.what()};
  }
}

inline bool rb_mentions(const std::string& text, const std::string& word) {
  return text.find(word) != std::string::npos;
}

// child_holding, but a `take` that throws (no backend yet, a refused connection)
// still reports back, so the parent fails its checks instead of waiting forever on
// the pipe (child_holding keeps the pipe's write end open while it reads).
inline pid_t rb_child_holding(const std::function<void()>& take) {
  return child_holding([&] {
    try {
      take();
    } catch (const std::exception& e) {
      std::fprintf(stderr, "holder %d: %s\n", ::getpid(), e.what());
    }
  });
}

// The int64s a child wrote to `path` (native byte order), in the order written.
inline std::vector<std::int64_t> rb_read_items(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::vector<std::int64_t> items;
  std::int64_t v;
  while (in.read(reinterpret_cast<char*>(&v), sizeof v)) items.push_back(v);
  return items;
}

// Sets each of `values` and checks it reads back and that the version grew.
template <class T>
void rb_check_sets(Value<T>& v, const std::vector<T>& values) {
  for (const T& x : values) {
    const std::uint64_t before = v.version();
    v.set(x);
    BOOST_TEST((v.get() == x), v.name());
    BOOST_TEST(v.version() > before, v.name());
  }
}

}  // namespace mpstate::test
