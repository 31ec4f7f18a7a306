// SPDX-License-Identifier: MIT
// Where the manager puts its files: it refuses a runtime or socket directory that
// is a symlink, another user's, or group/world-writable; it follows no symlink
// planted at its socket or lock path; it never removes or adopts a file that is not
// its own (a regular file at the socket path, a segment of another owner or mode).
// Every refusal leaves the planted files exactly as they were.
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/test/unit_test.hpp>
#include <filesystem>
#include <fstream>

#include "mpstate/core/names.hpp"
#include "process_fixture.hpp"

using namespace mpstate;
using namespace mpstate::test;
namespace fs = std::filesystem;

namespace {

struct private_dir {
  private_dir() {
    char tmpl[] = "/tmp/mpstate-paths.XXXXXX";
    path = mkdtemp(tmpl);  // 0700, ours
  }
  ~private_dir() {
    std::error_code ignored;
    fs::remove_all(path, ignored);
  }
  std::string path;
};

// Runs the manager (killed after 5 s if it wrongly starts serving) with the runtime
// directory and arguments given; its exit code and everything it printed.
command_result run_manager(const std::string& runtime_dir, const std::string& args) {
  return run_command("MPSTATE_RUNTIME_DIR=" + runtime_dir + " timeout 5 " + MPSTATE_MANAGER_PATH + " " + args +
                     " 2>&1");
}

void write_file(const std::string& path, const std::string& text) { std::ofstream(path) << text; }
std::string read_file(const std::string& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

bool refused(const command_result& r, const std::string& why) {
  BOOST_TEST_MESSAGE(r.output);
  return r.exit_code == 1 && r.output.find("permission_denied") != std::string::npos &&
         r.output.find(why) != std::string::npos;
}
}  // namespace

BOOST_AUTO_TEST_SUITE(path_safety)

BOOST_AUTO_TEST_CASE(a_group_or_world_writable_runtime_directory_is_refused) {
  private_dir d;
  for (mode_t mode : {0770, 0707, 0777}) {
    chmod(d.path.c_str(), mode);
    BOOST_TEST(refused(run_manager(d.path, "--name m"), "group- or world-writable"), mode);
    BOOST_TEST(!fs::exists(d.path + "/m.sock"));
    BOOST_TEST(!fs::exists(d.path + "/m.lock"));
  }
  chmod(d.path.c_str(), 0755);  // readable by others is fine: the socket itself is 0600
  auto served =
      run_command("MPSTATE_RUNTIME_DIR=" + d.path + " timeout -s INT 1 " + MPSTATE_MANAGER_PATH + " --name m 2>&1");
  BOOST_TEST(served.output.find("serving 'm'") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(a_runtime_directory_of_another_user_is_refused) {
  if (geteuid() != 0) return;  // only root can hand a directory to another user
  private_dir d;
  BOOST_REQUIRE(chown(d.path.c_str(), nobody, nobody) == 0);
  BOOST_TEST(refused(run_manager(d.path, "--name m"), "belongs to uid 65534"));
}

BOOST_AUTO_TEST_CASE(a_runtime_directory_that_is_a_symlink_is_refused) {
  private_dir d;
  fs::create_directory(d.path + "/real");
  chmod((d.path + "/real").c_str(), 0700);
  fs::create_directory_symlink(d.path + "/real", d.path + "/link");
  BOOST_TEST(refused(run_manager(d.path + "/link", "--name m"), "symbolic link"));
  BOOST_TEST(fs::is_empty(d.path + "/real"));
}

BOOST_AUTO_TEST_CASE(a_socket_in_a_world_writable_directory_is_refused) {
  private_dir d;
  BOOST_TEST(
      refused(run_manager(d.path, "--name m --socket /tmp/mpstate-paths-m.sock"), "/tmp is group- or world-writable"));
  BOOST_TEST(!fs::exists("/tmp/mpstate-paths-m.sock"));
}

BOOST_AUTO_TEST_CASE(a_symlink_planted_at_the_socket_path_is_not_followed_or_removed) {
  private_dir d;
  write_file(d.path + "/victim", "precious");
  fs::create_symlink(d.path + "/victim", d.path + "/m.sock");
  BOOST_TEST(refused(run_manager(d.path, "--name m"), "is not a socket"));
  BOOST_TEST(fs::is_symlink(d.path + "/m.sock"));
  BOOST_TEST(read_file(d.path + "/victim") == "precious");
}

BOOST_AUTO_TEST_CASE(a_regular_file_at_the_socket_path_is_left_alone) {
  private_dir d;
  write_file(d.path + "/m.sock", "not a socket");
  BOOST_TEST(refused(run_manager(d.path, "--name m"), "is not a socket"));
  BOOST_TEST(read_file(d.path + "/m.sock") == "not a socket");
  BOOST_TEST(!fs::exists("/dev/shm" + core::segment_name("m")));  // refused before a segment was made
}

BOOST_AUTO_TEST_CASE(a_symlink_planted_at_the_lock_path_is_not_followed) {
  private_dir d;
  write_file(d.path + "/victim", "precious");
  fs::create_symlink(d.path + "/victim", d.path + "/m.lock");
  auto r = run_manager(d.path, "--name m");
  BOOST_TEST(r.exit_code == 1);
  BOOST_TEST(r.output.find("cannot open lock file") != std::string::npos, r.output);
  BOOST_TEST(read_file(d.path + "/victim") == "precious");  // not truncated, no pid written
}

BOOST_AUTO_TEST_CASE(a_segment_of_another_owner_or_mode_is_neither_adopted_nor_removed) {
  private_dir d;
  const std::string name = unique_name("planted");
  const std::string shm = "/" + core::segment_name(name);
  int fd = shm_open(shm.c_str(), O_RDWR | O_CREAT | O_EXCL, 0600);
  BOOST_REQUIRE(fd >= 0);
  BOOST_REQUIRE(ftruncate(fd, 1 << 20) == 0);
  fchmod(fd, 0644);  // readable by everyone: not a segment mpstate made
  BOOST_TEST(refused(run_manager(d.path, "--name " + name), "mode 644"));
  if (geteuid() == 0) {
    fchmod(fd, 0600);
    BOOST_REQUIRE(fchown(fd, nobody, nobody) == 0);
    BOOST_TEST(refused(run_manager(d.path, "--name " + name), "owned by uid 65534"));
  }
  struct stat st {};
  BOOST_TEST(fstat(fd, &st) == 0);
  BOOST_TEST(st.st_size == 1 << 20);  // still there, untouched
  close(fd);
  BOOST_TEST(shm_unlink(shm.c_str()) == 0);
}

// What a client finds while a manager starts: its segment made, the header not yet
// finished (the magic is written last), no socket yet. That is no manager serving
// (retry), not a foreign segment.
BOOST_AUTO_TEST_CASE(a_segment_still_being_made_is_a_manager_not_serving_yet) {
  const std::string name = unique_name("starting");
  const std::string shm = "/" + core::segment_name(name);
  int fd = shm_open(shm.c_str(), O_RDWR | O_CREAT | O_EXCL, 0600);
  BOOST_REQUIRE(fd >= 0);
  BOOST_REQUIRE(ftruncate(fd, 1 << 20) == 0);  // all zero: no magic yet
  try {
    Client c(name);
    BOOST_FAIL("a half-made segment was used");
  } catch (const error& e) {
    BOOST_TEST((e.code() == errc::manager_unavailable), e.what());
  }
  close(fd);
  BOOST_TEST(shm_unlink(shm.c_str()) == 0);
}

BOOST_AUTO_TEST_SUITE_END()
