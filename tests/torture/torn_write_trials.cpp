// SPDX-License-Identifier: MIT
// Torn writes and dead lock holders: a writer process SIGKILLed at a random moment
// of its write loop (or inside update(fn)); the harness then reads the variable,
// which must hold exactly one value that was written, within 100 ms.
#include <future>
#include <memory>
#include <optional>
#include <thread>

#include "mpstate/json.hpp"
#include "mpstate/mpstate.hpp"
#include "shared_page.hpp"
#include "torture.hpp"

namespace mpstate::torture {
namespace {

using clock_type = std::chrono::steady_clock;
constexpr auto recovery_limit = std::chrono::milliseconds(100);

}  // namespace

std::string text_of(std::int64_t seq) {
  std::string body(static_cast<std::size_t>(40 + (seq * 7919) % 900), static_cast<char>('a' + seq % 26));
  return "seq=" + std::to_string(seq) + ";" + body + ";end=" + std::to_string(seq);
}
std::optional<std::int64_t> seq_of_text(const std::string& text) {
  std::int64_t seq = -1;
  if (std::sscanf(text.c_str(), "seq=%ld;", &seq) != 1 || seq < 0) return std::nullopt;
  return text == text_of(seq) ? std::optional(seq) : std::nullopt;
}

namespace {

nlohmann::json json_of(std::int64_t seq) {
  nlohmann::json items = nlohmann::json::array();
  std::int64_t sum = 0;
  for (std::int64_t i = 0; i < seq % 60; ++i) {
    items.push_back(seq + i);
    sum += seq + i;
  }
  return {{"seq", seq}, {"items", items}, {"sum", sum}, {"label", text_of(seq).substr(0, 20 + seq % 50)}};
}
std::optional<std::int64_t> seq_of_json(const nlohmann::json& j) {
  if (!j.is_object() || !j.contains("seq") || !j["seq"].is_number_integer()) return std::nullopt;
  std::int64_t seq = j["seq"].get<std::int64_t>();
  return j == json_of(seq) ? std::optional(seq) : std::nullopt;
}

// An int64 pair (seq, ~seq) in 16 bytes.
Bytes pair_of(std::int64_t seq) {
  std::int64_t both[2] = {seq, ~seq};
  auto* p = reinterpret_cast<const std::uint8_t*>(both);
  return Bytes(p, p + sizeof both);
}
std::optional<std::int64_t> seq_of_pair(const Bytes& b) {
  if (b.size() != 16) return std::nullopt;
  std::int64_t both[2];
  std::memcpy(both, b.data(), sizeof both);
  return both[1] == ~both[0] ? std::optional(both[0]) : std::nullopt;
}

template <class T>
struct codec;
template <>
struct codec<std::string> {
  static std::string make(std::int64_t s) { return text_of(s); }
  static std::optional<std::int64_t> seq(const std::string& v) { return seq_of_text(v); }
  static constexpr std::size_t capacity = 1024;
};
template <>
struct codec<nlohmann::json> {
  static nlohmann::json make(std::int64_t s) { return json_of(s); }
  static std::optional<std::int64_t> seq(const nlohmann::json& v) { return seq_of_json(v); }
  static constexpr std::size_t capacity = 4096;
};
template <>
struct codec<Bytes> {
  static Bytes make(std::int64_t s) { return pair_of(s); }
  static std::optional<std::int64_t> seq(const Bytes& v) { return seq_of_pair(v); }
  static constexpr std::size_t capacity = 16;
};
template <>
struct codec<std::int64_t> {
  static std::int64_t make(std::int64_t s) { return s; }
  static std::optional<std::int64_t> seq(std::int64_t v) { return v; }
};

// Runs `read` on a thread; nullopt when it has not returned within 2 s (a hung
// lock: the thread is left behind and the run ends).
template <class R, class Fn>
std::optional<std::pair<R, double>> timed(Fn read) {
  auto done = std::make_shared<std::promise<std::pair<R, double>>>();
  auto result = done->get_future();
  std::thread reader([done, read] {
    auto start = clock_type::now();
    R r = read();
    done->set_value({r, std::chrono::duration<double, std::milli>(clock_type::now() - start).count()});
  });
  if (result.wait_for(std::chrono::seconds(2)) != std::future_status::ready) {
    reader.detach();
    return std::nullopt;
  }
  // Joined, not detached: a thread still exiting when the next writer is forked can
  // hold a lock of the allocator's (ASan's) that the child then waits on for ever
  // (seen once: "a writer made no progress in 10 s" under ASan, nothing torn).
  reader.join();
  return result.get();
}

// The read after a kill, timed (slower than the limit counts as hung): the sequence
// number it decoded (nullopt inside for a torn value), or nullopt when the read never
// returned and the run must end.
template <class T, class Read>
std::optional<std::optional<std::int64_t>> read_after_kill(outcome& out, Read read) {
  auto seen = timed<T>(read);
  if (!seen) {
    ++out.hung;
    return std::nullopt;
  }
  out.worst_ms = std::max(out.worst_ms, seen->second);
  if (seen->second > recovery_limit.count()) ++out.hung;
  return codec<T>::seq(seen->first);
}

ManagerOptions manager_options(const settings& s) {
  ManagerOptions o;
  o.executable = s.manager_executable;
  o.size = 8 << 20;
  return o;
}

// The writer loop: set() for buffers, update() for the pair, until killed.
template <class T>
int write_forever(Value<T>& v, shared_page* page, bool via_update) {
  std::int64_t seq = page->committed.load();
  while (true) {
    if (via_update) {
      v.update([&](T current) {
        std::int64_t next = codec<T>::seq(current).value_or(-1000) + 1;
        page->attempting.store(next);
        return codec<T>::make(next);
      });
      page->committed.store(page->attempting.load());
    } else {
      page->attempting.store(++seq);
      v.set(codec<T>::make(seq));
      page->committed.store(seq);
    }
  }
}

template <class T>
outcome torn_trials(const std::string& fault, bool via_update, const settings& s, std::mt19937_64& rng) {
  outcome out;
  out.fault = fault;
  Manager manager = Manager::start(manager_options(s));
  Client client = manager.connect();
  Value<T> v = [&] {
    if constexpr (std::is_same_v<T, std::int64_t>)
      return client.create<T>("torture/value", 0);
    else
      return client.create<T>("torture/value", codec<T>::make(0), codec<T>::capacity);
  }();
  page_mapping page;
  std::uniform_int_distribution<int> writes(1, 300), spin_us(0, 100);
  for (int t = 0; t < s.trials; ++t) {
    std::int64_t start = page->committed.load();
    pid_t writer = fork_child([&] { return write_forever(v, page.operator->(), via_update); });
    const std::int64_t target = start + writes(rng);
    if (!wait_until([&] { return page->committed.load() >= target; }, std::chrono::seconds(10))) {
      ++out.other;
      out.notes.push_back("a writer made no progress in 10 s");
    }
    spin_for(std::chrono::microseconds(spin_us(rng)));
    kill_and_reap(writer);
    ++out.trials;
    auto read = read_after_kill<T>(out, [&] { return v.get(); });
    if (!read) return out;
    auto seq = *read;
    if (!seq) {
      ++out.torn;
      continue;
    }
    // Exactly the last value a write returned for, or the one being written.
    if (*seq < page->committed.load()) ++out.lost;
    if (*seq > page->attempting.load()) ++out.other;
    page->committed.store(*seq);
    page->attempting.store(*seq);
  }
  return out;
}

// A holder stops inside update(fn) on its k-th write and is killed there.
template <class T>
outcome holder_trials(const std::string& fault, const settings& s, std::mt19937_64& rng) {
  outcome out;
  out.fault = fault;
  Manager manager = Manager::start(manager_options(s));
  Client client = manager.connect();
  Value<T> v = [&] {
    if constexpr (std::is_same_v<T, std::int64_t>)
      return client.create<T>("torture/held", 0);
    else
      return client.create<T>("torture/held", codec<T>::make(0), codec<T>::capacity);
  }();
  page_mapping page;
  std::uniform_int_distribution<int> writes(1, 300);
  for (int t = 0; t < s.trials; ++t) {
    page->in_fn.store(-1);
    page->kill_after.store(writes(rng));
    pid_t holder = fork_child([&] {
      for (std::int64_t n = 1;; ++n) {
        v.update([&](T current) {
          std::int64_t seq = codec<T>::seq(current).value_or(-1000);
          if (n == page->kill_after.load()) {
            page->in_fn.store(seq);  // holding the lock, next value not committed
            while (true) spin_for(std::chrono::microseconds(1000));
          }
          return codec<T>::make(seq + 1);
        });
      }
      return 0;
    });
    if (!wait_until([&] { return page->in_fn.load() >= 0; }, std::chrono::seconds(10))) {
      ++out.other;
      out.notes.push_back("a holder never reached its update");
    }
    kill_and_reap(holder);
    ++out.trials;
    const std::int64_t last_committed = page->in_fn.load();
    // update() of a buffer takes the lock; of a scalar it is a compare-exchange loop
    // (the killed holder held nothing).
    auto read = read_after_kill<T>(out, [&] { return v.update([](T current) { return current; }); });
    if (!read) return out;
    auto seq = *read;
    if (!seq)
      ++out.torn;
    else if (*seq != last_committed)
      ++out.lost;
  }
  return out;
}

}  // namespace

// A queue's producer and consumer SIGKILLed at random moments mid-stream (in put, in
// get, or asleep in either). Afterwards every item left is whole and in order, and
// nothing between what the consumer recorded and what the producer committed is lost
// or repeated; the one item a consumer may die holding (taken, not yet recorded) is
// the consumer's, not the queue's.
outcome queue_trials(const settings& s, std::mt19937_64& rng) {
  outcome out;
  out.fault = "SIGKILL mid-put and mid-get, queue of strings";
  Manager manager = Manager::start(manager_options(s));
  Client client = manager.connect();
  auto q = client.queue<std::string>("torture/q", 32, 1024);
  page_mapping page;  // committed / attempting: the producer's; in_fn: the last item the consumer recorded
  std::uniform_int_distribution<int> items(1, 300), spin_us(0, 100);
  std::bernoulli_distribution producer_first(0.5);
  std::int64_t base = 0;
  for (int t = 0; t < s.trials; ++t) {
    page->committed.store(base);
    page->attempting.store(base);
    page->in_fn.store(base);
    pid_t producer = fork_child([&] {
      for (std::int64_t seq = base + 1;; ++seq) {
        page->attempting.store(seq);
        q.put(text_of(seq));
        page->committed.store(seq);
      }
      return 0;
    });
    pid_t consumer = fork_child([&] {
      while (true) {
        std::optional<std::string> item = q.get();
        std::optional<std::int64_t> seq = item ? seq_of_text(*item) : std::nullopt;
        if (!seq) return 3;                            // torn
        if (*seq != page->in_fn.load() + 1) return 4;  // lost, repeated or out of order
        page->in_fn.store(*seq);
      }
    });
    const std::int64_t target = base + items(rng);
    if (!wait_until([&] { return page->in_fn.load() >= target; }, std::chrono::seconds(10))) {
      ++out.other;
      out.notes.push_back("the queue made no progress in 10 s");
    }
    spin_for(std::chrono::microseconds(spin_us(rng)));
    const bool first = producer_first(rng);
    bool running = kill_and_reap(first ? producer : consumer);
    running = kill_and_reap(first ? consumer : producer) && running;
    ++out.trials;
    if (!running) {
      ++out.other;
      out.notes.push_back("the consumer saw a torn or out-of-order item");
    }
    const std::int64_t recorded = page->in_fn.load(), committed = page->committed.load();
    std::vector<std::int64_t> left;
    const auto start = clock_type::now();
    while (std::optional<std::string> item = q.get_nowait()) {
      std::optional<std::int64_t> seq = seq_of_text(*item);
      if (!seq) {
        ++out.torn;
        break;
      }
      left.push_back(*seq);
    }
    const double ms = std::chrono::duration<double, std::milli>(clock_type::now() - start).count();
    out.worst_ms = std::max(out.worst_ms, ms);
    if (ms > recovery_limit.count()) ++out.hung;
    std::int64_t last = recorded;
    if (!left.empty()) {
      if (left.front() != recorded + 1 && left.front() != recorded + 2) ++out.lost;  // +2: one died with the consumer
      for (std::size_t i = 1; i < left.size(); ++i) {
        if (left[i] != left[i - 1] + 1) ++out.lost;
      }
      last = left.back();
    } else {
      last = std::min(recorded + 1, page->attempting.load());  // one may have died with the consumer
    }
    if (last < committed) out.lost += committed - last;  // a put that returned is in the queue or taken
    if (last > page->attempting.load()) ++out.other;
    base = std::max(last, page->attempting.load());
  }
  return out;
}

outcome torn_write_trials(const std::string& kind, const settings& s, std::mt19937_64& rng) {
  if (kind == "string") return torn_trials<std::string>("SIGKILL mid-set, string (40-980 B)", false, s, rng);
  if (kind == "json") return torn_trials<nlohmann::json>("SIGKILL mid-set, json (0-59 items)", false, s, rng);
  if (kind == "pair") return torn_trials<Bytes>("SIGKILL mid-update, int64 pair", true, s, rng);
  // A scalar's writes take no lock (one 16-byte compare-exchange of value and version).
  if (kind == "int64") return torn_trials<std::int64_t>("SIGKILL mid-set, int64 (lock-free)", false, s, rng);
  if (kind == "int64-update")
    return torn_trials<std::int64_t>("SIGKILL mid-update, int64 (compare-exchange loop)", true, s, rng);
  throw std::invalid_argument("unknown torn-write kind: " + kind);
}

outcome dead_holder_trials(const std::string& kind, const settings& s, std::mt19937_64& rng) {
  if (kind == "string") return holder_trials<std::string>("SIGKILL inside update(fn), string", s, rng);
  if (kind == "int64") return holder_trials<std::int64_t>("SIGKILL inside update(fn), int64", s, rng);
  throw std::invalid_argument("unknown dead-holder kind: " + kind);
}

}  // namespace mpstate::torture
