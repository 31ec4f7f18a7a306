// SPDX-License-Identifier: MIT
#include "mpstate/core/robust_mutex.hpp"

#include <signal.h>
#include <sys/mman.h>
#include <unistd.h>

#include <boost/test/unit_test.hpp>
#include <chrono>

#include "mpstate/error.hpp"
#include "test_support.hpp"

using namespace mpstate;
using namespace std::chrono_literals;

namespace {
// A mutex in anonymous shared memory, visible to forked children.
struct shared_mutex_page {
  shared_mutex_page() {
    void* p = mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    BOOST_REQUIRE(p != MAP_FAILED);
    mutex = static_cast<core::robust_mutex*>(p);
    mutex->init();
  }
  ~shared_mutex_page() { munmap(mutex, 4096); }
  core::robust_mutex* mutex;
};
}  // namespace

BOOST_AUTO_TEST_SUITE(robust_mutex)

BOOST_AUTO_TEST_CASE(locks_and_unlocks_without_owner_death) {
  shared_mutex_page page;
  BOOST_TEST(!page.mutex->lock());
  bool died = true;
  BOOST_TEST(!page.mutex->try_lock(&died));  // held: a second try fails
  page.mutex->unlock();
  BOOST_TEST(page.mutex->try_lock(&died));
  BOOST_TEST(!died);
  page.mutex->unlock();
}

BOOST_AUTO_TEST_CASE(recovers_after_the_holder_dies_and_stays_usable) {
  shared_mutex_page page;
  pid_t child = test::spawn([&] {
    page.mutex->lock();
    return 0;  // exits holding it
  });
  BOOST_TEST(test::wait_exit(child).value() == 0);
  BOOST_TEST(page.mutex->lock());  // owner died: reported once...
  page.mutex->unlock();
  BOOST_TEST(!page.mutex->lock());  // ...then an ordinary, consistent mutex
  page.mutex->unlock();
}

BOOST_AUTO_TEST_CASE(timed_lock_times_out_while_another_process_holds_it) {
  shared_mutex_page page;
  int go[2];
  BOOST_REQUIRE(pipe(go) == 0);
  pid_t child = test::spawn([&] {
    page.mutex->lock();
    char c = 'x';
    [[maybe_unused]] auto n = write(go[1], &c, 1);
    pause();  // holds it until killed
    return 0;
  });
  char c;
  BOOST_REQUIRE(read(go[0], &c, 1) == 1);
  auto start = std::chrono::steady_clock::now();
  try {
    page.mutex->lock_until(std::chrono::system_clock::now() + 50ms);
    BOOST_FAIL("expected a timeout");
  } catch (const error& e) {
    BOOST_TEST((e.code() == errc::timeout));
  }
  BOOST_TEST((std::chrono::steady_clock::now() - start >= 50ms));
  kill(child, SIGKILL);
  BOOST_TEST(test::wait_exit(child).value() == -SIGKILL);
  BOOST_TEST(page.mutex->lock_until(std::chrono::system_clock::now() + 100ms));
  page.mutex->unlock();
  close(go[0]);
  close(go[1]);
}

BOOST_AUTO_TEST_SUITE_END()
