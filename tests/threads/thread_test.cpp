// SPDX-License-Identifier: MIT
// Threads, for ThreadSanitizer: the manager library served from a thread of the
// test process, and one Client (local and socket proxies) shared by many threads.
#define BOOST_TEST_MODULE mpstate_threads
#include <algorithm>
#include <atomic>
#include <boost/test/unit_test.hpp>
#include <thread>
#include <vector>

#include "mpstate/manager/server.hpp"
#include "mpstate/mpstate.hpp"
#include "test_support.hpp"

using namespace mpstate;

using runtime_dir = test::runtime_dir_fixture;
BOOST_TEST_GLOBAL_FIXTURE(runtime_dir);

namespace {
// A manager served by a thread of this process; stopped and joined at the end.
struct in_process_manager {
  in_process_manager() : name(test::unique_name("th")), srv(make_options(name)), thread([this] { srv.run(); }) {}
  ~in_process_manager() {
    srv.stop();
    thread.join();
  }
  static manager::options make_options(const std::string& n) {
    manager::options o;
    o.name = n;
    o.size = 4 << 20;
    return o;
  }
  std::string name;
  manager::server srv;
  std::thread thread;
};
}  // namespace

BOOST_FIXTURE_TEST_SUITE(threads, in_process_manager)

BOOST_AUTO_TEST_CASE(threads_sharing_one_client_add_exactly_on_both_transports) {
  constexpr int threads = 4, adds = 2000;
  Client local(name);
  Client remote(ClientOptions{.manager_name = name, .transport = Transport::socket});
  auto counter = local.create<std::int64_t>("counter", 0);
  auto remote_counter = remote.value<std::int64_t>("counter");
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      for (int i = 0; i < adds; ++i) {
        if (t % 2 == 0)
          counter.add(1);
        else
          remote_counter.add(1);  // the socket channel is shared between threads
      }
    });
  }
  for (auto& th : pool) th.join();
  BOOST_TEST(counter.get() == threads * adds);
}

BOOST_AUTO_TEST_CASE(a_waiting_thread_is_woken_by_a_writer_thread) {
  Client client(name);
  auto v = client.create<std::int64_t>("v", 0);
  std::uint64_t seen = v.version();
  std::thread writer([&] { v.set(1); });
  std::uint64_t now = v.wait_for_change(seen, std::chrono::seconds(5));
  writer.join();
  BOOST_TEST(now != seen);
  BOOST_TEST(v.get() == 1);
}

BOOST_AUTO_TEST_CASE(a_loop_owned_by_one_thread_is_stopped_from_another) {
  Client client(name);
  LoopState loop = client.loop("loop");
  std::thread owner([&] {
    loop.mark_starting();
    loop.mark_running();
    while (!loop.stop_requested()) loop.heartbeat();
    loop.mark_stopped();
  });
  BOOST_REQUIRE((loop.wait_for(LoopPhase::running, std::chrono::seconds(5)) == LoopPhase::running));
  loop.request_stop();
  BOOST_TEST((loop.wait_for(LoopPhase::stopped, std::chrono::seconds(5)) == LoopPhase::stopped));
  owner.join();
}

BOOST_AUTO_TEST_CASE(socket_waits_are_answered_by_local_and_by_socket_writers) {
  Client local(name);
  Client remote(ClientOptions{.manager_name = name, .transport = Transport::socket});
  auto watched = local.create<std::int64_t>("watched", 0);
  auto remote_view = remote.value<std::int64_t>("watched");
  for (int round = 0; round < 20; ++round) {
    std::uint64_t seen = remote_view.version();
    std::thread writer([&] {
      if (round % 2 == 0)
        watched.add(1);  // a local write: the manager's futex thread answers
      else
        Client(ClientOptions{.manager_name = name, .transport = Transport::socket})
            .value<std::int64_t>("watched")
            .add(1);
    });
    std::uint64_t now = remote_view.wait_for_change(seen, std::chrono::seconds(5));
    writer.join();
    BOOST_TEST(now != seen);
  }
  BOOST_TEST(watched.get() == 20);
  // A wait that times out, and one left pending when the client goes away.
  BOOST_TEST(remote_view.wait_for_change(remote_view.version(), std::chrono::milliseconds(20)) ==
             remote_view.version());
  {
    Client leaving(ClientOptions{.manager_name = name, .transport = Transport::socket});
    leaving.request({{"op", "list"}});
  }
}

BOOST_AUTO_TEST_CASE(threads_sharing_one_proxy_follow_a_value_that_grows) {
  constexpr int threads = 4, appends = 300;
  Client local(name);
  auto text = local.create<std::string>("grows", "", 8);  // one proxy, shared: each thread follows the moves
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      for (int i = 0; i < appends; ++i) text.update([&](std::string v) { return v + static_cast<char>('a' + t); });
    });
  }
  for (auto& th : pool) th.join();
  const std::string got = text.get();
  BOOST_TEST(got.size() == static_cast<std::size_t>(threads * appends));
  for (int t = 0; t < threads; ++t) {
    BOOST_TEST(std::count(got.begin(), got.end(), static_cast<char>('a' + t)) == appends);
  }
}

BOOST_AUTO_TEST_CASE(threads_sharing_one_queue_deliver_each_item_once) {
  constexpr int per_thread = 2000;
  Client local(name);
  auto q = local.queue<std::int64_t>("tq", 64);
  std::atomic<std::int64_t> sum{0}, count{0};
  std::vector<std::thread> pool;
  for (int t = 0; t < 2; ++t) {
    pool.emplace_back([&, t] {
      for (int i = 0; i < per_thread; ++i) q.put(t * per_thread + i);
    });
    pool.emplace_back([&] {
      for (int i = 0; i < per_thread; ++i) {
        sum += q.get().value();
        ++count;
      }
    });
  }
  for (auto& th : pool) th.join();
  BOOST_TEST(count.load() == 2 * per_thread);
  BOOST_TEST(sum.load() == static_cast<std::int64_t>(2 * per_thread) * (2 * per_thread - 1) / 2);
}

BOOST_AUTO_TEST_SUITE_END()
