// SPDX-License-Identifier: MIT
#include "mpstate/manager/server.hpp"

#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <boost/asio.hpp>
#include <cerrno>
#include <deque>
#include <iostream>

#include "answer_pool.hpp"
#include "connection.hpp"
#include "event_loop.hpp"
#include "log.hpp"
#include "metrics_endpoint.hpp"
#include "mpstate/core/instance_lock.hpp"
#include "mpstate/core/loop_ops.hpp"
#include "mpstate/core/names.hpp"
#include "mpstate/core/op_context.hpp"
#include "mpstate/core/sync_ops.hpp"
#include "mpstate/version.hpp"
#include "request_handler.hpp"
#include "snapshot.hpp"
#include "systemd_notify.hpp"
#include "tcp_listener.hpp"
#include "tls_handshake.hpp"
#include "wait_pool.hpp"

namespace mpstate::manager {

namespace asio = boost::asio;
using stream = asio::local::stream_protocol;

struct server::impl {
  options opts;
  std::string socket_path;
  std::unique_ptr<core::instance_lock> lock;
  std::unique_ptr<core::owned_segment> segment;
  server_facts facts;
  std::unique_ptr<request_handler> handler;
  asio::io_context io;
  stream::acceptor acceptor{io};
  std::vector<std::unique_ptr<asio::ip::tcp::acceptor>> tcp_acceptors;  // --listen
  std::unique_ptr<asio::ssl::context> tls_context;                      // --tls-cert: they serve TLS
  asio::signal_set signals{io, SIGINT, SIGTERM};
  asio::signal_set hangup{io, SIGHUP};  // take a snapshot now and go on
  asio::steady_timer watch_timer{io};
  asio::steady_timer accept_retry{io};
  asio::steady_timer clock_timer{io};
  asio::steady_timer snapshot_timer{io};
  std::unique_ptr<wait_pool> waits = std::make_unique<wait_pool>(io);        // joined before io dies
  std::unique_ptr<answer_pool> answers = std::make_unique<answer_pool>(io);  // likewise
  std::unique_ptr<metrics_endpoint> metrics;                                 // --metrics
  std::uint64_t watches = 0;
  core::process_identity starter;  // opts.starter_pid and its start time (0: gone at start)
  bool starter_gone = false;

  // Embedded: once the starter is gone, exit when nobody else uses the segment.
  void watch_starter();
  void collect_unheld();

