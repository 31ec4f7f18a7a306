// SPDX-License-Identifier: MIT
#include "baseline_workloads.hpp"

#include <sys/socket.h>
#include <unistd.h>

#include <boost/interprocess/ipc/message_queue.hpp>
#include <boost/interprocess/managed_shared_memory.hpp>
#include <boost/interprocess/sync/interprocess_mutex.hpp>
#include <boost/interprocess/sync/scoped_lock.hpp>
#include <cstring>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "mpstate/core/record_ops.hpp"
#include "process_pool.hpp"

namespace mpstate::bench {

namespace bip = boost::interprocess;

namespace {

struct raw_cell {
  bip::interprocess_mutex mutex;
  std::int64_t value = 0;
  alignas(16) std::atomic<std::uint64_t> seq{0};
  std::atomic<std::uint64_t> seq_value{0};  // beside seq: the cas16 variant's (version, value) word
  char bytes[1];                            // value_size of them when strings are measured
};

std::size_t cell_stride(std::size_t value_size) { return (sizeof(raw_cell) + value_size + 63) / 64 * 64; }

// A Boost segment with K cells (and K named objects for lookup), removed at the end.
struct raw_segment {
  raw_segment(const bench_options& o, bool named)
      : name("mpstate-bench-raw-" + std::to_string(getpid())), stride(cell_stride(o.value_size)) {
    bip::shared_memory_object::remove(name.c_str());
    std::size_t size = o.variables * (stride + (named ? 256 : 0)) + (8 << 20);
    memory = bip::managed_shared_memory(bip::create_only, name.c_str(), size);
    cells = static_cast<char*>(memory.allocate_aligned(o.variables * stride, 64));
    for (std::size_t i = 0; i < o.variables; ++i) new (cell(i)) raw_cell;
    if (named) {
      for (std::size_t i = 0; i < o.variables; ++i) {
        names.push_back("bench/v" + std::to_string(i));
        memory.construct<std::int64_t>(names.back().c_str())(0);
      }
    }
  }
  ~raw_segment() { bip::shared_memory_object::remove(name.c_str()); }
  raw_cell* cell(std::size_t i) { return reinterpret_cast<raw_cell*>(cells + i * stride); }

