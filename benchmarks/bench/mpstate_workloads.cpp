// SPDX-License-Identifier: MIT
#include "mpstate_workloads.hpp"

#include <chrono>
#include <memory>
#include <optional>
#include <stdexcept>
#include <thread>

#include "container_workloads.hpp"
#include "line_socket.hpp"
#include "mpstate/core/names.hpp"
#include "mpstate/core/process_identity.hpp"
#include "mpstate/core/record_ops.hpp"
#include "mpstate/core/segment.hpp"
#include "mpstate/mpstate.hpp"
#include "process_pool.hpp"

namespace mpstate::bench {
namespace {

bool int_values(const bench_options& o) { return o.value_size <= 8; }

// Pipelined creates: `batch` requests per write.
void pipelined(line_socket& s, const std::vector<std::string>& lines) {
  constexpr std::size_t batch = 512;
  for (std::size_t i = 0; i < lines.size(); i += batch) {
    std::string out;
    std::size_t n = std::min(batch, lines.size() - i);
    for (std::size_t k = 0; k < n; ++k) out += lines[i + k];
    s.send(out);
    std::string err;
    if (s.read_responses(static_cast<int>(n), &err) != 0) throw std::runtime_error("setup: " + err);
  }
}

std::string payload(const bench_options& o) { return std::string(o.value_size, 'x'); }

// Each worker spreads over the variables starting at its rank.
struct cursor {
  std::size_t idx, count;
  std::size_t next() {
    std::size_t now = idx;
    if (++idx == count) idx = 0;
    return now;
  }
};

void raw_socket_loop(const bench_options& o, const mpstate_target& t, int rank, worker_slot& slot) {
  line_socket s(t.socket_path, t.key);
  cursor c{rank % t.names.size(), t.names.size()};
  const std::string p = payload(o);
  // get and add lines never change: built once per variable, as redis-benchmark does.
  std::vector<std::string> fixed;
  for (const auto& name : t.names) {
    if (o.op == "get") fixed.push_back(R"({"op":"get","name":")" + name + "\"}\n");
    if (o.op == "add") fixed.push_back(R"({"op":"add","name":")" + name + "\",\"delta\":1}\n");
  }
  auto request = [&](std::uint64_t i) -> std::string {
    if (!fixed.empty()) return fixed[c.next()];
    const std::string& name = t.names[c.next()];
    if (o.op == "set") {
      return int_values(o) ? R"({"op":"set","name":")" + name + "\",\"value\":" + std::to_string(i) + "}\n"
                           : R"({"op":"set","name":")" + name + "\",\"value\":\"" + p + "\"}\n";
    }
    if (o.op == "cas" && int_values(o)) {  // one worker on one variable: each stores; else some do
      return R"({"op":"cas","name":")" + name + "\",\"expected\":" + std::to_string(i) +
             ",\"desired\":" + std::to_string(i + 1) + "}\n";
    }
    throw std::runtime_error("--pipeline > 1 supports get, set, add, cas");
  };
  std::uint64_t sent = 0;
  std::string batch;
  std::string err;
  timed_loop(slot, o.seconds, 1, [&](std::uint64_t) {
    batch.clear();
    for (int k = 0; k < o.pipeline; ++k) batch += request(sent++);
    s.send(batch);
    if (s.read_responses(o.pipeline, &err, o.op == "cas" ? &slot.checked : nullptr) != 0) throw std::runtime_error(err);
  });
  slot.ops *= static_cast<std::uint64_t>(o.pipeline);
  for (std::uint32_t k = 0; k < slot.sample_count; ++k) slot.samples[k] /= static_cast<float>(o.pipeline);
}

template <class T>
std::vector<Value<T>> bind_all(const Client& client, const mpstate_target& t) {
  std::vector<Value<T>> out;
  out.reserve(t.names.size());
  for (const auto& n : t.names) out.push_back(client.value<T>(n));
  return out;
}