  void do_accept();
  void on_accept(peer_socket socket);
  void listen_tcp();
  void accept_tcp(asio::ip::tcp::acceptor& acceptor);
  void on_accept_tcp(asio::ip::tcp::socket socket);
  // TCP peers in a handshake (TLS, then the key), oldest first. When the table is
  // full a new peer is not refused: the oldest is let go to make room. A client with
  // the key finishes in about a round trip, so it is almost never the oldest; peers
  // that hold sockets open idle, or send garbage, are (tested: docs/reliability.md).
  struct pending_handshake {
    std::function<bool()> still_pending;
    std::function<void()> let_go;
    // A peer in its handshake (in_handshake()), held weakly; `end` lets it go.
    template <class Peer>
    static pending_handshake of(const std::shared_ptr<Peer>& peer, void (Peer::*end)()) {
      std::weak_ptr<Peer> weak = peer;
      return {[weak] {
                auto p = weak.lock();
                return p && p->in_handshake();
              },
              [weak, end] {
                if (auto p = weak.lock()) ((*p).*end)();
              }};
    }
  };
  std::deque<pending_handshake> handshakes;
  log_budget dropped_log;
  std::uint64_t handshakes_dropped = 0;
  void make_room_for_a_handshake(const std::string& address);
  // Counts it, or refuses it past --max-connections. Either a socket or a TLS stream.
  template <class Transport>
  std::shared_ptr<connection> new_connection(Transport transport);
  // Serves a TCP peer at `address` once it proves the key; counted in `handshakes` till then.
  void serve_remote(std::shared_ptr<connection> conn, std::string address);
  bool peer_allowed(const ucred& cred) const;
  void watch();
  void tick();
  void restore_or_adopt();
  void save_periodically();
  void save_on_hangup();
  bool save_snapshot() noexcept;
};

namespace {

// A stale socket file from a manager that is gone (we hold the instance lock, so
// nobody serves it). Anything that is not a socket is left alone, with an error.
void remove_stale_socket(const std::string& path) {
  struct stat st {};
  if (lstat(path.c_str(), &st) != 0) return;
  if (!S_ISSOCK(st.st_mode)) {
    throw error(errc::permission_denied, path + " exists and is not a socket; not removing it");
  }
  ::unlink(path.c_str());
}

}  // namespace

server::server(options opts) : impl_(std::make_unique<impl>()) {
  impl& m = *impl_;
  m.opts = std::move(opts);
  const options& o = m.opts;
  o.validate();
  std::string dir = core::runtime_directory();
  core::ensure_runtime_directory(dir);
  m.socket_path = o.socket_path.empty() ? core::default_socket_path(o.name) : o.socket_path;
  if (m.socket_path.size() >= sizeof(sockaddr_un::sun_path)) {
    throw error(errc::invalid_argument, "socket path is longer than 107 bytes: " + m.socket_path);
  }
  core::check_private_directory(core::parent_directory(m.socket_path));
  m.lock = std::make_unique<core::instance_lock>(core::lock_file_path(o.name));
  remove_stale_socket(m.socket_path);  // refused (not a socket) before a segment is made
  m.listen_tcp();                      // before anything that outlives a failed start
  if (!o.metrics.empty()) {
    m.metrics = std::make_unique<metrics_endpoint>(m.io, o.metrics, std::vector<std::string>{o.read_only_key});
    m.facts.metrics_address = m.metrics->address();
  }
  m.segment = core::owned_segment::create_or_adopt(core::segment_name(o.name), o.size);
  m.restore_or_adopt();
  m.facts.manager_name = o.name;
  m.facts.busy_poll_us = o.busy_poll.count();
  m.facts.other_users_admitted = !o.allowed_uids.empty() || !o.allowed_gids.empty();
  m.facts.started_ns = core::now_ns();
  m.facts.waits = m.waits.get();
  m.handler = std::make_unique<request_handler>(*m.segment, m.facts);
  if (o.starter_pid > 0) m.starter = {o.starter_pid, core::process_start_time(o.starter_pid)};

  mode_t old_mask = ::umask(0177);  // the socket is born 0600
  m.acceptor.open(stream());
  boost::system::error_code ec;
  m.acceptor.bind(stream::endpoint(m.socket_path), ec);
  ::umask(old_mask);
  if (ec) throw error(errc::system_error, "cannot bind " + m.socket_path + ": " + ec.message());
  m.acceptor.listen(asio::socket_base::max_listen_connections);
  const int on = 1;  // SCM_CREDENTIALS on every message: requests are attributed to their sender
  ::setsockopt(m.acceptor.native_handle(), SOL_SOCKET, SO_PASSCRED, &on, sizeof on);
}

server::~server() {
  // The loop has stopped, and this thread, the table's only writer now, still never
  // waits: the exit snapshot must not hang on a lock a stopped client holds.
  core::op_context exiting{.may_wait = false};
  const core::op_scope scope(exiting);
  impl_->waits.reset();  // stop the waiter threads before anything they touch goes
  impl_->answers.reset();
  boost::system::error_code ignored;
  impl_->acceptor.close(ignored);
  ::unlink(impl_->socket_path.c_str());
  // Without a snapshot on disk the segment is the only copy: keep it then.
  bool saved = impl_->opts.snapshot_path.empty() || impl_->save_snapshot();
  if (!impl_->opts.keep && saved) {
    // Processes still mapping it are told at their next op (manager_unavailable),
    // rather than writing on into a segment nobody else will see.
    impl_->segment->end_incarnation();
    impl_->segment->unlink();
  }
}

const std::string& server::socket_path() const { return impl_->socket_path; }
const std::string& server::segment_name() const { return impl_->segment->shm_name(); }
bool server::adopted() const { return impl_->segment->adopted(); }

void server::run() {
  impl& m = *impl_;
  core::op_context loop_context{.may_wait = false};  // this thread runs the event loop: it must never stall
  const core::op_scope on_the_loop(loop_context);    // (each request installs its own inside it)
  m.signals.async_wait([this](boost::system::error_code ec, int signal) {
    if (ec) return;
    log().info("{}: saving and exiting", signal == SIGTERM ? "SIGTERM" : "SIGINT");
    notify_systemd("STOPPING=1");
    stop();
  });
  m.save_on_hangup();
  m.do_accept();
  for (auto& tcp : m.tcp_acceptors) m.accept_tcp(*tcp);
  if (m.metrics) m.metrics->start(*m.handler, *m.answers);
  m.watch();
  m.tick();
  m.save_periodically();
  if (m.opts.ready_fd >= 0) {
    const char ready[] = "ready\n";
    [[maybe_unused]] auto n = ::write(m.opts.ready_fd, ready, sizeof ready - 1);
    ::close(m.opts.ready_fd);
    m.opts.ready_fd = -1;
  }
  log().info("serving '{}' on {} (segment /{}, {}), mpstate {}", m.opts.name, m.socket_path, m.segment->shm_name(),
             m.segment->adopted() ? "adopted" : "created", version);
  for (const std::string& address : m.facts.listening) {
    log().info("serving {} clients with the key on {}", m.tls_context ? "TLS" : "TCP", address);
  }
  if (m.metrics) log().info("serving metrics on http://{}/metrics", m.metrics->address());
  notify_systemd("READY=1\nSTATUS=serving " + m.opts.name + "\nMAINPID=" + std::to_string(::getpid()));
  run_event_loop(m.io, m.opts.busy_poll);
}

void server::stop() {
  asio::post(impl_->io, [this] { impl_->io.stop(); });
}

void server::impl::do_accept() {
  auto socket = std::make_shared<peer_socket>(io);
  acceptor.async_accept(*socket, [this, socket](boost::system::error_code ec) {
    if (ec == asio::error::operation_aborted) return;
    if (!ec) {
      on_accept(std::move(*socket));
      return do_accept();
    }
    // Out of descriptors (or another transient failure): back off instead of spinning.
    log().warn("accept: {}", ec.message());
    accept_retry.expires_after(std::chrono::milliseconds(50));
    accept_retry.async_wait([this](boost::system::error_code wait_ec) {
      if (!wait_ec) do_accept();
    });
  });
}

// Counted from here; refused (with a line saying why) past --max-connections.
template <class Transport>
std::shared_ptr<connection> server::impl::new_connection(Transport transport) {
  ++facts.connections;
  auto conn = std::make_shared<connection>(
      std::move(transport), *handler, *waits, *answers, opts, [this] { --facts.connections; },
      [this] { asio::post(io, [this] { io.stop(); }); });
  if (facts.connections > opts.max_connections) {
    conn->refuse(errc::too_many_connections, "the manager serves " + std::to_string(opts.max_connections) +
                                                 " connections at most; try again later");
    return nullptr;
  }
  return conn;
}

void server::impl::on_accept(peer_socket socket) {
  ucred cred{};
  socklen_t len = sizeof cred;
  bool known = getsockopt(socket.native_handle(), SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0;
  auto conn = new_connection(std::move(socket));
  if (!conn) return;
  if (!known || !peer_allowed(cred)) {
    return conn->refuse(errc::permission_denied, "uid " + std::to_string(cred.uid) + " may not use this manager");
  }
  conn->start({cred.pid, core::process_start_time(cred.pid)});
}

// --listen: TCP, served only with a key (options::validate says why).
void server::impl::listen_tcp() {
  if (opts.listen.empty()) return;  // options::validate: a key, and TLS's files in pairs
  if (!opts.tls_cert.empty()) tls_context = make_tls_context(opts);
  for (const std::string& address : opts.listen) {
    tcp_acceptors.push_back(open_tcp_listener(io, address));
    facts.listening.push_back(to_string(tcp_acceptors.back()->local_endpoint()));
  }
}

void server::impl::accept_tcp(asio::ip::tcp::acceptor& tcp) {
  auto socket = std::make_shared<asio::ip::tcp::socket>(io);
  tcp.async_accept(*socket, [this, &tcp, socket](boost::system::error_code ec) {
    if (ec == asio::error::operation_aborted) return;
    if (!ec) {
      on_accept_tcp(std::move(*socket));
      return accept_tcp(tcp);
    }
    log().warn("accept (TCP): {}", ec.message());
    auto retry = std::make_shared<asio::steady_timer>(io, std::chrono::milliseconds(50));
    retry->async_wait([this, &tcp, retry](boost::system::error_code wait_ec) {
      if (!wait_ec) accept_tcp(tcp);
    });
  });
}

void server::impl::make_room_for_a_handshake(const std::string& address) {
  std::erase_if(handshakes, [](const pending_handshake& h) { return !h.still_pending(); });
  if (handshakes.size() < max_pending_handshakes) return;
  pending_handshake oldest = std::move(handshakes.front());
  handshakes.pop_front();
  oldest.let_go();
  ++handshakes_dropped;
  facts.handshakes_dropped = handshakes_dropped;
  if (std::uint64_t left_out = 0; dropped_log.allow(left_out)) {
    log().warn("{} TCP peers were in their handshake: let the oldest go to make room for {}{}", max_pending_handshakes,
               address, left_out ? " (and " + std::to_string(left_out) + " more in the last second)" : "");
  }
}

void server::impl::on_accept_tcp(asio::ip::tcp::socket socket) {
  std::string address = peer_address(socket.native_handle());
  make_room_for_a_handshake(address);
  tune_tcp_connection(socket.native_handle(), opts.lease);
  const int family = socket.local_endpoint().protocol().family();
  peer_socket plain(io, asio::generic::stream_protocol(family, IPPROTO_TCP), socket.release());
  if (!tls_context) {
    if (auto conn = new_connection(std::move(plain))) serve_remote(std::move(conn), std::move(address));
    return;
  }
  // TLS first; the connection is made (and counted) once it is up, and reads and
  // writes through the stream itself.
  auto tls = std::make_shared<tls_handshake>(std::make_unique<tls_stream>(std::move(plain), *tls_context));
  ++facts.handshakes_pending;  // until TLS is up; then until the key handshake is done
  handshakes.push_back(pending_handshake::of(tls, &tls_handshake::stop));
  tls->start(
      std::chrono::seconds(10),
      [this, address](std::unique_ptr<tls_stream> stream) {
        --facts.handshakes_pending;
        if (auto conn = new_connection(std::move(stream))) serve_remote(std::move(conn), address);
      },
      [this, address](const std::string& why) {
        --facts.handshakes_pending;
        ++facts.auth_failures;
        static log_budget budget;
        if (std::uint64_t left_out = 0; budget.allow(left_out)) {
          log().warn("{}: TLS handshake failed: {}{}", address, why,
                     left_out ? " (" + std::to_string(left_out) + " more in the last second not logged)" : "");
        }
      });
}

void server::impl::serve_remote(std::shared_ptr<connection> conn, std::string address) {
  conn->start_remote(std::move(address));
  handshakes.push_back(pending_handshake::of(conn, &connection::close));
}

// The manager's own uid, an --allow-uid, or a group of --allow-gid (the peer's
// primary group, or a supplementary one read from /proc while it is connected).
bool server::impl::peer_allowed(const ucred& cred) const {
  auto listed = [](const auto& list, auto id) { return std::find(list.begin(), list.end(), id) != list.end(); };
  if (cred.uid == ::geteuid() || listed(opts.allowed_uids, cred.uid)) return true;
  if (opts.allowed_gids.empty()) return false;
  if (listed(opts.allowed_gids, cred.gid)) return true;
  for (gid_t g : core::process_groups(cred.pid)) {
    if (listed(opts.allowed_gids, g)) return true;
  }
  return false;
}

// The segment's clock cell, which writes copy into their records' last-write stamp.
void server::impl::tick() {
  segment->tick_clock();
  clock_timer.expires_after(std::chrono::milliseconds(core::clock_tick_ms));
  clock_timer.async_wait([this](boost::system::error_code ec) {
    if (!ec) tick();
  });
}

// Loop owners that died without leaving become `failed`; locks, permits and barrier
// places of dead holders are given back; records deleted while bound are freed once
// their proxies are gone, or the processes that held them are.
void server::impl::watch() {
  for (core::variable_record* r : segment->watched()) {
    try {
      if (r->type == core::value_type::loop && core::fail_loop_if_owner_dead(*r)) {
        log().warn("loop '{}' failed: its owner died", r->name_view());
      } else if (core::evict_dead_holders(*r)) {
        log().warn("{} '{}': a holder died; recovered", core::to_string(r->type), r->name_view());
      }
    } catch (const core::lock_busy&) {
      // a client holds it: look again next time
    } catch (const std::exception& e) {
      log().error("watching '{}': {}", r->name_view(), e.what());
    }
  }
  // Bindings of dead processes: in retired records each time (they keep memory),
  // in live ones every 10th (that frees ledger entries for new processes).
  const bool every_record = ++watches % 10 == 0;
  segment->reclaim_dead_bindings(every_record);
  if (every_record) collect_unheld();
  watch_starter();
  segment->free_unbound_records();
  watch_timer.expires_after(opts.watch_interval);
  watch_timer.async_wait([this](boost::system::error_code ec) {
    if (!ec) watch();
  });
}

// Unnamed Python proxies' variables that no process holds any more (their last
// holder died: its bindings were just given back, and it sent no collect).
void server::impl::collect_unheld() {
  try {
    if (const std::size_t n = segment->collect_unbound()) {
      log().debug("collected {} variables no process holds", n);
    }
  } catch (const core::lock_busy&) {
    // a client holds one's lock: next time
  } catch (const std::exception& e) {
    log().error("collecting unheld variables: {}", e.what());
  }
}

// The starter of an embedded manager ended without stopping it (SIGKILLed, say):
// other processes may still use the segment (a second web worker, a child of the
// starter), so the manager serves on while any live process other than itself is
// connected or bound, and exits (as on SIGTERM) once none is.
void server::impl::watch_starter() {
  if (opts.starter_pid <= 0) return;
  if (!starter_gone) {
    if (core::is_alive(starter)) return;
    starter_gone = facts.starter_gone = true;
    log().info("the process that started this manager ({}) has ended; serving on while other processes use it",
               opts.starter_pid);
  }
  if (watches % 5 != 0) return;  // a scan of every record's ledger: once a second
  if (facts.connections == 0 && !segment->bound_by_another_live_process()) {
    log().info("no process uses the segment any more: exiting");
    io.stop();
  }
}

// A new segment takes the snapshot's values; an adopted one is newer than any
// snapshot and is kept. A snapshot that cannot be restored stops the start and
// leaves no half-filled segment behind for the next start to adopt.
void server::impl::restore_or_adopt() {
  const std::string& path = opts.snapshot_path;
  if (path.empty()) return;
  if (segment->adopted()) {
    log().info("adopted the running segment; snapshot {} not needed", path);
    return;
  }
  try {
    if (auto stats = restore_snapshot(*segment, path)) {
      log().info("restored {} variable(s) from {}", stats->variables, path);
    }
  } catch (...) {
    segment->unlink();
    throw;
  }
}

void server::impl::save_on_hangup() {
  hangup.async_wait([this](boost::system::error_code ec, int) {
    if (ec) return;
    if (opts.snapshot_path.empty()) {
      log().info("SIGHUP: no --snapshot file to save to; serving on");
    } else if (save_snapshot()) {
      log().info("SIGHUP: snapshot saved to {}; serving on", opts.snapshot_path);
    }
    save_on_hangup();
  });
}

void server::impl::save_periodically() {
  if (opts.snapshot_path.empty() || opts.snapshot_interval.count() <= 0) return;
  snapshot_timer.expires_after(opts.snapshot_interval);
  snapshot_timer.async_wait([this](boost::system::error_code ec) {
    if (ec) return;
    save_snapshot();
    save_periodically();
  });
}

bool server::impl::save_snapshot() noexcept {
  try {
    write_snapshot(*segment, opts.snapshot_path);
    return true;
  } catch (const std::exception& e) {
    log().error("snapshot not saved: {}", e.what());
    return false;
  }
}

}  // namespace mpstate::manager
