// SPDX-License-Identifier: MIT
// The systemd unit, without systemd: its ExecStart line run as systemd would run it,
// readiness read from a NOTIFY_SOCKET the test listens on, SIGHUP = a snapshot now
// (and still serving), SIGTERM = a snapshot and a clean exit; log lines with time and
// level, or journald priorities under JOURNAL_STREAM.
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/test/unit_test.hpp>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>

#include "process_fixture.hpp"

using namespace mpstate;
using namespace mpstate::test;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// The unit's ExecStart, with what systemd would put in its place.
std::string exec_start(const std::string& instance, const std::string& state_dir) {
  const std::string unit = read_text(MPSTATE_SOURCE_DIR "/packaging/systemd/mpstate@.service");
  std::smatch m;
  BOOST_REQUIRE(std::regex_search(unit, m, std::regex("\nExecStart=([^\n]*)")));
  std::string line = m[1];
  line = std::regex_replace(line, std::regex("@MPSTATE_BIN_DIR@/mpstate-manager"), MPSTATE_MANAGER_PATH);
  line = std::regex_replace(line, std::regex("%i"), instance);
  return std::regex_replace(line, std::regex("\\$\\{STATE_DIRECTORY\\}"), state_dir);
}

struct service_run {
  explicit service_run(bool journald = false)
      : dir(fs::temp_directory_path() / ("mpstate-svc-" + std::to_string(getpid()))) {
    fs::create_directories(dir);
    fs::permissions(dir, fs::perms::owner_all);
    notify_fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    const std::string notify_path = (dir / "notify").string();
    std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", notify_path.c_str());
    BOOST_REQUIRE(::bind(notify_fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    const std::string command = "exec " + exec_start(name, dir.string()) + " 2>" + (dir / "log").string();
    pid = ::fork();
    if (pid == 0) {
      ::setenv("NOTIFY_SOCKET", notify_path.c_str(), 1);
      ::setenv("MPSTATE_RUNTIME_DIR", dir.c_str(), 1);
      if (journald) ::setenv("JOURNAL_STREAM", "8:1234", 1);
      ::execl("/bin/sh", "sh", "-c", command.c_str(), nullptr);
      ::_exit(127);
    }
  }
  ~service_run() {
    if (pid > 0 && ::kill(pid, 0) == 0) kill_now(pid);
    ::close(notify_fd);
    fs::remove_all(dir);
  }
  // The next notification, or "" at the deadline.
  std::string notification(std::chrono::milliseconds timeout = 10s) {
    pollfd p{notify_fd, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(timeout.count())) != 1) return "";
    char buf[512];
    const ssize_t n = ::recv(notify_fd, buf, sizeof buf, 0);
    return n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : "";
  }
  Client client() const {
    return Client(ClientOptions{.manager_name = name, .socket_path = (dir / (name + ".sock")).string()});
  }

  std::string name = "svc";
  fs::path dir;
  int notify_fd = -1;
  pid_t pid = -1;
};

}  // namespace

BOOST_AUTO_TEST_SUITE(service)

BOOST_AUTO_TEST_CASE(the_units_exec_start_says_ready_and_sighup_saves_a_snapshot_while_serving) {
  service_run svc;
  const std::string ready = svc.notification();
  BOOST_TEST(ready.find("READY=1") != std::string::npos, ready);
  BOOST_TEST(ready.find("MAINPID=" + std::to_string(svc.pid)) != std::string::npos, ready);
  Client c = svc.client();  // serving as soon as it said so
  auto x = c.create<std::int64_t>("x", 5);
  const std::string snapshot = (svc.dir / "svc.json").string();
  BOOST_TEST(!fs::exists(snapshot));
  ::kill(svc.pid, SIGHUP);
  BOOST_TEST(eventually([&] { return read_text(snapshot).find("\"x\"") != std::string::npos; }, 10s));
  x.set(6);
  BOOST_TEST(c.request({{"op", "stat"}})["variables"] == 1);  // still serving
  ::kill(svc.pid, SIGTERM);
  BOOST_TEST(wait_exit(svc.pid, 15s).value_or(-1) == 0);
  svc.pid = -1;
  BOOST_TEST(svc.notification(1s).find("STOPPING=1") != std::string::npos);
  const nlohmann::json saved = nlohmann::json::parse(read_text(snapshot));
  BOOST_TEST(saved.dump().find("\"value\":6") != std::string::npos, saved.dump());
  const std::string log = read_text((svc.dir / "log").string());
  BOOST_TEST(
      std::regex_search(
          log, std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\S* info mpstate-manager\[\d+\]: serving 'svc')")),
      log);
  BOOST_TEST(log.find("SIGHUP: snapshot saved to " + snapshot) != std::string::npos, log);
  BOOST_TEST(log.find("SIGTERM: saving and exiting") != std::string::npos, log);
}

BOOST_AUTO_TEST_CASE(under_journald_lines_carry_their_priority) {
  service_run svc(/*journald=*/true);
  BOOST_TEST(svc.notification().find("READY=1") != std::string::npos);
  ::kill(svc.pid, SIGTERM);
  BOOST_TEST(wait_exit(svc.pid, 15s).value_or(-1) == 0);
  svc.pid = -1;
  const std::string log = read_text((svc.dir / "log").string());
  BOOST_TEST(log.starts_with("<6>serving 'svc'"), log);
}

BOOST_AUTO_TEST_SUITE_END()