// get/set/add/cas/update through bound proxies.
template <class T>
void proxy_loop(const bench_options& o, const Client& client, const mpstate_target& t, int rank, worker_slot& slot) {
  std::vector<Value<T>> vs = bind_all<T>(client, t);
  cursor c{rank % vs.size(), vs.size()};
  const int batch = o.transport == "local" ? 64 : 1;
  T value{};
  if constexpr (std::is_same_v<T, std::string>) value = payload(o);
  std::vector<T> expected;
  for (auto& v : vs) expected.push_back(v.get());
  auto body = [&](auto&& op) { timed_loop(slot, o.seconds, batch, op); };
  if (o.op == "get") {
    body([&](std::uint64_t) {
      if constexpr (std::is_same_v<T, std::string>)
        sink = static_cast<std::int64_t>(vs[c.next()].get().size());
      else
        sink = vs[c.next()].get();
    });
  } else if (o.op == "set") {
    body([&](std::uint64_t i) {
      if constexpr (std::is_same_v<T, std::string>)
        vs[c.next()].set(value);
      else
        vs[c.next()].set(static_cast<std::int64_t>(i));
    });
  } else if (o.op == "update") {
    body([&](std::uint64_t) {
      if constexpr (std::is_same_v<T, std::string>)
        vs[c.next()].update([](std::string s) {
          s[0] ^= 1;
          return s;
        });
      else
        vs[c.next()].update([](std::int64_t v) { return v + 1; });
    });
  } else if constexpr (std::is_same_v<T, std::int64_t>) {
    if (o.op == "fenced-set" || o.op == "fenced-add") {
      // The same writes made under a lock's fence (each worker its own lock, held for
      // the run): what the check of the fence adds to a write.
      Lock lock = client.lock("bench/fence-" + std::to_string(rank));
      lock.acquire();
      const Fence fence = lock.fence();
      if (o.op == "fenced-set")
        body([&](std::uint64_t i) { vs[c.next()].set(static_cast<std::int64_t>(i), fence); });
      else
        body([&](std::uint64_t) { vs[c.next()].add(1, fence); });
      lock.release();
    } else if (o.op == "add") {
      body([&](std::uint64_t) { vs[c.next()].add(1); });
    } else if (o.op == "cas") {
      body([&](std::uint64_t) {
        std::size_t k = c.next();
        T want = expected[k] + 1;
        if (vs[k].compare_exchange(expected[k], want)) {
          expected[k] = want;
          ++slot.checked;
        }
      });
    } else {
      throw std::runtime_error("unknown op " + o.op);
    }
  } else {
    throw std::runtime_error(o.op + " needs --value-size 8 (an int64)");
  }
}

// wait: rank 0 writes a time stamp, the others wake on it and ack; repeat.
// `seen` is the stamp's version read before the barrier, so no round is missed.
// Over a socket the writer lets 500 µs pass after the acks before the next stamp, so
// each waiter is blocked in its `wait` again (its ack's answer and the next wait
// request are a round trip): without it the stamp would often come first, and the
// sample would time that round trip, not a wake-up.
void wait_loop(const bench_options& o, const Client& client, int rank, std::uint64_t seen, worker_slot& slot) {
  auto stamp = client.value<std::int64_t>("bench/stamp");
  auto acks = client.value<std::int64_t>("bench/acks");
  const std::int64_t waiters = o.procs - 1;
  if (rank == 0) {
    std::int64_t round = 0;
    timed_loop(slot, o.seconds, 1, [&](std::uint64_t) {
      std::uint64_t seen = acks.version();
      if (o.transport != "local") std::this_thread::sleep_for(std::chrono::microseconds(500));
      stamp.set(core::now_ns());
      ++round;
      while (acks.get() < waiters * round) seen = acks.wait_for_change(seen, std::chrono::seconds(5));
    });
    slot.sample_count = 0;  // the writer's round trips are not wake latencies
    stamp.set(-1);          // tells the waiters to leave
    return;
  }
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::duration<double>(o.seconds + 30);
  while (std::chrono::steady_clock::now() < give_up) {
    std::uint64_t v = stamp.wait_for_change(seen, std::chrono::seconds(1));
    const std::int64_t woke = core::now_ns();  // before reading the stamp: over the socket that is a round trip
    if (v == seen) continue;
    seen = v;
    std::int64_t when = stamp.get();
    if (when < 0) break;
    slot.add_sample(static_cast<double>(woke - when));
    acks.add(1);
  }
}

}  // namespace

