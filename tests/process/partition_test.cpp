// SPDX-License-Identifier: MIT
// TCP clients on another "machine" (a network namespace joined by a veth pair) cut
// off by a real partition (the link taken down: packets vanish, nobody is told):
// the manager ends what they held within about the lease, the next holder is told,
// and after the network heals the cut-off side is told it lost its ownership, never
// freeing or writing over its successor's. A client blocked in `wait` when the
// network goes is told within the lease, not left hanging.
#include <unistd.h>

#include <boost/test/unit_test.hpp>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "network_partition.hpp"
#include "process_fixture.hpp"

using namespace mpstate;
using namespace mpstate::test;
using namespace std::chrono;
using nlohmann::json;

namespace {

const std::string partition_key = "partition-test-key-0123456789abcdef";

// A manager listening on the host side of a partitionable link, lease 2 s.
struct partition_fixture {
  partition_fixture() {
    if (!network_partition::available()) return;
    link.emplace();
    key_path = std::filesystem::temp_directory_path() / unique_name("pkey");
    std::ofstream(key_path) << partition_key << "\n";
    std::filesystem::permissions(key_path, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
    ManagerOptions o;
    o.size = 8 << 20;
    o.executable = MPSTATE_MANAGER_PATH;
    o.extra_args = {"--listen", link->host_address() + ":0", "--key-file", key_path.string(), "--lease", "2"};
    manager.emplace(Manager::start(o));
    local.emplace(manager->connect());
    url = "tcp://" + local->request({{"op", "stat"}})["listening"][0].get<std::string>();
  }
  ~partition_fixture() {
    if (!key_path.empty()) std::filesystem::remove(key_path);
  }
  bool skipped() const {
    if (link) return false;
    BOOST_TEST_MESSAGE("skipped: network namespaces need root and iproute2");
    return true;
  }
  // A child on the other machine: runs `body` with a client of the manager there.
  pid_t remote_child(const std::function<int(Client&)>& body) {
    return spawn([&] {
      link->enter();
      Client c(ClientOptions{.manager_name = url, .key = partition_key});
      return body(c);
    });
  }

  std::optional<network_partition> link;
  std::filesystem::path key_path;
  std::optional<Manager> manager;
  std::optional<Client> local;
  std::string url;
};

// A pipe the test and a child signal each other through, one byte at a time.
struct signal_pipe {
  signal_pipe() { BOOST_REQUIRE(::pipe(fds) == 0); }
  ~signal_pipe() {
    ::close(fds[0]);
    ::close(fds[1]);
  }
  void post() const { [[maybe_unused]] auto n = ::write(fds[1], "x", 1); }
  void take() const {
    char c;
    BOOST_REQUIRE(::read(fds[0], &c, 1) == 1);
  }
  int fds[2];
};

}  // namespace

BOOST_FIXTURE_TEST_SUITE(partitions, partition_fixture)

BOOST_AUTO_TEST_CASE(a_partitioned_lock_holder_is_told_and_never_frees_its_successors_lock) {
  if (skipped()) return;
  auto n = local->value_or_create<std::int64_t>("p/n", 0);
  auto lock = local->lock("p/lock");
  signal_pipe held, go;
  pid_t child = remote_child([&](Client& c) {
    auto l = c.lock("p/lock");
    auto v = c.value<std::int64_t>("p/n");
    if (!l.acquire(5s)) return 10;
    const Fence f = l.fence();
    v.add(1, f);
    held.post();
    go.take();  // the network was cut, the manager freed the lock, the network healed
    // The first op may meet the connection the manager ended (an RST: it cannot know
    // whether its request arrived, manager_unavailable); from then on it is told.
    const errc first = error_of([&] { v.add(1, f); });
    if (first != errc::ownership_lost && first != errc::manager_unavailable) return 11;
    if (error_of([&] { v.add(1, f); }) != errc::ownership_lost) return 14;
    if (error_of([&] { l.release(); }) != errc::ownership_lost) return 12;
    // Plain reads and writes reconnect by themselves.
    errc plain = errc::manager_unavailable;
    for (int i = 0; i < 20 && plain == errc::manager_unavailable; ++i) plain = error_of([&] { v.get(); });
    return plain == errc::ok ? 0 : 13;
  });
  held.take();
  link->cut();
  // The manager hears nothing from the holder's machine for the lease (2 s): the
  // holder's connection and lease end, and the next acquirer is told.
  AcquireResult got;
  const auto took = time_of([&] { got = lock.acquire(15s); });
  BOOST_REQUIRE(got.acquired);
  BOOST_TEST(got.previous_owner_died);
  BOOST_TEST((took < 6s), took.count() << " ms");
  link->heal();
  go.post();
  BOOST_TEST(wait_exit(child, 60s).value() == 0);
  // The cut-off holder neither released our lock nor wrote under its stale fence.
  BOOST_TEST(lock.locked());
  BOOST_TEST(lock.state()["holder_pid"] == ::getpid());
  BOOST_TEST(n.add(0, lock.fence()) == 1);
  lock.release();
}

BOOST_AUTO_TEST_CASE(a_loop_owner_cut_off_is_told_at_its_next_heartbeat) {
  if (skipped()) return;
  auto loop = local->loop("p/loop");
  signal_pipe running, go;
  pid_t child = remote_child([&](Client& c) {
    auto l = c.loop("p/loop");
    l.mark_starting();
    l.mark_running();
    l.heartbeat();
    running.post();
    go.take();
    const errc first = error_of([&] { l.heartbeat(); });  // as above: the ended connection first, maybe
    if (first != errc::ownership_lost && first != errc::manager_unavailable) return 2;
    return error_of([&] { l.heartbeat(); }) == errc::ownership_lost ? 0 : 1;
  });
  running.take();
  link->cut();
  BOOST_TEST((loop.wait_for(LoopPhase::stopped, 15s) == LoopPhase::failed));
  link->heal();
  go.post();
  BOOST_TEST(wait_exit(child, 60s).value() == 0);
  BOOST_TEST((loop.state() == LoopPhase::failed));
}

BOOST_AUTO_TEST_CASE(a_client_blocked_in_wait_when_the_network_goes_is_told_within_the_lease) {
  if (skipped()) return;
  auto v = local->value_or_create<std::int64_t>("p/w", 0);
  signal_pipe done;
  pid_t child = remote_child([&](Client& c) {
    auto w = c.value<std::int64_t>("p/w");
    const errc e = error_of([&] { w.wait_for_change(w.version(), 60s); });
    done.post();
    return e == errc::manager_unavailable ? 0 : 1;
  });
  BOOST_TEST(eventually([&] { return local->request({{"op", "stat"}})["waits_pending"] == 1; }, 10s));
  link->cut();
  const auto took = time_of([&] { done.take(); });
  BOOST_TEST((took < 5s), took.count() << " ms");  // the lease is 2 s
  link->heal();
  BOOST_TEST(wait_exit(child, 30s).value() == 0);
  v.set(1);
}

BOOST_AUTO_TEST_SUITE_END()