  std::string name;
  std::size_t stride;
  bip::managed_shared_memory memory;
  char* cells = nullptr;
  std::vector<std::string> names;
};

using lock_t = bip::scoped_lock<bip::interprocess_mutex>;

void cell_loop(const bench_options& o, const std::string& variant, raw_segment& seg, int rank, worker_slot& slot) {
  std::size_t idx = static_cast<std::size_t>(rank) % o.variables;
  auto next = [&] {
    raw_cell* c = seg.cell(idx);
    if (++idx == o.variables) idx = 0;
    return c;
  };
  const bool ints = o.value_size <= 8;
  std::string payload(o.value_size, 'x');
  std::vector<char> out(o.value_size);
  std::vector<std::int64_t> expected(o.variables, 0);
  auto loop = [&](auto&& op) { timed_loop(slot, o.seconds, 64, op); };
  if ((o.op == "get" || o.op.find("dict") != std::string::npos) && variant == "seqlock") {
    loop([&](std::uint64_t) {
      raw_cell* c = next();
      while (true) {
        std::uint64_t s1 = c->seq.load(std::memory_order_acquire);
        if (s1 & 1) continue;
        if (ints)
          sink = std::atomic_ref<std::int64_t>(c->value).load(std::memory_order_relaxed);
        else
          std::memcpy(out.data(), c->bytes, o.value_size);
        std::atomic_thread_fence(std::memory_order_acquire);
        if (c->seq.load(std::memory_order_relaxed) == s1) break;
      }
    });
  } else if (o.op == "get" || o.op.find("dict") != std::string::npos) {
    loop([&](std::uint64_t) {
      raw_cell* c = next();
      lock_t l(c->mutex);
      if (ints)
        sink = c->value;
      else
        out.assign(c->bytes, c->bytes + o.value_size);
    });
  } else if (variant == "xadd") {  // the hardware's limit for a shared write: one lock xadd
    loop([&](std::uint64_t) { std::atomic_ref<std::int64_t>(next()->value).fetch_add(1, std::memory_order_seq_cst); });
  } else if (variant == "cas16") {  // the limit of a write that moves a version with its value
    loop([&](std::uint64_t) {
      raw_cell* c = next();
      core::scalar_word seen{c->seq.load(std::memory_order_acquire), c->seq_value.load(std::memory_order_acquire)};
      while (!core::compare_exchange_16(&c->seq, seen, {seen.version + 1, seen.bits + 1})) {
      }
    });
  } else if (o.op == "set") {
    loop([&](std::uint64_t i) {
      raw_cell* c = next();
      lock_t l(c->mutex);
      if (ints)
        c->value = static_cast<std::int64_t>(i);
      else
        std::memcpy(c->bytes, payload.data(), o.value_size);
    });
  } else if (o.op == "add" || o.op == "update") {
    loop([&](std::uint64_t) {
      raw_cell* c = next();
      lock_t l(c->mutex);
      c->value += 1;
    });
  } else if (o.op == "cas") {
    loop([&](std::uint64_t) {
      std::size_t k = idx;
      raw_cell* c = next();
      lock_t l(c->mutex);
      if (c->value == expected[k]) {
        c->value = ++expected[k];
        ++slot.checked;
      } else {
        expected[k] = c->value;
      }
    });
  } else if (o.op == "lock" || o.op == "sync-lock") {  // a raw mutex lock + unlock
    loop([&](std::uint64_t) { lock_t l(next()->mutex); });
  } else if (o.op == "lookup") {
    loop([&](std::uint64_t) {
      const std::string& n = seg.names[idx];
      if (++idx == o.variables) idx = 0;
      sink = seg.memory.find<std::int64_t>(n.c_str()).first != nullptr;
    });
  } else {
    throw std::runtime_error("no baseline for " + o.op);
  }
}

// One round trip over a socketpair between workers 0 and 1.
void socket_rtt(const bench_options& o, int fds[2], int rank, worker_slot& slot) {
  if (rank > 1) return;
  int mine = fds[rank];
  close(fds[1 - rank]);
  char byte = 'x';
  if (rank == 0) {
    timed_loop(slot, o.seconds, 1, [&](std::uint64_t) {
      if (write(mine, &byte, 1) != 1 || read(mine, &byte, 1) != 1) throw std::runtime_error("rtt");
    });
    byte = 'q';  // the echo side leaves (others hold copies of the fds, so no EOF comes)
    [[maybe_unused]] auto n = write(mine, &byte, 1);
    return;
  }
  while (read(mine, &byte, 1) == 1 && byte != 'q') {
    if (write(mine, &byte, 1) != 1) break;
  }
}

}  // namespace

std::vector<std::string> baseline_variants(const bench_options& o) {
  const std::string& op = o.op;
  if (op == "get" || op == "dict-get" || op == "dict-lookup" || op == "json-dict-get") return {"mutex", "seqlock"};
  if ((op == "set" || op == "add" || op == "cas" || op == "update") && o.value_size <= 8)
    return {"mutex", "xadd", "cas16"};
  if (op == "queue") return {"bip-mq"};
  if (op == "lookup") return {"boost-find"};
  if (op == "wait") return {"socket-rtt"};
  return {"mutex"};
}

void run_baseline(const bench_options& o, const std::string& variant, run_result& out) {
  process_pool pool(o.procs);
  if (variant == "socket-rtt") {
    if (o.procs < 2) throw std::runtime_error("wait needs --procs 2 or more");
    int fds[2];
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, fds) != 0) throw std::runtime_error("socketpair");
    pool.run([](int) {}, [&](int rank, worker_slot& slot) { socket_rtt(o, fds, rank, slot); });
    close(fds[0]);
    close(fds[1]);
    out = summarise("baseline", variant, o, pool.slots());
    out.ops_per_s = out.per_process_ops_per_s[0];
    return;
  }
  if (variant == "bip-mq") {  // Boost.Interprocess message_queue: send + receive of one int64
    const std::string name = "mpstate-bench-mq-" + std::to_string(getpid());
    bip::message_queue::remove(name.c_str());
    bip::message_queue mq(bip::create_only, name.c_str(), 1024, sizeof(std::int64_t));
    pool.run([](int) {},
             [&](int, worker_slot& slot) {
               bip::message_queue mine(bip::open_only, name.c_str());
               timed_loop(slot, o.seconds, 64, [&](std::uint64_t i) {
                 auto v = static_cast<std::int64_t>(i);
                 mine.send(&v, sizeof v, 0);
                 std::size_t got = 0;
                 unsigned priority = 0;
                 mine.receive(&v, sizeof v, got, priority);
                 sink = v;
               });
             });
    out = summarise("baseline", variant, o, pool.slots());
    out.check = mq.get_num_msg() == 0 ? "ok" : "messages left";
    bip::message_queue::remove(name.c_str());
    return;
  }
  raw_segment seg(o, o.op == "lookup");
  pool.run([](int) {}, [&](int rank, worker_slot& slot) { cell_loop(o, variant, seg, rank, slot); });
  out = summarise("baseline", variant, o, pool.slots());
  std::uint64_t total = 0, checked = 0, sum = 0;
  for (const worker_slot* s : pool.slots()) {
    total += s->ops;
    checked += s->checked;
  }
  for (std::size_t i = 0; i < o.variables; ++i)
    sum += variant == "cas16" ? seg.cell(i)->seq_value.load() : static_cast<std::uint64_t>(seg.cell(i)->value);
  if (o.op == "add" || o.op == "update" || variant == "xadd" || variant == "cas16")
    out.check = sum == total ? "ok" : "lost updates";
  if (o.op == "cas" && variant == "mutex") out.check = sum == checked ? "ok" : "lost updates";
}

}  // namespace mpstate::bench