// The Redis backend: the same variables, made again through a Client (a run
// before may have left them).
void create_redis_variables(const bench_options& o, mpstate_target& t) {
  Client c(ClientOptions{.socket_path = t.socket_path});
  auto fresh = [&](const std::string& name, auto initial) {
    if (c.type_of(name)) c.remove(name);
    c.create(name, initial, o.value_size + 16);
  };
  for (std::size_t i = 0; i < o.variables; ++i) {
    t.names.push_back("bench/v" + std::to_string(i));
    if (int_values(o))
      fresh(t.names.back(), std::int64_t{0});
    else
      fresh(t.names.back(), payload(o));
  }
  fresh("bench/stamp", std::int64_t{0});
  fresh("bench/acks", std::int64_t{0});
}

void create_variables(const bench_options& o, mpstate_target& t) {
  if (o.transport == "redis") return create_redis_variables(o, t);
  line_socket s(t.socket_path, t.key);
  std::vector<std::string> lines;
  for (std::size_t i = 0; i < o.variables; ++i) {
    t.names.push_back("bench/v" + std::to_string(i));
    lines.push_back(int_values(o) ? R"({"op":"create","type":"int64","name":")" + t.names.back() + "\"}\n"
                                  : R"({"op":"create","type":"string","capacity":)" + std::to_string(o.value_size) +
                                        R"(,"name":")" + t.names.back() + R"(","value":")" + payload(o) + "\"}\n");
  }
  lines.push_back(R"({"op":"create","type":"int64","name":"bench/stamp"})"
                  "\n");
  lines.push_back(R"({"op":"create","type":"int64","name":"bench/acks"})"
                  "\n");
  pipelined(s, lines);
}

