// SPDX-License-Identifier: MIT
// Peer credentials: a process of another uid is refused at the socket (SO_PEERCRED)
// even when the socket file itself is opened up, cannot map the 0600 segment, and is
// served over the socket once --allow-uid names it. Needs root (to become nobody).
#include <grp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/test/unit_test.hpp>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "mpstate/core/names.hpp"
#include "mpstate/core/segment.hpp"
#include "process_fixture.hpp"

using namespace mpstate;
using namespace mpstate::test;
using nlohmann::json;

namespace {

// A manager whose socket anyone may connect to at the file level (0666 in a 0755
// directory), so only the credential check stands between it and other users.
struct open_socket_manager {
  explicit open_socket_manager(std::vector<uid_t> allowed, std::vector<std::string> extra_args = {}) {
    char tmpl[] = "/tmp/mpstate-peer.XXXXXX";
    dir = mkdtemp(tmpl);
    chmod(dir.c_str(), 0755);
    ManagerOptions o;
    o.name = unique_name("peer");
    o.socket_path = dir + "/m.sock";
    o.executable = MPSTATE_MANAGER_PATH;
    o.allowed_uids = std::move(allowed);
    o.extra_args = std::move(extra_args);
    manager.emplace(Manager::start(o));
    chmod(o.socket_path.c_str(), 0666);
  }
  ~open_socket_manager() {
    manager.reset();
    std::filesystem::remove_all(dir);
  }
  std::string dir;
  std::optional<Manager> manager;
};

bool running_as_root() {
  if (geteuid() == 0) return true;
  BOOST_TEST_MESSAGE("skipped: needs root to run a client as nobody");
  return false;
}

// Runs `body` in a child that has become uid/gid nobody, with the supplementary
// groups given; returns its exit code.
int as_nobody(const std::function<int()>& body, std::vector<gid_t> groups = {}) {
  pid_t child = spawn([&] {
    if (setgroups(groups.size(), groups.data()) != 0 || setresgid(nobody, nobody, nobody) != 0 ||
        setresuid(nobody, nobody, nobody) != 0) {
      return 90;
    }
    return body();
  });
  return wait_exit(child).value_or(-1);
}
}  // namespace

BOOST_AUTO_TEST_SUITE(peer_credentials)

BOOST_AUTO_TEST_CASE(another_uid_is_refused_at_the_socket_and_cannot_map_the_segment) {
  if (!running_as_root()) return;
  open_socket_manager m({});
  const std::string socket = m.manager->socket_path();
  const std::string segment = core::segment_name(m.manager->name());
  int code = as_nobody([&] {
    raw_connection c(socket);  // the file allows it...
    c.send(R"({"id":1,"op":"hello"})"
           "\n");
    auto line = c.read_line();
    if (!line || json::parse(*line)["error"]["code"] != "permission_denied") return 10;
    if (!c.closed_by_peer()) return 11;  // ...the manager does not
    if (error_of([&] { core::segment::open(segment); }) != errc::permission_denied) return 12;
    return 0;
  });
  BOOST_TEST(code == 0);
  // The owner is still served.
  BOOST_TEST(m.manager->connect().value_or_create<std::int64_t>("still/mine", 1).get() == 1);
}

BOOST_AUTO_TEST_CASE(allow_uid_serves_another_user_over_the_socket) {
  if (!running_as_root()) return;
  open_socket_manager m({nobody});
  m.manager->connect().create<std::int64_t>("shared/n", 41);
  const std::string name = m.manager->name(), socket = m.manager->socket_path();
  int code = as_nobody([&] {
    Client c(ClientOptions{.manager_name = name, .socket_path = socket, .transport = Transport::automatic});
    if (c.is_local()) return 20;  // the 0600 segment is not theirs: socket transport
    if (c.value<std::int64_t>("shared/n").add(1) != 42) return 21;
    return 0;
  });
  BOOST_TEST(code == 0);
  BOOST_TEST(m.manager->connect().value<std::int64_t>("shared/n").get() == 42);
}

BOOST_AUTO_TEST_CASE(allow_gid_serves_members_of_the_group_and_only_them) {
  if (!running_as_root()) return;
  constexpr gid_t team = 4242;
  open_socket_manager m({}, {"--allow-gid", std::to_string(team)});
  m.manager->connect().create<std::int64_t>("team/n", 1);
  const std::string name = m.manager->name(), socket = m.manager->socket_path();
  auto add_one = [&] {
    try {
      Client c(ClientOptions{.manager_name = name, .socket_path = socket, .transport = Transport::socket});
      return c.value<std::int64_t>("team/n").add(1) > 1 ? 0 : 30;
    } catch (const error& e) {
      return e.code() == errc::permission_denied ? 31 : 32;
    }
  };
  BOOST_TEST(as_nobody(add_one, {team}) == 0);  // a supplementary group
  BOOST_TEST(as_nobody(add_one, {}) == 31);     // nobody else
  BOOST_TEST(m.manager->connect().value<std::int64_t>("team/n").get() == 2);
}

BOOST_AUTO_TEST_SUITE_END()

// Requests are attributed to the process that wrote them (SCM_CREDENTIALS on every
// message), not to the one that opened the connection: a fork child writing on its
// parent's connection owns what it marks, and the dump names it as the writer.
BOOST_FIXTURE_TEST_SUITE(per_message_credentials, manager_fixture)

BOOST_AUTO_TEST_CASE(a_socket_write_is_stamped_with_the_writers_pid_not_the_managers) {
  raw_connection c(manager->socket_path());
  BOOST_TEST(code_of(ask(c, R"({"op":"set","name":"who/wrote","value":1})")) == "ok");
  json dumped = client->dump("who/");
  BOOST_TEST(dumped["variables"][0]["last_writer_pid"] == getpid());
}

BOOST_AUTO_TEST_CASE(a_fork_child_on_its_parents_connection_owns_the_loop_it_marks) {
  client->loop("inherit/loop");
  auto wrote = client->create<std::int64_t>("inherit/done", 0);
  raw_connection c(manager->socket_path());  // opened by the parent
  pid_t child = spawn([&] {
    for (const char* state : {"starting", "running"}) {
      json r = ask(c, std::string(R"({"op":"loop_mark","name":"inherit/loop","state":")") + state + "\"}");
      if (!r.contains("result") || r["result"]["pid"] != getpid()) return 1;
    }
    if (code_of(ask(c, R"({"op":"set","name":"inherit/done","value":7})")) != "ok") return 2;
    ::pause();
    return 0;
  });
  BOOST_REQUIRE(eventually([&] { return wrote.get() == 7; }, 5s));
  BOOST_TEST(client->dump("inherit/done")["variables"][0]["last_writer_pid"] == child);
  auto loop = client->loop("inherit/loop");
  BOOST_TEST(loop.info().pid == child);
  kill_now(child);
  BOOST_TEST(eventually([&] { return loop.info().state == LoopPhase::failed; }, 5s));  // before: running for ever
}

BOOST_AUTO_TEST_SUITE_END()
