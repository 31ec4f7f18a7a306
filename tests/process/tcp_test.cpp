// SPDX-License-Identifier: MIT
// The manager over TCP (--listen), as a client on another machine uses it: the key
// handshake (no op served before it; wrong key, no key and a replayed handshake
// refused; a read-only key), every op family from real child processes, and
// ownership by lease: a remote lock holder or loop owner SIGKILLed is recovered
// as a local one is.
#include <signal.h>
#include <sys/stat.h>

#include <boost/test/unit_test.hpp>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "mpstate/core/auth.hpp"
#include "process_fixture.hpp"

using namespace mpstate;
using namespace mpstate::test;
using namespace std::chrono;
using nlohmann::json;

namespace {

const std::string the_key = "0123456789abcdef0123456789abcdef";
const std::string read_only_key = "read-only-key-for-the-tcp-tests";

std::string key_file(const std::filesystem::path& dir, const std::string& name, const std::string& key) {
  const auto path = dir / name;
  std::ofstream(path) << key << "\n";
  std::filesystem::permissions(path, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  return path.string();
}

// A manager listening on loopback with the key (and a read-only key), a local
// client of it, and remote clients over `url`.
struct tcp_fixture_base {
  tcp_fixture_base() : dir(std::filesystem::temp_directory_path() / unique_name("tcpkeys")) {
    std::filesystem::create_directory(dir);
  }
  ~tcp_fixture_base() { std::filesystem::remove_all(dir); }
  void start(const std::vector<std::string>& more_args = {}) {
    ManagerOptions o;
    o.size = 16 << 20;
    o.executable = MPSTATE_MANAGER_PATH;
    o.extra_args = {"--listen",
                    "127.0.0.1:0",
                    "--key-file",
                    key_file(dir, "key", the_key),
                    "--read-only-key-file",
                    key_file(dir, "ro", read_only_key),
                    "--lease",
                    "2"};
    o.extra_args.insert(o.extra_args.end(), more_args.begin(), more_args.end());
    manager.emplace(Manager::start(o));
    local.emplace(manager->connect());
  }

  json stat() const { return local->request({{"op", "stat"}}); }

  Client remote(const std::string& key = the_key) const {
    return Client(ClientOptions{.manager_name = url, .key = key});
  }
  // A raw TCP connection past the challenge: returns the challenge.
  std::string open_raw(raw_connection& c) const {
    const json hello = json::parse(c.read_line().value());
    BOOST_REQUIRE_EQUAL(hello.value("auth", ""), "hmac-sha256");
    return hello.at("challenge").get<std::string>();
  }
  static std::string auth_line(const std::string& key, const std::string& challenge, const std::string& ours) {
    return json{{"op", "auth"},
                {"id", 1},
                {"challenge", ours},
                {"proof", core::auth_proof(key, "client", challenge, ours)}}
               .dump() +
           "\n";
  }

  std::filesystem::path dir;
  std::optional<Manager> manager;
  std::optional<Client> local;
  std::string url;
};

struct tcp_fixture : tcp_fixture_base {
  tcp_fixture() {
    start();
    url = "tcp://" + stat()["listening"][0].get<std::string>();
  }
};

}  // namespace

BOOST_FIXTURE_TEST_SUITE(tcp_transport, tcp_fixture)

BOOST_AUTO_TEST_CASE(children_over_tcp_add_exactly_and_reach_every_op_family) {
  local->create<std::int64_t>("count", 0);
  constexpr int children = 3, adds = 300;
  std::vector<pid_t> pids;
  for (int i = 0; i < children; ++i) {
    pids.push_back(spawn([&] {
      Client c = remote();
      auto count = c.value<std::int64_t>("count");
      for (int k = 0; k < adds; ++k) count.add(1);
      return c.is_local() ? 1 : 0;
    }));
  }
  for (pid_t p : pids) BOOST_REQUIRE_EQUAL(wait_exit(p).value(), 0);
  BOOST_TEST(local->value<std::int64_t>("count").get() == children * adds);

  pid_t child = spawn([&] {
    Client c = remote();
    c.create<std::string>("text", "from afar");
    c.dict<double>("prices").set("tea", 2.5);
    auto q = c.queue<std::int64_t>("jobs");
    q.put(7);
    q.put(8);
    auto lock = c.lock("guard");
    if (!lock.acquire(1s).acquired) return 2;
    lock.release();
    auto loop = c.loop("worker");
    loop.mark_starting();
    loop.mark_running();
    loop.heartbeat(3);
    c.event("done").set();
    c.list_of<std::int64_t>("items").append(41);
    return c.value<std::int64_t>("count").get() == children * adds ? 0 : 3;
  });
  BOOST_REQUIRE_EQUAL(wait_exit(child).value(), 0);
  BOOST_TEST(local->value<std::string>("text").get() == "from afar");
  BOOST_TEST(local->dict<double>("prices").get("tea") == 2.5);
  auto jobs = local->queue<std::int64_t>("jobs");
  BOOST_TEST(jobs.get(1s).value() == 7);
  BOOST_TEST(jobs.get(1s).value() == 8);
  BOOST_TEST(local->event("done").is_set());
  BOOST_TEST(local->list_of<std::int64_t>("items").get(0) == 41);
  // The loop's owner was the child's connection: it closed, so the loop failed.
  BOOST_TEST((local->loop("worker").wait_for(LoopPhase::failed, 5s) == LoopPhase::failed));
}

BOOST_AUTO_TEST_CASE(no_op_is_served_before_the_handshake_and_wrong_keys_are_refused) {
  local->create<std::int64_t>("guarded", 1);
  {  // an op as the first line: refused after the delay, nothing applied
    raw_connection c(url);
    open_raw(c);
    const auto took = time_of([&] {
      c.send(R"({"op":"set","name":"guarded","value":99})"
             "\n");
      BOOST_TEST(code_of(json::parse(c.read_line(5s).value())) == "permission_denied");
    });
    BOOST_TEST(took >= 900ms);
    BOOST_TEST(c.closed_by_peer());
  }
  {  // the wrong key
    raw_connection c(url);
    const std::string challenge = open_raw(c);
    c.send(auth_line("not-the-key-not-the-key-not-the-key", challenge, core::new_challenge()) +
           R"({"op":"set","name":"guarded","value":98})"
           "\n");
    BOOST_TEST(code_of(json::parse(c.read_line(5s).value())) == "permission_denied");
    BOOST_TEST(c.closed_by_peer());
  }
  std::string replayed;
  {  // the right key, and the manager proves it holds it too
    raw_connection c(url);
    const std::string challenge = open_raw(c), ours = core::new_challenge();
    replayed = auth_line(the_key, challenge, ours);
    c.send(replayed);
    const json ok = json::parse(c.read_line().value());
    BOOST_TEST(ok["result"]["access"] == "read_write");
    BOOST_TEST(ok["result"]["proof"] == core::auth_proof(the_key, "manager", ours, challenge));
    BOOST_TEST(code_of(ask(c, R"({"op":"get","name":"guarded"})")) == "ok");
  }
  {  // that handshake replayed on a new connection (a new challenge): refused
    raw_connection c(url);
    open_raw(c);
    c.send(replayed);
    BOOST_TEST(code_of(json::parse(c.read_line(5s).value())) == "permission_denied");
  }
  BOOST_TEST(local->value<std::int64_t>("guarded").get() == 1);
  BOOST_TEST(stat()["auth_failures"] == 3);
  // The client library: no key, a wrong key.
  BOOST_TEST((error_of([&] { Client(ClientOptions{.manager_name = url}); }) == errc::permission_denied));
  BOOST_TEST((error_of([&] { remote("a-wrong-key-of-enough-bytes"); }) == errc::permission_denied));
  BOOST_TEST((error_of([] { Client("tcp://127.0.0.1"); }) == errc::invalid_argument));
}

BOOST_AUTO_TEST_CASE(a_read_only_key_reads_and_changes_nothing) {
  local->create<std::int64_t>("shared", 5);
  Client reader = remote(read_only_key);
  BOOST_TEST(reader.value<std::int64_t>("shared").get() == 5);
  BOOST_TEST((error_of([&] { reader.value<std::int64_t>("shared").set(6); }) == errc::permission_denied));
  BOOST_TEST((error_of([&] { reader.create<std::int64_t>("new", 1); }) == errc::permission_denied));
  BOOST_TEST(local->value<std::int64_t>("shared").get() == 5);
}

BOOST_AUTO_TEST_CASE(a_remote_pid_is_refused) {
  local->loop("l");
  raw_connection c(url);
  const std::string challenge = open_raw(c);
  c.send(auth_line(the_key, challenge, core::new_challenge()));
  BOOST_REQUIRE(code_of(json::parse(c.read_line().value())) == "ok");
  BOOST_TEST(code_of(ask(c, R"({"op":"loop_mark","name":"l","state":"starting","pid":1})")) == "invalid_argument");
  BOOST_TEST(code_of(ask(c, R"({"op":"auth","challenge":"x","proof":"y"})")) == "invalid_argument");
}

BOOST_AUTO_TEST_CASE(a_remote_lock_holder_killed_frees_the_lock_and_the_next_acquirer_is_told) {
  Lock lock = local->lock("mutex");
  pid_t holder = child_holding([&] {
    static std::optional<Client> keep;  // the connection (and its lease) lives until the kill
    keep.emplace(remote());
    if (!keep->lock("mutex").acquire(1s).acquired) std::_Exit(2);
  });
  BOOST_TEST(!lock.acquire(100ms).acquired);  // held by the remote child
  BOOST_TEST(stat()["leases"] == 1);
  kill_now(holder);
  AcquireResult last;
  const auto took = time_of([&] { last = lock.acquire(5s); });
  BOOST_REQUIRE(last.acquired);
  BOOST_TEST(last.previous_owner_died);
  BOOST_TEST(took < 3s);  // the lease ended with the connection, not at a timeout
  lock.release();
  BOOST_TEST(eventually([&] { return stat()["leases"] == 0; }, 5s));
}

BOOST_AUTO_TEST_CASE(a_cut_connection_ends_the_lease_of_a_holder_that_lives_on) {
  Lock lock = local->lock("mutex");
  raw_connection c(url);
  const std::string challenge = open_raw(c);
  c.send(auth_line(the_key, challenge, core::new_challenge()));
  BOOST_REQUIRE(code_of(json::parse(c.read_line().value())) == "ok");
  BOOST_REQUIRE(ask(c, R"({"op":"acquire","name":"mutex"})")["result"]["acquired"] == true);
  BOOST_TEST(!lock.acquire(100ms).acquired);
  c.cut();  // this process lives on; its connection does not
  const AcquireResult last = lock.acquire(5s);
  BOOST_TEST(last.acquired);
  BOOST_TEST(last.previous_owner_died);  // the lease holder is gone, as after a kill -9
}

BOOST_AUTO_TEST_CASE(a_remote_holder_killed_during_a_long_wait_frees_its_lock_at_once) {
  Lock lock = local->lock("mutex");
  local->create<std::int64_t>("never", 0);
  pid_t holder = spawn([&] {
    Client c = remote();
    if (!c.lock("mutex").acquire(1s).acquired) return 2;
    auto never = c.value<std::int64_t>("never");
    never.wait_for_change(never.version(), 60s);  // the manager holds a 60 s wait for it
    return 3;
  });
  BOOST_REQUIRE(eventually([&] { return stat()["waits_pending"] == 1; }, 5s));
  kill_now(holder);
  const AcquireResult last = lock.acquire(5s);  // not after the wait's 60 s
  BOOST_TEST(last.acquired);
  BOOST_TEST(last.previous_owner_died);
}

BOOST_AUTO_TEST_CASE(a_remote_loop_owner_killed_turns_the_loop_failed) {
  LoopState loop = local->loop("scheduler");
  pid_t owner = child_holding([&] {
    static std::optional<Client> keep;
    keep.emplace(remote());
    auto l = keep->loop("scheduler");
    l.mark_starting();
    l.mark_running();
  });
  BOOST_TEST((loop.state() == LoopPhase::running));
  BOOST_TEST(loop.info().pid != owner);  // the lease holder, on the manager's machine
  kill_now(owner);
  BOOST_TEST((loop.wait_for(LoopPhase::stopped, 5s) == LoopPhase::failed));
}

BOOST_AUTO_TEST_CASE(the_key_file_must_be_private_and_listening_needs_a_key) {
  const std::string open_key = (dir / "open").string();
  std::ofstream(open_key) << the_key << "\n";
  std::filesystem::permissions(open_key, std::filesystem::perms::owner_read | std::filesystem::perms::group_read |
                                             std::filesystem::perms::others_read);
  const std::string manager = MPSTATE_MANAGER_PATH;
  auto no_env = [](const std::string& cmd) { return "env -u MPSTATE_KEY -u MPSTATE_KEY_FILE " + cmd + " 2>&1"; };
  auto r = run_command(no_env(manager + " -n " + unique_name("k") + " --listen 127.0.0.1:0 --key-file " + open_key));
  BOOST_TEST(r.exit_code == 1);
  BOOST_TEST(r.output.find("chmod 600") != std::string::npos, r.output);
  r = run_command(no_env(manager + " -n " + unique_name("k") + " --listen 127.0.0.1:0"));
  BOOST_TEST(r.exit_code == 1);
  BOOST_TEST(r.output.find("--listen needs a key") != std::string::npos, r.output);
}

BOOST_AUTO_TEST_CASE(floods_and_stalled_tcp_peers_leave_the_others_served) {
  local->create<std::int64_t>("probe", 1);
  Client good = remote();  // connected before the flood
  auto probe = good.value<std::int64_t>("probe");
  // A peer that sends 8 KiB of junk instead of its auth line.
  raw_connection junk(url);
  open_raw(junk);
  junk.send(std::string(8192, 'x'));
  // An authenticated peer that pipelines 50,000 requests and never reads an answer.
  raw_connection flood(url);
  const std::string challenge = open_raw(flood);
  flood.send(auth_line(the_key, challenge, core::new_challenge()));
  BOOST_REQUIRE(code_of(json::parse(flood.read_line().value())) == "ok");
  std::string burst;
  for (int i = 0; i < 1000; ++i)
    burst += R"({"op":"get","name":"probe"})"
             "\n";
  for (int i = 0; i < 50 && flood.send_for(burst, 200ms); ++i) {
  }
  // 300 peers that connect and say nothing: 256 at most wait in their handshake; the
  // oldest are let go to make room for newer ones (the junk peer among them).
  std::vector<std::unique_ptr<raw_connection>> silent;
  for (int i = 0; i < 300; ++i) silent.push_back(std::make_unique<raw_connection>(url));
  // Both once the manager has accepted all 300 (under ASan some still sit in the
  // kernel's backlog when the table first reads 256).
  BOOST_TEST(eventually(
                 [&] {
                   const auto s = stat();
                   return s["handshakes_pending"] == 256 && s["handshakes_dropped"].get<int>() >= 44;
                 },
                 10s),
             stat().dump());
  // Meanwhile the client with the key is served at once, every time, and so is a new
  // one: a full table never locks a client with the key out.
  milliseconds worst{0};
  for (int i = 0; i < 200; ++i) {
    worst = std::max(worst, time_of([&] { BOOST_REQUIRE(probe.get() == 1); }));
  }
  BOOST_TEST(worst < 500ms);
  BOOST_TEST(remote().value<std::int64_t>("probe").get() == 1);
  const auto junk_answer = junk.read_line(5s);  // refused, or let go before its refusal
  BOOST_TEST((!junk_answer || code_of(json::parse(*junk_answer)) == "permission_denied"));
  silent.clear();
  BOOST_TEST(eventually([&] { return stat()["handshakes_pending"] == 0; }, 5s));
  BOOST_TEST(remote().value<std::int64_t>("probe").get() == 1);
}

BOOST_AUTO_TEST_SUITE_END()

namespace {

// A manager serving TLS on loopback, with a certificate openssl makes for the test
// (for 127.0.0.1 and localhost); `mutual`: clients must show the client certificate.
struct tls_fixture : tcp_fixture_base {
  explicit tls_fixture(bool mutual = false) {
    make_certificate("server", "DNS:localhost,IP:127.0.0.1");
    make_certificate("client", "DNS:client");
    std::vector<std::string> args = {"--tls-cert", (dir / "server.crt").string(), "--tls-key",
                                     (dir / "server.key").string()};
    if (mutual) args.insert(args.end(), {"--tls-ca", (dir / "client.crt").string()});
    start(args);
    url = "tls://" + stat()["listening"][0].get<std::string>();
    ::setenv("MPSTATE_TLS_CA", (dir / "server.crt").c_str(), 1);
  }
  ~tls_fixture() {
    for (const char* v : {"MPSTATE_TLS_CA", "MPSTATE_TLS_CERT", "MPSTATE_TLS_KEY"}) ::unsetenv(v);
  }
  void make_certificate(const std::string& name, const std::string& names) {
    const auto r = run_command(
        "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 "
        "-subj /CN=" +
        name + " -addext subjectAltName=" + names + " -keyout " + (dir / (name + ".key")).string() + " -out " +
        (dir / (name + ".crt")).string() + " 2>&1");
    BOOST_REQUIRE_MESSAGE(r.exit_code == 0, r.output);
  }
};

struct mutual_tls_fixture : tls_fixture {
  mutual_tls_fixture() : tls_fixture(true) {}
};

}  // namespace

BOOST_FIXTURE_TEST_SUITE(tls_transport, tls_fixture)

BOOST_AUTO_TEST_CASE(children_over_tls_add_exactly_and_a_killed_holder_frees_its_lock) {
  local->create<std::int64_t>("count", 0);
  std::vector<pid_t> pids;
  for (int i = 0; i < 2; ++i) {
    pids.push_back(spawn([&] {
      Client c = remote();
      auto count = c.value<std::int64_t>("count");
      for (int k = 0; k < 200; ++k) count.add(1);
      return 0;
    }));
  }
  for (pid_t p : pids) BOOST_REQUIRE_EQUAL(wait_exit(p).value(), 0);
  BOOST_TEST(local->value<std::int64_t>("count").get() == 400);

  Lock lock = local->lock("mutex");
  pid_t holder = child_holding([&] {
    static std::optional<Client> keep;
    keep.emplace(remote());
    if (!keep->lock("mutex").acquire(1s).acquired) std::_Exit(2);
  });
  BOOST_TEST(!lock.acquire(100ms).acquired);
  kill_now(holder);
  const AcquireResult last = lock.acquire(5s);
  BOOST_TEST(last.acquired);
  BOOST_TEST(last.previous_owner_died);
}

// The manager reads and writes through TLS itself: values many TLS records long
// arrive whole both ways, a wait is answered inside TLS, and a peer killed in the
// middle of a wait ends its lease at once (its end is seen through the stream).
BOOST_AUTO_TEST_CASE(large_values_and_waits_go_through_tls_whole_and_a_waiter_killed_mid_wait_loses_its_lock) {
  std::string big(1 << 20, 'x');
  for (std::size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>('a' + i * 7 % 26);
  Client client = remote();
  auto remote_big = client.value_or_create<std::string>("tls/big", "");
  remote_big.set(big);
  auto local_big = local->value<std::string>("tls/big");
  BOOST_TEST((local_big.get() == big));
  local_big.set(big + "!");
  BOOST_TEST((remote_big.get() == big + "!"));

  auto n = local->value_or_create<std::int64_t>("tls/n", 0);
  Lock lock = local->lock("tls/lock");
  int ready[2];
  BOOST_REQUIRE(::pipe(ready) == 0);
  pid_t waiter = spawn([&] {
    Client c = remote();
    auto seen_n = c.value<std::int64_t>("tls/n");
    const std::uint64_t seen = seen_n.version();
    if (!c.lock("tls/lock").acquire(5s).acquired) return 2;
    [[maybe_unused]] auto w = ::write(ready[1], "x", 1);
    if (seen_n.wait_for_change(seen, 10s) == seen || seen_n.get() != 5) return 1;
    w = ::write(ready[1], "y", 1);
    seen_n.wait_for_change(seen_n.version(), 60s);  // killed in here
    return 3;
  });
  char byte;
  BOOST_REQUIRE(::read(ready[0], &byte, 1) == 1);
  n.set(5);
  BOOST_REQUIRE(::read(ready[0], &byte, 1) == 1);
  BOOST_TEST(byte == 'y');
  BOOST_TEST(eventually([&] { return stat()["waits_pending"] == 1; }, 5s));
  kill_now(waiter);
  AcquireResult got;
  BOOST_TEST((time_of([&] { got = lock.acquire(5s); }) < 2s));
  BOOST_TEST(got.previous_owner_died);
  lock.release();
}

BOOST_AUTO_TEST_CASE(an_untrusted_certificate_or_plain_tcp_is_refused) {
  ::setenv("MPSTATE_TLS_CA", (dir / "client.crt").c_str(), 1);  // trusts another certificate
  BOOST_TEST((error_of([&] { remote(); }) == errc::permission_denied));
  ::setenv("MPSTATE_TLS_CA", (dir / "server.crt").c_str(), 1);
  BOOST_TEST((error_of([&] { remote("a-wrong-key-of-enough-bytes"); }) == errc::permission_denied));
  const std::string plain = "tcp://" + url.substr(6);  // the key handshake without TLS: no answer
  BOOST_TEST(
      (error_of([&] { Client(ClientOptions{.manager_name = plain, .key = the_key}); }) == errc::manager_unavailable));
  BOOST_TEST(stat()["auth_failures"] >= 2);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_FIXTURE_TEST_SUITE(mutual_tls, mutual_tls_fixture)

BOOST_AUTO_TEST_CASE(a_client_certificate_is_required) {
  // TLS 1.3: the client finishes first; the manager then hangs up on it
  BOOST_TEST((error_of([&] { remote(); }) == errc::manager_unavailable));
  ::setenv("MPSTATE_TLS_CERT", (dir / "client.crt").c_str(), 1);
  ::setenv("MPSTATE_TLS_KEY", (dir / "client.key").c_str(), 1);
  BOOST_TEST(remote().value_or_create<std::int64_t>("x", 7).get() == 7);
}

BOOST_AUTO_TEST_SUITE_END()
