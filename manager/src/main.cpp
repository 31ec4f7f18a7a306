// SPDX-License-Identifier: MIT
// mpstate-manager: parses the command line and runs the manager library.
#include <signal.h>
#include <sys/resource.h>

#include <boost/program_options.hpp>
#include <cstdlib>
#include <cstring>
#include <iostream>

#include "log.hpp"
#include "mpstate/core/auth.hpp"
#include "mpstate/core/layout.hpp"
#include "mpstate/core/protocol.hpp"
#include "mpstate/manager/server.hpp"
#include "mpstate/version.hpp"
#include "size_arg.hpp"

namespace po = boost::program_options;

namespace {
void raise_open_file_limit() {
  rlimit lim{};
  if (getrlimit(RLIMIT_NOFILE, &lim) == 0 && lim.rlim_cur < lim.rlim_max) {
    lim.rlim_cur = lim.rlim_max;
    setrlimit(RLIMIT_NOFILE, &lim);
  }
}
}  // namespace

int main(int argc, char** argv) {
  // A log written to a pipe whose reader has gone (an embedded manager's starter that
  // relayed it, then died) fails with EPIPE; it must not end the manager.
  ::signal(SIGPIPE, SIG_IGN);
  mpstate::manager::options opts;
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
  po::options_description desc("mpstate-manager --name NAME [options]");
  desc.add_options()("help,h", "show this help")("version", "print the version and exit")(
      "name,n", po::value(&opts.name)->required(), "manager name (the segment and socket are named after it)")(
      "size,s", po::value(&size), "segment size, bytes with an optional K/M/G suffix (default 64M)")(
      "socket", po::value(&opts.socket_path), "socket path (default <runtime dir>/<name>.sock)")(
      "keep", po::bool_switch(&opts.keep), "leave the segment in place on a clean exit")(
      "allow-uid", po::value(&allow_uids)->multitoken(), "also accept clients of this uid")(
      "allow-gid", po::value(&allow_gids)->multitoken(),
      "also accept clients in this group (primary or supplementary)")(
      "max-line", po::value(&opts.max_line), "longest request line in bytes (default 96M: a 64M value as JSON)")(
      "max-connections", po::value(&opts.max_connections), "clients served at once (default 1024)")(
      "idle-timeout", po::value(&idle_seconds), "close connections idle this many seconds (default 600, 0: never)")(
      "max-answer-memory", po::value(&answer_memory),
      "answers held for clients that do not read them, all "
      "together; past it large ones are refused (default 64M)")(
      "busy-timeout", po::value(&busy_seconds),
      "retry a request that meets a lock a client holds this many "
      "seconds, then answer it 'busy' (default 2)")("snapshot", po::value(&opts.snapshot_path),
                                                    "save every value to this JSON file at exit and periodically; "
                                                    "restore from it when the segment is gone (after a reboot)")(
      "snapshot-interval", po::value(&snapshot_seconds), "seconds between snapshots (default 60, 0: at exit only)")(
      "ready-fd", po::value(&opts.ready_fd), "write 'ready' to this fd once serving")(
      "starter-pid", po::value(&opts.starter_pid),
      "embedded: the process that started this manager; once it ends, "
      "serve on while other processes use the segment, then exit")(
      "listen", po::value(&opts.listen)->composing(),
      "also serve TCP clients on HOST:PORT (repeatable; port 0: any "
      "free one); needs a key")("key-file", po::value(&key_file),
                                "the TCP clients' key: a file only its owner may read (default "
                                "$MPSTATE_KEY_FILE, or the key in $MPSTATE_KEY)")(
      "read-only-key-file", po::value(&read_only_key_file), "a second key, whose clients may only read")(
      "tls-cert", po::value(&opts.tls_cert), "serve --listen over TLS with this certificate chain (PEM)")(
      "tls-key", po::value(&opts.tls_key), "the certificate's private key (PEM)")(
      "tls-ca", po::value(&opts.tls_ca), "require TLS clients to show a certificate this CA (PEM) signed")(
      "lease", po::value(&lease_seconds),
      "seconds after which a TCP peer that went silent (its machine or network "
      "gone) loses its connection and what it holds (default 5)")(
      "busy-poll", po::value(&busy_poll_us),
      "after each request, keep polling the sockets this many microseconds "
      "before sleeping: lower latency for more CPU (default 0: sleep at once)")(
      "log-level", po::value(&log_level),
      "what goes to standard error: debug, info (default), warning, error "
      "or off")("list-ops", "print the wire ops and exit");
  try {
    po::variables_map vm;
    po::store(po::parse_command_line(argc, argv, desc), vm);
    if (vm.count("help")) {
      std::cout << desc << "\n";
      return 0;
    }
    if (vm.count("version")) {
      std::cout << "mpstate-manager " << mpstate::version << " (segment layout " << mpstate::core::layout_version
                << ", protocol " << mpstate::core::protocol_version << ")\n";
      return 0;
    }
    if (vm.count("list-ops")) {
      mpstate::manager::print_op_table(std::cout);
      return 0;
    }
    po::notify(vm);
    mpstate::manager::set_log_level(log_level);
    opts.size = mpstate::manager::parse_size(size);
    opts.max_answer_memory = mpstate::manager::parse_size(answer_memory);
    if (idle_seconds < 0) throw mpstate::error(mpstate::errc::invalid_argument, "--idle-timeout must not be negative");
    opts.idle_timeout = std::chrono::milliseconds(static_cast<long>(idle_seconds * 1000));
    if (busy_seconds < 0) throw mpstate::error(mpstate::errc::invalid_argument, "--busy-timeout must not be negative");
    opts.busy_timeout = std::chrono::milliseconds(static_cast<long>(busy_seconds * 1000));
    if (snapshot_seconds < 0)
      throw mpstate::error(mpstate::errc::invalid_argument, "--snapshot-interval must not be negative");
    opts.snapshot_interval = std::chrono::milliseconds(static_cast<long>(snapshot_seconds * 1000));
    opts.allowed_uids.assign(allow_uids.begin(), allow_uids.end());
    opts.allowed_gids.assign(allow_gids.begin(), allow_gids.end());
    if (!key_file.empty())
      opts.key = mpstate::core::read_key_file(key_file);
    else if (!opts.listen.empty())
      opts.key = mpstate::core::key_from_environment();
    // Read: not left for readers of /proc/PID/environ (ours: unsetenv alone leaves the
    // bytes of the environment block the kernel shows there) nor for children.
    if (char* key = std::getenv("MPSTATE_KEY")) std::memset(key, 0, std::strlen(key));
    ::unsetenv("MPSTATE_KEY");
    if (!read_only_key_file.empty()) opts.read_only_key = mpstate::core::read_key_file(read_only_key_file);
    if (!opts.read_only_key.empty() && opts.read_only_key == opts.key) {
      throw mpstate::error(mpstate::errc::invalid_argument, "the read-only key must differ from the key");
    }
    if (lease_seconds < 1) throw mpstate::error(mpstate::errc::invalid_argument, "--lease must be at least 1 second");
    opts.lease = std::chrono::seconds(lease_seconds);
    if (busy_poll_us < 0 || busy_poll_us > 5'000) {  // below the 10 ms clock tick, or an idle loop would never sleep
      throw mpstate::error(mpstate::errc::invalid_argument, "--busy-poll must be 0 to 5000 microseconds");
    }
    opts.busy_poll = std::chrono::microseconds(busy_poll_us);
    raise_open_file_limit();  // one descriptor per client connection
    mpstate::manager::server server(std::move(opts));
    server.run();
    return 0;
  } catch (const mpstate::error& e) {
    mpstate::manager::log().error("{}", e.what());
    return e.code() == mpstate::errc::manager_running ? 3 : 1;
  } catch (const std::exception& e) {
    std::cerr << "mpstate-manager: " << e.what() << "\n" << desc << "\n";
    return 2;
  }
}
