// Peer credentials: a process of another uid is refused at the socket (SO_PEERCRED)
// even when the socket file itself is opened up, cannot map the 0600 segment, and is
// served over the socket once --allow-uid names it. Needs root (to become nobody).
#include <grp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/test/unit_test.hpp>
#include <filesystem>

#include "mpstate/core/names.hpp"
#include "mpstate/core/segment.hpp"
#include "process_fixture.hpp"

using namespace mpstate;
using namespace mpstate::test;
using nlohmann::json;

namespace {
constexpr uid_t nobody = 65534;

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
    c.send(R"({"id":1,"op":"hello"})" "\n");
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
    Client c(ClientOptions{name, socket, Transport::automatic});
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
      Client c(ClientOptions{name, socket, Transport::socket});
      return c.value<std::int64_t>("team/n").add(1) > 1 ? 0 : 30;
    } catch (const error& e) {
      return e.code() == errc::permission_denied ? 31 : 32;
    }
  };
  BOOST_TEST(as_nobody(add_one, {team}) == 0);  // a supplementary group
  BOOST_TEST(as_nobody(add_one, {}) == 31);      // nobody else
  BOOST_TEST(m.manager->connect().value<std::int64_t>("team/n").get() == 2);
}

BOOST_AUTO_TEST_SUITE_END()
