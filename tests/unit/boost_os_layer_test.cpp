// SPDX-License-Identifier: MIT
// The segment's OS layer on Boost.Interprocess (docs/design.md): what mpstate relies
// on in Boost 1.81's shared_memory_object, and why the instance lock is not its
// file_lock. A Boost release that changes either turns a case red.
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/interprocess/shared_memory_object.hpp>
#include <boost/interprocess/sync/file_lock.hpp>
#include <boost/test/unit_test.hpp>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "mpstate/core/instance_lock.hpp"
#include "mpstate/error.hpp"

namespace bip = boost::interprocess;

namespace {

std::string unique_name(const char* what) {
  return std::string("mpstate-boost-") + what + "-" + std::to_string(::getpid());
}

// Runs `fn` in a forked child; its return value is the child's exit status.
template <class Fn>
int in_child(Fn&& fn) {
  const pid_t pid = ::fork();
  if (pid == 0) ::_exit(fn());
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 100 + WTERMSIG(status);
}

// Whether some other process may take the lock on `path` now (Boost's file_lock,
// which is what a Boost-based manager would try).
bool another_process_can_lock(const std::string& path) {
  return in_child([&] {
           bip::file_lock other(path.c_str());
           return other.try_lock() ? 0 : 1;
         }) == 0;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(boost_os_layer)

// A client maps segments in threaded programs (Python, web servers) that fork and
// exec: a descriptor of the object inherited by an exec'd program would keep the
// segment's memory alive after the manager unlinks it. Boost passes no O_CLOEXEC;
// glibc's shm_open sets it itself, so the object segment.cpp opens through Boost is
// close-on-exec for its whole (short) life.
BOOST_AUTO_TEST_CASE(boost_shared_memory_object_is_close_on_exec) {
  const std::string name = unique_name("shm");
  bip::shared_memory_object object(bip::create_only, name.c_str(), bip::read_write, bip::permissions(0600));
  const int fd_flags = ::fcntl(object.get_mapping_handle().handle, F_GETFD);
  bip::shared_memory_object::remove(name.c_str());
  BOOST_TEST(fd_flags >= 0);
  BOOST_TEST((fd_flags & FD_CLOEXEC) != 0);
}

// Boost's file_lock is a POSIX record lock (fcntl): the kernel drops it when the
// process closes *any* descriptor of the file, so a server run in-process (the
// thread tests, an embedder) that reads the lock file for the holder's pid would
// lose its instance lock without a word. instance_lock's flock belongs to its own
// descriptor and survives that.
BOOST_AUTO_TEST_CASE(boost_file_lock_is_lost_when_any_descriptor_of_the_file_closes) {
  const std::string path = (std::filesystem::temp_directory_path() / (unique_name("lock") + ".lock")).string();
  std::ofstream(path) << "";
  {
    bip::file_lock lock(path.c_str());
    BOOST_REQUIRE(lock.try_lock());
    BOOST_TEST(!another_process_can_lock(path));
    std::ifstream(path).close();  // reads the pid written in it, as a status command would
    BOOST_TEST(another_process_can_lock(path), "Boost's file_lock now survives: instance_lock may use it");
  }
  {
    mpstate::core::instance_lock lock(path);
    std::ifstream(path).close();
    const int child = in_child([&] {
      try {
        mpstate::core::instance_lock second(path);
        return 0;  // took it: two managers under one name
      } catch (const mpstate::error& e) {
        return e.code() == mpstate::errc::manager_running ? 1 : 2;
      }
    });
    BOOST_TEST(child == 1);
  }
  std::remove(path.c_str());
}

BOOST_AUTO_TEST_SUITE_END()