void run_mpstate(const bench_options& o, const mpstate_target& t, run_result& out) {
  const bool local = o.transport == "local";
  if (!local && o.transport != "socket" && o.transport != "tcp" && o.transport != "tls" && o.transport != "redis") {
    throw std::runtime_error("--transport is local, socket, tcp, tls or redis");
  }
  if (o.transport == "redis" && o.pipeline > 1) throw std::runtime_error("--transport redis is unpipelined");
  if ((o.op == "lock" || o.op == "lookup") && !local) throw std::runtime_error(o.op + " is local only");
  if (o.op == "wait" && o.procs < 2) throw std::runtime_error("wait needs --procs 2 or more");
  if (o.op == "wait") {
    Client parent(ClientOptions{
        .manager_name = t.manager_name, .socket_path = t.socket_path, .transport = Transport::automatic, .key = t.key});
    parent.value<std::int64_t>("bench/acks").set(0);
    parent.value<std::int64_t>("bench/stamp").set(0);
  }
  if (is_container_op(o.op)) {
    create_containers(o, Client(ClientOptions{.manager_name = t.manager_name,
                                              .socket_path = t.socket_path,
                                              .transport = Transport::automatic,
                                              .key = t.key}));
  }
  process_pool pool(o.procs);
  std::optional<Client> client;
  std::unique_ptr<core::segment> segment;
  std::uint64_t stamp_seen = 0;
  pool.run(
      [&](int rank) {
        if (o.op == "lock" || o.op == "lookup") {
          segment = core::segment::open(core::segment_name(t.manager_name));
        } else if (!(o.pipeline > 1 && !local)) {
          client.emplace(
              ClientOptions{.manager_name = t.manager_name,
                            .socket_path = t.socket_path,
                            .transport = local || (o.local_writer && rank == 0) ? Transport::local : Transport::socket,
                            .key = t.key});
          if (o.op == "wait") stamp_seen = client->value<std::int64_t>("bench/stamp").version();
        }
      },
      [&](int rank, worker_slot& slot) {
        if (o.pipeline > 1 && !local) return raw_socket_loop(o, t, rank, slot);
        if (o.op == "wait") return wait_loop(o, *client, rank, stamp_seen, slot);
        if (is_container_op(o.op)) return container_loop(o, *client, rank, slot);
        if (o.op == "sync-lock") {  // an mpstate::Lock: acquire + release
          Lock lock = client->lock("bench/lock");
          timed_loop(slot, o.seconds, 64, [&](std::uint64_t) {
            lock.acquire();
            lock.release();
          });
          return;
        }
        if (o.op == "lock" || o.op == "lookup") {
          std::vector<core::variable_record*> records;
          for (const auto& n : t.names) records.push_back(segment->find(n));
          cursor c{rank % records.size(), records.size()};
          if (o.op == "lock") {
            timed_loop(slot, o.seconds, 64, [&](std::uint64_t) { core::robust_lock l(records[c.next()]->mutex); });
          } else {
            timed_loop(slot, o.seconds, 64, [&](std::uint64_t) { sink = segment->find(t.names[c.next()]) != nullptr; });
          }
          return;
        }
        if (int_values(o))
          proxy_loop<std::int64_t>(o, *client, t, rank, slot);
        else
          proxy_loop<std::string>(o, *client, t, rank, slot);
      });
  std::string variant =
      local ? "local" : (o.pipeline > 1 ? o.transport + "-p" + std::to_string(o.pipeline) : o.transport);
  if (!local && o.busy_poll_us > 0) variant += "-busy" + std::to_string(o.busy_poll_us);  // the manager polls
  if (!local && o.local_writer) variant += "-local-writer";
  out = summarise("mpstate", variant, o, pool.slots());
  if (o.op == "wait") {  // rounds per second come from the writer alone
    out.ops_per_s = out.per_process_ops_per_s[0];
  }
  std::uint64_t total = 0, checked = 0;
  for (const worker_slot* s : pool.slots()) {
    total += s->ops;
    checked += s->checked;
  }
  if (int_values(o) && (o.op == "add" || o.op == "update" || o.op == "fenced-add")) out.check = check_counts(t, total);
  if (o.op == "cas") out.check = check_counts(t, checked);
  if (is_container_op(o.op)) {
    out.check = check_containers(o, Client(ClientOptions{.manager_name = t.manager_name,
                                                         .socket_path = t.socket_path,
                                                         .transport = Transport::automatic,
                                                         .key = t.key}));
  }
  if (o.op == "sync-lock") {  // every timed acquire went through the lock (warm-up ones too)
    Client c(ClientOptions{
        .manager_name = t.manager_name, .socket_path = t.socket_path, .transport = Transport::automatic, .key = t.key});
    auto taken = c.lock("bench/lock").state().at("acquisitions").get<std::uint64_t>();
    out.check = taken >= total ? "ok" : "lost: " + std::to_string(taken) + " acquisitions < " + std::to_string(total);
  }
}

std::string check_counts(const mpstate_target& t, std::uint64_t expected) {
  Client client(ClientOptions{
      .manager_name = t.manager_name, .socket_path = t.socket_path, .transport = Transport::automatic, .key = t.key});
  std::uint64_t sum = 0;
  for (const auto& n : t.names) {
    auto v = client.value<std::int64_t>(n);
    sum += static_cast<std::uint64_t>(v.get());
    v.set(0);  // ready for the next run
  }
  return sum == expected ? "ok" : "counters hold " + std::to_string(sum) + ", expected " + std::to_string(expected);
}

}  // namespace mpstate::bench
