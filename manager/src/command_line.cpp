// SPDX-License-Identifier: MIT
#include "command_line.hpp"

#include <signal.h>
#include <sys/resource.h>

#include <boost/program_options.hpp>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <sstream>

#include "log.hpp"
#include "mpstate/core/auth.hpp"
#include "mpstate/core/layout.hpp"
#include "mpstate/core/protocol.hpp"
#include "mpstate/manager/server.hpp"
#include "mpstate/version.hpp"
#include "size_arg.hpp"

namespace mpstate::manager {

namespace po = boost::program_options;

namespace {

void raise_open_file_limit() {
  rlimit lim{};
  if (getrlimit(RLIMIT_NOFILE, &lim) == 0 && lim.rlim_cur < lim.rlim_max) {
    lim.rlim_cur = lim.rlim_max;
    setrlimit(RLIMIT_NOFILE, &lim);
  }
}

// The options as typed, before they become options.
struct command_line {
  std::string size = "64M";
  std::string answer_memory = "64M";
  std::vector<unsigned> allow_uids, allow_gids;
  double idle_seconds = 600;
  double busy_seconds = 2;
  double snapshot_seconds = 60;
  std::string key_file, read_only_key_file;
  long lease_seconds = 5;
  long busy_poll_us = 0;
  std::string log_level = "info";
};

po::options_description describe(command_line& c, options& o) {
  po::options_description desc("mpstate-manager --name NAME [options]");
  auto add = desc.add_options();
  add("help,h", "show this help");
  add("version", "print the version and exit");
  add("list-ops", "print the wire ops and exit");
  add("name,n", po::value(&o.name)->required(), "manager name (the segment and socket are named after it)");
  add("size,s", po::value(&c.size), "segment size, bytes with an optional K/M/G suffix (default 64M)");
  add("socket", po::value(&o.socket_path), "socket path (default <runtime dir>/<name>.sock)");
  add("keep", po::bool_switch(&o.keep), "leave the segment in place on a clean exit");
  add("allow-uid", po::value(&c.allow_uids)->multitoken(), "also accept clients of this uid");
  add("allow-gid", po::value(&c.allow_gids)->multitoken(),
      "also accept clients in this group (primary or supplementary)");
  add("max-line", po::value(&o.max_line), "longest request line in bytes (default 96M: a 64M value as JSON)");
  add("max-connections", po::value(&o.max_connections), "clients served at once (default 1024)");
  add("idle-timeout", po::value(&c.idle_seconds), "close connections idle this many seconds (default 600, 0: never)");
  add("max-answer-memory", po::value(&c.answer_memory),
      "answers held for clients that do not read them, all together; past it large ones are refused (default 64M)");
  add("busy-timeout", po::value(&c.busy_seconds),
      "retry a request that meets a lock a client holds this many seconds, then answer it 'busy' (default 2)");
  add("snapshot", po::value(&o.snapshot_path),
      "save every value to this JSON file at exit and periodically; restore from it when the segment is gone "
      "(after a reboot)");
  add("snapshot-interval", po::value(&c.snapshot_seconds), "seconds between snapshots (default 60, 0: at exit only)");
  add("ready-fd", po::value(&o.ready_fd), "write 'ready' to this fd once serving");
  add("starter-pid", po::value(&o.starter_pid),
      "embedded: the process that started this manager; once it ends, serve on while other processes use the "
      "segment, then exit");
  add("listen", po::value(&o.listen)->composing(),
      "also serve TCP clients on HOST:PORT (repeatable; port 0: any free one); needs a key");
  add("metrics", po::value(&o.metrics),
      "serve Prometheus metrics on http://HOST:PORT/metrics (port 0: any free one); off by default; with "
      "--read-only-key-file scrapers send that key as 'Authorization: Bearer KEY' (needed off loopback)");
  add("key-file", po::value(&c.key_file),
      "the TCP clients' key: a file only its owner may read (default $MPSTATE_KEY_FILE, or the key in $MPSTATE_KEY)");
  add("read-only-key-file", po::value(&c.read_only_key_file), "a second key, whose clients may only read");
  add("tls-cert", po::value(&o.tls_cert), "serve --listen over TLS with this certificate chain (PEM)");
  add("tls-key", po::value(&o.tls_key), "the certificate's private key (PEM)");
  add("tls-ca", po::value(&o.tls_ca), "require TLS clients to show a certificate this CA (PEM) signed");
  add("lease", po::value(&c.lease_seconds),
      "seconds after which a TCP peer that went silent (its machine or network gone) loses its connection and "
      "what it holds (default 5)");
  add("busy-poll", po::value(&c.busy_poll_us),
      "after each request, keep polling the sockets this many microseconds before sleeping: lower latency for "
      "more CPU (default 0: sleep at once)");
  add("log-level", po::value(&c.log_level),
      "what goes to standard error: debug, info (default), warning, error or off");
  return desc;
}

std::chrono::milliseconds milliseconds_of(double seconds) {
  return std::chrono::milliseconds(static_cast<long>(seconds < 0 ? -1 : seconds * 1000));  // < 0: refused below
}

// Puts the typed options into `o` (the server checks them: options::validate) and
// reads the key files; invalid_argument names a bad one.
void apply(const command_line& c, options& o) {
  set_log_level(c.log_level);
  o.size = parse_size(c.size);
  o.max_answer_memory = parse_size(c.answer_memory);
  o.idle_timeout = milliseconds_of(c.idle_seconds);
  o.busy_timeout = milliseconds_of(c.busy_seconds);
  o.snapshot_interval = milliseconds_of(c.snapshot_seconds);
  o.allowed_uids.assign(c.allow_uids.begin(), c.allow_uids.end());
  o.allowed_gids.assign(c.allow_gids.begin(), c.allow_gids.end());
  if (!c.key_file.empty()) {
    o.key = core::read_key_file(c.key_file);
  } else if (!o.listen.empty()) {
    o.key = core::key_from_environment();
  }
  // Read: not left for readers of /proc/PID/environ (ours: unsetenv alone leaves the
  // bytes of the environment block the kernel shows there) nor for children.
  if (char* key = std::getenv("MPSTATE_KEY")) std::memset(key, 0, std::strlen(key));
  ::unsetenv("MPSTATE_KEY");
  if (!c.read_only_key_file.empty()) o.read_only_key = core::read_key_file(c.read_only_key_file);
  o.lease = std::chrono::seconds(c.lease_seconds);
  o.busy_poll = std::chrono::microseconds(c.busy_poll_us);
}

std::string usage_of(const po::options_description& desc) {
  std::ostringstream text;
  text << desc;
  return text.str();
}

}  // namespace

command parse_command_line(const std::vector<std::string>& args) {
  command c;
  command_line typed;
  const po::options_description desc = describe(typed, c.opts);
  c.usage = usage_of(desc);
  po::variables_map vm;
  po::store(po::command_line_parser(args).options(desc).run(), vm);
  if (vm.count("help")) {
    c.what = command::action::help;
  } else if (vm.count("version")) {
    c.what = command::action::version;
  } else if (vm.count("list-ops")) {
    c.what = command::action::list_ops;
  } else {
    po::notify(vm);
    apply(typed, c.opts);
  }
  return c;
}

int run_command_line(int argc, char** argv, std::ostream& out, std::ostream& err) {
  try {
    command c = parse_command_line(std::vector<std::string>(argv + 1, argv + argc));
    switch (c.what) {
      case command::action::help:
        out << c.usage << "\n";
        break;
      case command::action::version:
        out << "mpstate-manager " << version << " (segment layout " << core::layout_version << ", protocol "
            << core::protocol_version << ")\n";
        break;
      case command::action::list_ops:
        print_op_table(out);
        break;
      case command::action::serve:
        raise_open_file_limit();  // one descriptor per client connection
        server(std::move(c.opts)).run();
        break;
    }
    return 0;
  } catch (const error& e) {
    log().error("{}", e.what());
    return e.code() == errc::manager_running ? 3 : 1;
  } catch (const std::exception& e) {
    command_line typed;
    options unused;
    err << "mpstate-manager: " << e.what() << "\n" << usage_of(describe(typed, unused)) << "\n";
    return 2;
  }
}

}  // namespace mpstate::manager
