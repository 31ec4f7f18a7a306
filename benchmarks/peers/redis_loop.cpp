// SPDX-License-Identifier: MIT
// The Redis peer's client loop over Debian's hiredis: the same loop mpstate-bench
// runs (N forked workers started together, one command at a time, every op timed),
// so the two can be compared op for op.
//
//   redis-loop (--socket PATH | --port PORT) --op get|set|incr --procs N --seconds S
// Prints one JSON object: ops_per_s, per-process rates, p50/p99/p99.9 in ns, check.
#include <hiredis/hiredis.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace {

redisContext* connect(const std::string& socket, int port) {
  redisContext* c = socket.empty() ? redisConnect("127.0.0.1", port) : redisConnectUnix(socket.c_str());
  if (!c || c->err) {
    std::cerr << "redis-loop: cannot connect: " << (c ? c->errstr : "out of memory") << "\n";
    _exit(2);
  }
  return c;
}

// One worker: waits for the start byte, runs, writes its result line to `out`.
void worker(const std::string& socket, int port, const std::string& op, double seconds, int ready_fd, int start_fd,
            int out_fd) {
  redisContext* c = connect(socket, port);
  char go = 'r';
  if (write(ready_fd, &go, 1) != 1) _exit(3);
  if (read(start_fd, &go, 1) < 0) _exit(3);
  std::vector<double> samples;
  std::uint64_t ops = 0;
  const auto begin = std::chrono::steady_clock::now();
  const auto end =
      begin + std::chrono::duration_cast<std::chrono::steady_clock::duration>(std::chrono::duration<double>(seconds));
  while (true) {
    auto t0 = std::chrono::steady_clock::now();
    redisReply* r =
        op == "get" ? static_cast<redisReply*>(redisCommand(c, "GET bench:v0"))
        : op == "set"
            ? static_cast<redisReply*>(redisCommand(c, "SET bench:v0 %llu", static_cast<unsigned long long>(ops)))
            : static_cast<redisReply*>(redisCommand(c, "INCR bench:counter"));
    if (!r) _exit(4);
    freeReplyObject(r);
    auto t1 = std::chrono::steady_clock::now();
    ++ops;
    if (samples.size() < 200000) samples.push_back(std::chrono::duration<double, std::nano>(t1 - t0).count());
    if (t1 >= end) break;
  }
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - begin).count();
  nlohmann::json line = {{"ops", ops}, {"rate", static_cast<double>(ops) / secs}, {"samples", samples}};
  std::string text = line.dump() + "\n";
  for (std::size_t done = 0; done < text.size();) {
    ssize_t n = write(out_fd, text.data() + done, text.size() - done);
    if (n <= 0) _exit(5);
    done += static_cast<std::size_t>(n);
  }
  redisFree(c);
  _exit(0);
}

}  // namespace

int main(int argc, char** argv) {
  std::string socket, op = "get";
  int port = 0, procs = 1;
  double seconds = 1;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string k = argv[i], v = argv[i + 1];
    if (k == "--socket")
      socket = v;
    else if (k == "--port")
      port = std::stoi(v);
    else if (k == "--op")
      op = v;
    else if (k == "--procs")
      procs = std::stoi(v);
    else if (k == "--seconds")
      seconds = std::stod(v);
  }
  if ((socket.empty() && port == 0) || (op != "get" && op != "set" && op != "incr") || procs < 1) {
    std::cerr << "usage: redis-loop (--socket PATH | --port PORT) --op get|set|incr --procs N --seconds S\n";
    return 2;
  }
  redisContext* setup = connect(socket, port);
  freeReplyObject(redisCommand(setup, "SET bench:v0 0"));
  freeReplyObject(redisCommand(setup, "SET bench:counter 0"));

  int ready[2], start[2];
  if (pipe(ready) != 0 || pipe(start) != 0) return 1;
  std::vector<pid_t> pids;
  std::vector<int> result_fds;  // one pipe per worker: a result line is longer than PIPE_BUF
  for (int p = 0; p < procs; ++p) {
    int results[2];
    if (pipe(results) != 0) return 1;
    pid_t pid = fork();
    if (pid == 0) {
      close(ready[0]);
      close(start[1]);
      close(results[0]);
      worker(socket, port, op, seconds, ready[1], start[0], results[1]);
    }
    close(results[1]);
    result_fds.push_back(results[0]);
    pids.push_back(pid);
  }
  close(ready[1]);
  close(start[0]);
  char byte;
  for (int p = 0; p < procs; ++p) {  // every worker connected
    if (read(ready[0], &byte, 1) != 1) return 1;
  }
  close(start[1]);  // the start signal: every worker's read returns
  std::string all;
  char buf[65536];
  for (int fd : result_fds) {
    for (ssize_t n; (n = read(fd, buf, sizeof buf)) > 0;) all.append(buf, static_cast<std::size_t>(n));
    close(fd);
  }
  for (pid_t pid : pids) waitpid(pid, nullptr, 0);

  std::vector<double> samples, rates;
  std::uint64_t total = 0;
  for (std::size_t pos = 0, nl; (nl = all.find('\n', pos)) != std::string::npos; pos = nl + 1) {
    auto line = nlohmann::json::parse(all.substr(pos, nl - pos));
    total += line["ops"].get<std::uint64_t>();
    rates.push_back(line["rate"]);
    for (double s : line["samples"]) samples.push_back(s);
  }
  std::sort(samples.begin(), samples.end());
  auto at = [&](double q) {
    return samples.empty() ? 0.0 : samples[std::min(samples.size() - 1, static_cast<std::size_t>(q * samples.size()))];
  };
  std::string check = "n/a";
  if (op == "incr") {
    redisReply* r = static_cast<redisReply*>(redisCommand(setup, "GET bench:counter"));
    check = r && r->str && std::stoull(r->str) == total ? "ok" : "lost updates";
    freeReplyObject(r);
  }
  redisFree(setup);
  double sum = 0;
  for (double r : rates) sum += r;
  nlohmann::json out = {{"ops_per_s", sum},   {"per_process_ops_per_s", rates}, {"p50_ns", at(0.5)},
                        {"p99_ns", at(0.99)}, {"p999_ns", at(0.999)},           {"check", check}};
  std::cout << out.dump() << "\n";
  return static_cast<int>(rates.size()) == procs ? 0 : 1;
}
