// SPDX-License-Identifier: MIT
// The scheduler story: a job scheduler runs its event loop in a child process, and
// the parent's stop() must see that loop, ask it to stop and wait until it has.
//
// First the naive version, the way it goes wrong in Python: the child records its
// loop in a static member, and the parent, which has its own copy of that member,
// still sees nothing. Then the same scheduler with an mpstate LoopState handle.
//
//   job_scheduler [--manager NAME]     (no NAME: start an embedded manager; NAME may be
//                                      tcp://HOST:PORT, or a Redis URL: docs/redis.md)
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <iostream>
#include <optional>
#include <thread>

#include "mpstate/mpstate.hpp"

using namespace std::chrono_literals;

// ---- naive: per-process state ---------------------------------------------------
class NaiveScheduler {
 public:
  static inline const char* loop_state = "none";  // the "class attribute"

  void start() {
    int ready[2];
    if (pipe(ready) != 0) return;
    child_ = fork();
    if (child_ == 0) {
      loop_state = "running";  // set in the child's copy only
      [[maybe_unused]] auto n = write(ready[1], "x", 1);
      while (true) std::this_thread::sleep_for(10ms);  // the "event loop"
    }
    char c;
    [[maybe_unused]] auto n = read(ready[0], &c, 1);  // the child is in its loop now
    close(ready[0]);
    close(ready[1]);
  }

  void stop() {
    std::cout << "  naive:  child pid " << child_ << " set loop_state = \"running\"; the parent's stop() sees \""
              << loop_state << "\" -> it cannot stop the loop, only kill the process\n";
    kill(child_, SIGKILL);
    waitpid(child_, nullptr, 0);
  }

 private:
  pid_t child_ = -1;
};

// ---- mpstate: the loop state lives in the shared segment --------------------------
class Scheduler {
 public:
  explicit Scheduler(const mpstate::Client& client)
      : loop_(client.loop("scheduler/loop")),
        jobs_done_(client.value_or_create<std::int64_t>("scheduler/jobs_done", 0)) {}

  void start() {
    jobs_done_.set(0);
    child_ = fork();
    if (child_ == 0) {
      int code = run_loop();
      _exit(code);
    }
    // Wait (with a deadline) until the child's loop runs.
    auto state = loop_.wait_for(mpstate::LoopPhase::running, 5s);
    std::cout << "  mpstate: child pid " << child_ << " started its loop; the parent sees \"" << to_string(state)
              << "\"\n";
  }

  mpstate::LoopPhase stop() {
    mpstate::LoopInfo info = loop_.info();
    std::cout << "  mpstate: stop() sees state \"" << to_string(info.state) << "\", owner pid " << info.pid << ", "
              << info.iterations << " iterations, " << jobs_done_.get() << " jobs done; requesting stop\n";
    loop_.request_stop();
    mpstate::LoopPhase final_state = loop_.wait_for(mpstate::LoopPhase::stopped, 5s);
    int status = 0;
    waitpid(child_, &status, 0);
    info = loop_.info();
    std::cout << "  mpstate: final state \"" << to_string(final_state) << "\" after " << info.iterations
              << " iterations; child exited with status " << (WIFEXITED(status) ? WEXITSTATUS(status) : -1) << "\n";
    return final_state;
  }

 private:
  // The child's event loop: a job per iteration until someone asks it to stop.
  int run_loop() {
    try {
      loop_.mark_starting();
      loop_.mark_running();
      while (!loop_.stop_requested()) {
        jobs_done_.add(1);  // "run a job"
        loop_.heartbeat();
        std::this_thread::sleep_for(5ms);  // the job's own work
      }
      loop_.mark_stopped();
      return 0;
    } catch (const std::exception& e) {
      loop_.mark_failed(e.what());
      return 1;
    }
  }

  mpstate::LoopState loop_;
  mpstate::Value<std::int64_t> jobs_done_;
  pid_t child_ = -1;
};

int main(int argc, char** argv) {
  try {
    std::optional<mpstate::Manager> embedded;
    std::optional<mpstate::Client> client;
    if (argc == 3 && std::strcmp(argv[1], "--manager") == 0) {
      client.emplace(argv[2]);
    } else if (argc == 1) {
      embedded.emplace(mpstate::Manager::start());
      client.emplace(embedded->connect());
    } else {
      std::cerr << "usage: job_scheduler [--manager NAME]\n";
      return 2;
    }

    std::cout << "1. A scheduler whose loop state is a static member:\n";
    NaiveScheduler naive;
    naive.start();
    naive.stop();

    std::cout << "2. The same scheduler with an mpstate LoopState handle:\n";
    Scheduler scheduler(*client);
    scheduler.start();
    std::this_thread::sleep_for(100ms);  // let it run some jobs before we stop it
    mpstate::LoopPhase final_state = scheduler.stop();
    return final_state == mpstate::LoopPhase::stopped ? 0 : 1;
  } catch (const mpstate::error& e) {
    std::cerr << "job_scheduler: " << e.what() << "\n";
    return 1;
  }
}
