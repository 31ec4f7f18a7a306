// SPDX-License-Identifier: MIT
// A full /dev/shm: the segment's pages are reserved when the manager creates it,
// so too little room is a clear error at start, and once started no client ever
// meets SIGBUS however full /dev/shm gets. Each case runs in a child with its own
// mount namespace and a 2 MiB tmpfs over /dev/shm (needs root; skipped without).
#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <unistd.h>

#include <boost/test/unit_test.hpp>

#include "mpstate/core/names.hpp"
#include "process_fixture.hpp"

using namespace mpstate;
using namespace mpstate::test;

namespace {
constexpr int cannot_isolate = 77;

// In the calling (child) process: a private mount namespace with a small /dev/shm.
bool private_small_shm() {
  return unshare(CLONE_NEWNS) == 0 && mount("none", "/", nullptr, MS_REC | MS_PRIVATE, nullptr) == 0 &&
         mount("tmpfs", "/dev/shm", "tmpfs", 0, "size=2m,mode=1777") == 0;
}

// Fills /dev/shm until it is full; returns the bytes written.
long fill_shm() {
  int fd = open("/dev/shm/filler", O_WRONLY | O_CREAT | O_TRUNC, 0600);
  if (fd < 0) return -1;
  char block[4096] = {};
  long total = 0;
  while (true) {
    ssize_t n = write(fd, block, sizeof block);
    if (n <= 0) break;
    total += n;
  }
  close(fd);
  return total;
}

int run_isolated(const std::function<int()>& body) {
  pid_t child = spawn([&] { return private_small_shm() ? body() : cannot_isolate; });
  return wait_exit(child, 60s).value_or(-1000);
}
}  // namespace

BOOST_AUTO_TEST_SUITE(full_shm)

BOOST_AUTO_TEST_CASE(a_segment_larger_than_the_free_space_is_refused_at_start) {
  runtime_dir_fixture dir;
  int rc = run_isolated([] {
    auto r = run_command("timeout 10 " + std::string(MPSTATE_MANAGER_PATH) + " --name big --size 8M 2>&1");
    if (r.exit_code != 1) return 10;
    if (r.output.find("segment_full: cannot reserve 8388608 bytes") == std::string::npos) return 11;
    if (access(("/dev/shm/" + core::segment_name("big")).c_str(), F_OK) == 0) return 12;  // nothing left behind
    return 0;
  });
  if (rc == cannot_isolate) {
    BOOST_TEST_MESSAGE("skipped: no mount namespace here");
    return;
  }
  BOOST_TEST(rc == 0);
}

BOOST_AUTO_TEST_CASE(a_started_segment_stays_usable_when_dev_shm_fills_up) {
  runtime_dir_fixture dir;
  int rc = run_isolated([] {
    ManagerOptions o;
    o.size = 1 << 20;
    o.executable = MPSTATE_MANAGER_PATH;
    Manager m = Manager::start(o);
    if (fill_shm() <= 0) return 20;
    Client c = m.connect();
    // Fill the whole segment and touch every byte of every value: pages that were
    // not reserved would raise SIGBUS here and end this process with it.
    int made = 0;
    try {
      for (;; ++made) {
        auto v = c.create<std::string>("fill/" + std::to_string(made), "", 4000);
        v.set(std::string(4000, 'x'));
        v.set(std::string(4000, 'y'));  // both buffer slots
      }
    } catch (const error& e) {
      if (e.code() != errc::segment_full) return 21;
    }
    if (made < 100) return 22;  // about 1 MiB of 8 KiB records
    return c.value<std::string>("fill/0").get() == std::string(4000, 'y') ? 0 : 23;
  });
  if (rc == cannot_isolate) {
    BOOST_TEST_MESSAGE("skipped: no mount namespace here");
    return;
  }
  BOOST_TEST(rc == 0);  // -7 would be SIGBUS
}

BOOST_AUTO_TEST_SUITE_END()
