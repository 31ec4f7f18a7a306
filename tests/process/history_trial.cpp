// SPDX-License-Identifier: MIT
#include "history_trial.hpp"

#include <signal.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <new>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "test_support.hpp"

namespace mpstate::test::history {

namespace {

outcome classify(const error& e) {
  switch (e.code()) {
    case errc::ownership_lost:
      return outcome::lost;
    case errc::manager_unavailable:
      return outcome::unknown;  // in flight when the connection broke
    default:
      return outcome::failed;
  }
}

}  // namespace

std::string trial_result::summary() const {
  std::ostringstream o;
  o << checked.acquires << " holdings, " << checked.writes_acked << " fenced writes acknowledged ("
    << checked.writes_unknown << " of unknown outcome), " << checked.releases << " releases, "
    << checked.holdings_overtaken << " holdings overtaken, " << checked.losses_reported
    << " losses reported; final value " << final_value << "; " << client_lives << " client processes; faults:";
  for (const auto& [name, n] : faults) o << " " << name << " " << n;
  o << "; violations: " << checked.violations.size();
  for (const auto& [check, n] : checked.by_check) o << " (check " << check << ": " << n << ")";
  return o.str();
}

trial::trial(trial_options options, std::function<Client(int)> connect, std::function<std::int64_t()> final_value)
    : options_(std::move(options)), connect_(std::move(connect)), final_value_(std::move(final_value)) {
  void* page = ::mmap(nullptr, sizeof(control), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (page == MAP_FAILED) throw std::runtime_error("mmap failed");
  control_ = new (page) control;
  char tmpl[] = "/tmp/mpstate-history.XXXXXX";
  if (!::mkdtemp(tmpl)) throw std::runtime_error("mkdtemp failed");
  dir_ = tmpl;
}

trial::~trial() {
  control_->stop = true;
  for (pid_t p : clients_) {
    ::kill(p, SIGKILL);
    ::waitpid(p, nullptr, 0);
  }
  std::error_code ignored;
  if (const char* keep = std::getenv("MPSTATE_HISTORY_KEEP"); keep && *keep) {
    std::filesystem::rename(dir_, std::string(keep) + "/" + std::filesystem::path(dir_).filename().string(), ignored);
  }
  std::filesystem::remove_all(dir_, ignored);
  ::munmap(control_, sizeof(control));
}

pid_t trial::start_client(int number) {
  ++lives_;
  return spawn([this, number] { return client_main(number); });
}

// Acquire, read, think, fenced write of read + 1, release; each step logged before it
// is made and when it completes. Errors are outcomes, never the end of the client.
int trial::client_main(int number) {
  log_writer log(dir_ + "/client-" + std::to_string(number) + "-" + std::to_string(::getpid()) + ".log", number);
  std::optional<Client> c;
  std::optional<Lock> lock;
  std::optional<Value<std::int64_t>> n;
  const auto pause = [] { std::this_thread::sleep_for(std::chrono::milliseconds(30)); };
  while (!control_->stop && !n) {  // the channel may be cut or restarting: come in when it is back
    try {
      if (!c) c.emplace(connect_(number));
      lock.emplace(c->lock(options_.lock));
      n.emplace(c->value_or_create<std::int64_t>(options_.counter, 0));
    } catch (const error&) {
      c.reset();
      pause();
    }
  }
  const pid_t me = ::getpid();
  // A store that lost its data (Redis restarted without it) lost the lock and the
  // counter too: they are made again, as a client of a fresh store would.
  const auto remake = [&] {
    try {
      lock.emplace(c->lock(options_.lock));
      n.emplace(c->value_or_create<std::int64_t>(options_.counter, 0));
    } catch (const error&) {
    }
  };
  while (!control_->stop) {
    const std::uint64_t op = log.invoke(op_kind::acquire, 0);
    AcquireResult got;
    try {
      got = lock->acquire(std::chrono::milliseconds(300));
    } catch (const error& e) {
      log.complete(op, classify(e));
      if (e.code() == errc::not_found) remake();
      pause();
      continue;
    }
    if (!got.acquired) {
      log.complete(op, outcome::failed);
      continue;
    }
    log.complete(op, outcome::ok, got.fence);
    control_->holder = me;
    const Fence fence = lock->fence();
    std::optional<std::int64_t> seen;
    try {
      seen = n->get();
    } catch (const error& e) {
      if (e.code() == errc::not_found) remake();
    }
    std::this_thread::sleep_for(options_.think);
    // A write whose answer was lost (the connection broke) is sent again, as a client
    // that wants its write made would: setting the same value twice is harmless,
    // and a holding that ended meanwhile must refuse it.
    for (int attempt = 0; seen && attempt < 3; ++attempt) {
      const std::int64_t next = *seen + 1;
      const std::uint64_t write = log.invoke(op_kind::write, got.fence, next);
      try {
        if (options_.fenced)
          n->set(next, fence);
        else
          n->set(next);
        log.complete(write, outcome::ok, got.fence, next);
        break;
      } catch (const error& e) {
        log.complete(write, classify(e), got.fence, next);
        if (classify(e) != outcome::unknown) break;
      }
    }
    pid_t holding = me;
    control_->holder.compare_exchange_strong(holding, 0);
    for (int attempt = 0; attempt < 100; ++attempt) {  // until the release has a definite outcome
      const std::uint64_t release = log.invoke(op_kind::release, got.fence);
      try {
        lock->release();
        log.complete(release, outcome::ok, got.fence);
        break;
      } catch (const error& e) {
        const outcome o = classify(e);
        log.complete(release, o, got.fence);
        if (o != outcome::unknown) break;
        pause();
      }
    }
  }
  return 0;
}

// The client in its critical section now, waiting up to 2 s for one to be.
pid_t trial::current_holder() const {
  pid_t pid = 0;
  eventually([&] { return (pid = control_->holder.load()) != 0; }, std::chrono::seconds(2));
  return pid;
}

int trial::number_of(pid_t pid) const {
  for (std::size_t i = 0; i < clients_.size(); ++i) {
    if (clients_[i] == pid) return static_cast<int>(i);
  }
  return -1;
}

int trial::holder_number(const std::function<bool(int)>& wanted) const {
  int number = -1;
  eventually(
      [&] {
        const int n = number_of(control_->holder.load());
        return n >= 0 && wanted(number = n);
      },
      std::chrono::seconds(2));
  return number;
}

fault trial::kill_holder() {
  return {"SIGKILL holder", [this] {
            const pid_t pid = current_holder();
            for (pid_t& p : clients_) {
              if (p != pid || pid == 0) continue;
              ::kill(pid, SIGKILL);
              ::waitpid(pid, nullptr, 0);
              pid_t was = pid;
              control_->holder.compare_exchange_strong(was, 0);
              p = start_client(static_cast<int>(&p - clients_.data()));
              return true;
            }
            return false;
          }};
}

fault trial::stop_holder(std::chrono::milliseconds for_how_long) {
  return {"SIGSTOP holder " + std::to_string(for_how_long.count()) + " ms", [this, for_how_long] {
            const pid_t pid = current_holder();
            if (pid == 0) return false;
            ::kill(pid, SIGSTOP);
            std::this_thread::sleep_for(for_how_long);  // the fault's length
            ::kill(pid, SIGCONT);
            return true;
          }};
}

void trial::stop_clients() {
  control_->stop = true;
  for (pid_t p : clients_) ::kill(p, SIGCONT);
  for (pid_t p : clients_) {
    if (!wait_exit(p, std::chrono::seconds(30))) {
      ::kill(p, SIGKILL);
      ::waitpid(p, nullptr, 0);
    }
  }
  clients_.clear();
}

trial_result trial::run(const std::vector<fault>& faults) {
  trial_result result;
  for (int i = 0; i < options_.clients; ++i) clients_.push_back(start_client(i));
  const auto end = std::chrono::steady_clock::now() + options_.length;
  std::size_t next = 0;
  while (std::chrono::steady_clock::now() < end) {
    std::this_thread::sleep_for(options_.fault_every);  // the pace of the faults
    if (faults.empty() || std::chrono::steady_clock::now() >= end) continue;
    const fault& f = faults[next++ % faults.size()];
    if (f.inject()) ++result.faults[f.name];
  }
  stop_clients();
  result.final_value = final_value_();
  result.client_lives = lives_;
  result.checked = check(read_logs(dir_), result.final_value);
  return result;
}

}  // namespace mpstate::test::history
