// SPDX-License-Identifier: MIT
// Queue<T> and JoinableQueue<T>: Python's Queue and JoinableQueue across processes.
// A FIFO of T (int64, uint64, double, bool, std::string, Bytes or json), bounded or
// not (maxsize 0: its ring grows through the manager, as in Python), in
// the segment: put and get work on it directly, with no manager round trip, and a
// blocked put or get sleeps in the kernel (a futex on the queue's version) until a
// get or put changes it: no polling. A process killed in the middle of a put or get
// leaves the item queued or not, never half (queue_ops.hpp).
//
//   auto jobs = client.queue<std::int64_t>("jobs", 1000);   // created when absent; 1000 items at most
//   jobs.put(42);                                           // blocks while full
//   std::optional<std::int64_t> job = jobs.get(100ms);      // nullopt at the timeout
//
// Over the socket transport the same calls use the queue_put / queue_get /
// task_done ops and `wait`.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "mpstate/core/queue_ops.hpp"
#include "mpstate/core/record_ops.hpp"
#include "mpstate/detail/binding.hpp"
#include "mpstate/sync.hpp"
#include "mpstate/value_traits.hpp"

namespace mpstate {

namespace detail {
// What every queue proxy shares: the binding, the blocking loop, the counts.
class queue_handle {
 public:
  queue_handle(std::shared_ptr<client_core> core, std::string_view name, core::value_type element);
  const std::string& name() const { return binding_.name(); }
  std::uint64_t size() const;
  bool empty() const { return size() == 0; }
  bool full() const;
  std::uint64_t maxsize() const;
  // The queue as the dump shows it (docs/protocol.md, queue).
  nlohmann::json state() const;

 protected:
  // `bytes`: the item's element bytes (value_traits<T>::encode), stored as they are
  // locally, sent as the JSON they stand for over the wire.
  bool put_item(std::string_view bytes, std::chrono::milliseconds timeout);
  // Fills `bytes` with the head item's element bytes.
  bool get_item(std::string& bytes, std::chrono::milliseconds timeout);
  bool local() const { return binding_.record() != nullptr; }
  // Calls attempt until it is done or the timeout passes, sleeping on the version
  // each attempt saw in between.
  bool retry_until(const std::function<core::queue_attempt()>& attempt, std::chrono::milliseconds timeout) const;
  core::queue_counts counts() const;

  binding binding_;
  core::value_type element_;
};
}  // namespace detail

template <class T>
class Queue : public detail::queue_handle {
  using traits = value_traits<T>;

 public:
  Queue(std::shared_ptr<detail::client_core> core, std::string_view name)
      : queue_handle(std::move(core), name, traits::type) {}

  // Appends `item`, waiting while the queue is full; false at the timeout (Python's Full).
  bool put(const T& item, std::chrono::milliseconds timeout = forever) {
    return put_item(traits::encode(item), timeout);
  }
  bool put_nowait(const T& item) { return put(item, std::chrono::milliseconds::zero()); }

  // Takes the head item, waiting while the queue is empty; nullopt at the timeout
  // (Python's Empty).
  std::optional<T> get(std::chrono::milliseconds timeout = forever) {
    std::string bytes;
    if (!get_item(bytes, timeout)) return std::nullopt;
    return traits::decode(std::move(bytes));
  }
  std::optional<T> get_nowait() { return get(std::chrono::milliseconds::zero()); }
};

// A Queue whose consumers say when they have processed each item, so a producer can
// join() until all are.
template <class T>
class JoinableQueue : public Queue<T> {
 public:
  using Queue<T>::Queue;
  // invalid_argument when called more times than items were put (Python's ValueError).
  void task_done() {
    if (this->binding_.record()) return this->binding_.on_record([](auto& r) { core::task_done(r); });
    this->binding_.remote_op("task_done");
  }
  // Waits until every item put has been marked task_done; false at the timeout.
  bool join(std::chrono::milliseconds timeout = forever) const {
    return this->retry_until(
        [&] {
          if (this->binding_.record()) {
            return this->binding_.on_record([](auto& r) { return core::all_tasks_done(r); });
          }
          return core::queue_attempt{this->counts().unfinished == 0, this->binding_.version()};
        },
        timeout);
  }
  std::uint64_t unfinished() const { return this->counts().unfinished; }
};

}  // namespace mpstate
