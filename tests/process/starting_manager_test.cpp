// SPDX-License-Identifier: MIT
// A manager between making its segment and listening on its socket (held there by a
// --snapshot FIFO nobody has written yet) is starting, not crashed: a client by name
// is told manager_unavailable, instead of getting a client of the segment alone that
// fails at its first create. Once it listens, the same client works.
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/test/unit_test.hpp>
#include <chrono>
#include <filesystem>
#include <string>

#include "mpstate/core/names.hpp"
#include "process_fixture.hpp"

using namespace mpstate;
using namespace mpstate::test;

BOOST_AUTO_TEST_SUITE(starting_manager)

BOOST_AUTO_TEST_CASE(a_client_by_name_waits_for_a_starting_manager_to_answer) {
  const std::string name = unique_name("starting");
  const std::string fifo = "/tmp/" + name + ".snapshot";
  BOOST_REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  const pid_t manager = ::fork();
  BOOST_REQUIRE(manager >= 0);
  if (manager == 0) {
    ::execl(MPSTATE_MANAGER_PATH, MPSTATE_MANAGER_PATH, "--name", name.c_str(), "--size", "1048576", "--snapshot",
            fifo.c_str(), "--log-level", "off", static_cast<char*>(nullptr));
    ::_exit(127);
  }
  struct ended_at_exit {  // whatever the test says: the manager (blocked on the FIFO, maybe) goes
    pid_t pid;
    std::string fifo;
    ~ended_at_exit() {
      ::kill(pid, SIGTERM);  // serving: it exits and removes its segment (blocked on the FIFO: it just ends)
      ::waitpid(pid, nullptr, 0);
      ::unlink(fifo.c_str());
    }
  } ended{manager, fifo};
  // Until it blocks on the FIFO, a client meets a segment not made yet, not whole, or
  // not claimed; then, for as long as the FIFO is not written, its claimed segment.
  std::string told;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (told.empty() && std::chrono::steady_clock::now() < deadline) {
    try {
      Client c(ClientOptions{.manager_name = name});
      BOOST_FAIL("a client of a manager that does not listen yet was made");
    } catch (const error& e) {
      if (e.code() == errc::manager_unavailable &&
          e.message().find("pid " + std::to_string(manager) + ", runs but does not answer yet") != std::string::npos)
        told = e.message();
    }
  }
  BOOST_TEST_MESSAGE(told);
  BOOST_TEST(!told.empty());
  const int fd = ::open(fifo.c_str(), O_WRONLY);  // the manager reads it: an empty snapshot
  const std::string empty = R"({"format":"mpstate-snapshot","format_version":1,"variables":[]})";
  BOOST_REQUIRE(::write(fd, empty.data(), empty.size()) == static_cast<ssize_t>(empty.size()));
  ::close(fd);
  BOOST_TEST(eventually(
      [&] {
        try {
          Client c(ClientOptions{.manager_name = name});
          c.create<std::int64_t>("a/b", 7);
          return c.request({{"op", "get"}, {"name", "a/b"}}).at("value") == 7;
        } catch (const error&) {
          return false;
        }
      },
      std::chrono::seconds(20)));
}

// A manager that does not finish its shutdown in 5 s (here, stopped) is SIGKILLed by
// stop(), which then removes what it would have: its segment and its socket.
BOOST_AUTO_TEST_CASE(a_manager_killed_by_stop_leaves_no_segment_or_socket_behind) {
  Manager m = Manager::start();
  Client c = m.connect();
  auto n = c.create<std::int64_t>("n", 1);
  const std::string segment_file = "/dev/shm/" + core::segment_name(m.name());
  BOOST_REQUIRE(std::filesystem::exists(segment_file));
  BOOST_REQUIRE(::kill(m.pid(), SIGSTOP) == 0);
  m.stop();  // SIGTERM waits while it is stopped; SIGKILL after 5 s
  BOOST_TEST(!std::filesystem::exists(segment_file));
  BOOST_TEST(!std::filesystem::exists(m.socket_path()));
  // A proxy still mapping it is told, not left writing where nobody will look.
  BOOST_TEST((error_of([&] { n.add(1); }) == errc::manager_unavailable));
}

BOOST_AUTO_TEST_SUITE_END()
