// SPDX-License-Identifier: MIT
// A private redis-server (Debian's /usr/bin/redis-server) for one test: a fresh
// temporary directory, loopback TCP on a free port and a unix socket in that
// directory, no RDB snapshots, AOF only when asked for; started with fork/exec
// (it dies with the test process), ready once it answers PING, stopped by pid.
// The Redis backend of mpstate::Client is reached through url() / unix_url(), each
// with this test's own `prefix=` so that tests never see each other's keys.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "process_fixture.hpp"

namespace mpstate::test {

struct redis_options {
  // --appendonly yes --appendfsync always (in the temporary directory): every
  // acknowledged write survives a SIGKILL of the server.
  bool append_only = false;
  // More redis-server options (e.g. --cluster-enabled yes).
  std::vector<std::string> extra_args = {};
};

class redis_server {
 public:
  explicit redis_server(redis_options options = {});
  ~redis_server();
  redis_server(const redis_server&) = delete;
  redis_server& operator=(const redis_server&) = delete;

  // SIGTERM, and reap it (SIGKILL if it has not exited within 10 s).
  void stop();
  // SIGKILL, and reap it: a crash (the AOF, if any, stays in dir()).
  void kill_now();
  // Starts it again on the same port, socket and directory; waits until it answers.
  void restart();

  bool running() const { return pid_ > 0; }
  pid_t pid() const { return pid_; }
  int port() const { return port_; }
  const std::string& dir() const { return dir_; }
  const std::string& socket_path() const { return socket_; }
  // The server's log so far (for failure messages).
  std::string log() const;
  // Runs `redis-cli -s SOCKET ARGS` and returns its exit code and output.
  command_result cli(const std::string& args) const;

 private:
  // Starts redis-server; true once it answers PING, false when it exited first.
  bool start();
  std::vector<std::string> arguments() const;

  redis_options options_;
  std::string dir_;
  std::string socket_;
  int port_ = 0;
  pid_t pid_ = -1;
};

// A redis-server for the test case and a prefix of its own.
struct redis_fixture {
  explicit redis_fixture(redis_options options = {});

  // "redis://127.0.0.1:PORT?prefix=P[&EXTRA]"; `extra_query` is "key=value[&...]".
  std::string url(const std::string& extra_query = "") const;
  // The same with a database: "redis://127.0.0.1:PORT/DB?prefix=P[&EXTRA]".
  std::string url_db(int db, const std::string& extra_query = "") const;
  // "redis+unix:///TMPDIR/redis.sock?prefix=P[&EXTRA]".
  std::string unix_url(const std::string& extra_query = "") const;
  // A new client of url(extra_query).
  Client new_client(const std::string& extra_query = "") const;
  // Every key in database `db` (redis-cli --scan), sorted.
  std::vector<std::string> keys(int db = 0) const;

  redis_server redis;
  std::string prefix;
};

// The same with --appendonly yes --appendfsync always.
struct redis_aof_fixture : redis_fixture {
  redis_aof_fixture() : redis_fixture(redis_options{.append_only = true}) {}
};

}  // namespace mpstate::test
