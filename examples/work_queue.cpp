// SPDX-License-Identifier: MIT
// Python's Manager types in C++: a pool of worker processes fed by a JoinableQueue,
// results in a Dict, a Barrier to start together, a Lock around the results and a
// tally, and the worker that takes job 100 SIGKILLed while holding that lock: the
// others carry on, the next holder is told and repairs the tally, and the parent
// marks the dead worker's job done. Exits 0 when every result and the tally are exact.
//
//   work_queue [--manager NAME]     (no NAME: start an embedded manager)
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <iostream>
#include <optional>

#include "mpstate/mpstate.hpp"

using namespace std::chrono_literals;

namespace {
constexpr int workers = 3;
constexpr std::int64_t jobs = 300;

int work(mpstate::Client& client, int id) {
  auto queue = client.joinable_queue<std::int64_t>("pool/jobs", 64);
  auto results = client.dict<std::int64_t>("pool/results");
  auto tally = client.value<std::int64_t>("pool/tally");
  auto lock = client.lock("pool/lock");
  client.barrier("pool/start", workers + 1).wait(10s);
  while (std::optional<std::int64_t> job = queue.get(2s)) {
    if (*job < 0) break;  // no more work
    {
      mpstate::LockGuard guard(lock);     // the result and the tally change together
      if (guard.previous_owner_died()) {  // it stored its result, maybe not its tally: recount
        tally.set(static_cast<std::int64_t>(results.size()));
        std::cout << "worker " << id << ": the lock's previous holder died; tally repaired" << std::endl;
      }
      results.set("job" + std::to_string(*job), *job * *job);
      if (*job == 100) {  // whoever takes job 100 dies holding the lock
        std::cout << "worker " << id << " (pid " << getpid() << "): SIGKILL while holding the lock\n";
        std::cout.flush();
        raise(SIGKILL);
      }
      tally.set(tally.get() + 1);
    }
    queue.task_done();
  }
  return 0;
}
}  // namespace

int main(int argc, char** argv) {
  std::optional<mpstate::Manager> embedded;
  std::optional<mpstate::Client> client;
  if (argc == 3 && std::strcmp(argv[1], "--manager") == 0) {
    client.emplace(argv[2]);
  } else {
    embedded.emplace(mpstate::Manager::start());
    client.emplace(embedded->connect());
  }
  auto queue = client->joinable_queue<std::int64_t>("pool/jobs", 64);
  client->value_or_create<std::int64_t>("pool/tally", 0);
  client->lock("pool/lock");
  auto start = client->barrier("pool/start", workers + 1);
  pid_t pids[workers];
  for (int id = 0; id < workers; ++id) {
    if ((pids[id] = fork()) == 0) _exit(work(*client, id));
  }
  start.wait(10s);
  for (std::int64_t j = 0; j < jobs; ++j) queue.put(j);  // blocks while the 64 slots are full
  // The worker that died never marks its job done: do it for it once it is gone.
  int alive = workers;
  while (!queue.join(200ms)) {
    int status = 0;
    pid_t gone = waitpid(-1, &status, WNOHANG);
    if (gone > 0) {
      --alive;
      for (pid_t& p : pids) p = p == gone ? 0 : p;
      if (WIFSIGNALED(status)) queue.task_done();
    }
  }
  std::cout << "all jobs done; " << alive << " of " << workers << " workers left\n";
  for (int id = 0; id < alive; ++id) queue.put(-1);
  for (pid_t p : pids) {
    if (p) waitpid(p, nullptr, 0);
  }
  auto results = client->dict<std::int64_t>("pool/results");
  std::int64_t sum = 0;
  for (const auto& [key, square] : results.items()) sum += square;
  const std::int64_t expected = (jobs - 1) * jobs * (2 * jobs - 1) / 6;  // sum of j^2
  std::cout << results.size() << " results, sum of squares " << sum << " (expected " << expected << "), tally "
            << client->value<std::int64_t>("pool/tally").get() << "\n";
  const bool exact = results.size() == static_cast<std::size_t>(jobs) && sum == expected &&
                     client->value<std::int64_t>("pool/tally").get() == jobs;
  return exact ? 0 : 1;
}
