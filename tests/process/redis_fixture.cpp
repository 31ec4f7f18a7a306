// SPDX-License-Identifier: MIT
#include "redis_fixture.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <boost/test/unit_test.hpp>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace mpstate::test {

namespace {

constexpr const char* redis_server_path = "/usr/bin/redis-server";
constexpr const char* redis_cli_path = "/usr/bin/redis-cli";

// One PING on a fresh loopback connection: true when the answer is +PONG (not
// -LOADING while an AOF is read back, and not a refused connection).
bool redis_answers_ping(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bool ok = false;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) {
    static const char ping[] = "*1\r\n$4\r\nPING\r\n";
    if (::send(fd, ping, sizeof ping - 1, MSG_NOSIGNAL) == static_cast<ssize_t>(sizeof ping - 1)) {
      std::string reply;
      const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(500);
      while (reply.find("\r\n") == std::string::npos && std::chrono::steady_clock::now() < deadline) {
        pollfd p{fd, POLLIN, 0};
        if (::poll(&p, 1, 100) <= 0) continue;
        char buf[256];
        ssize_t n = ::recv(fd, buf, sizeof buf, 0);
        if (n <= 0) break;
        reply.append(buf, static_cast<std::size_t>(n));
      }
      ok = reply.rfind("+PONG", 0) == 0;
    }
  }
  ::close(fd);
  return ok;
}

}  // namespace

redis_server::redis_server(redis_options options) : options_(options) {
  char tmpl[] = "/tmp/mpstate-redis.XXXXXX";
  if (!::mkdtemp(tmpl)) throw std::runtime_error("mkdtemp: " + std::string(std::strerror(errno)));
  dir_ = tmpl;
  socket_ = dir_ + "/redis.sock";
  // Another process may take the port between our probe and redis's bind: try again.
  for (int attempt = 0; attempt < 5; ++attempt) {
    port_ = free_tcp_port();
    if (start()) return;
  }
  const std::string why = log();
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
  throw std::runtime_error("redis-server did not start; its log:\n" + why);
}

redis_server::~redis_server() {
  try {
    stop();
  } catch (...) {
  }
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

std::vector<std::string> redis_server::arguments() const {
  std::vector<std::string> args = {redis_server_path,
                                   "--port",
                                   std::to_string(port_),
                                   "--bind",
                                   "127.0.0.1",
                                   "--unixsocket",
                                   socket_,
                                   "--unixsocketperm",
                                   "700",
                                   "--dir",
                                   dir_,
                                   "--save",
                                   "",
                                   "--daemonize",
                                   "no",
                                   "--logfile",
                                   "",
                                   "--loglevel",
                                   "notice"};
  if (options_.append_only) {
    args.insert(args.end(), {"--appendonly", "yes", "--appendfsync", "always"});
  } else {
    args.insert(args.end(), {"--appendonly", "no"});
  }
  args.insert(args.end(), options_.extra_args.begin(), options_.extra_args.end());
  return args;
}

bool redis_server::start() {
  // Everything the child needs is made before fork: a client in this process may
  // run threads, so the child does only async-signal-safe calls before exec.
  const std::vector<std::string> args = arguments();
  std::vector<char*> argv;
  for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  const std::string log_path = dir_ + "/redis.log";
  const pid_t parent = ::getpid();

  pid_t child = ::fork();
  if (child < 0) throw std::runtime_error("fork: " + std::string(std::strerror(errno)));
  if (child == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);  // never outlives the test process
    if (::getppid() != parent) ::_exit(127);
    int null_fd = ::open("/dev/null", O_RDONLY);
    int log_fd = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
    if (null_fd < 0 || log_fd < 0) ::_exit(127);
    ::dup2(null_fd, 0);
    ::dup2(log_fd, 1);
    ::dup2(log_fd, 2);
    ::close_range(3, ~0U, 0);  // no test pipe or client socket held by the server
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    struct sigaction dfl {};
    dfl.sa_handler = SIG_DFL;
    for (int sig : {SIGTERM, SIGINT, SIGPIPE, SIGHUP}) ::sigaction(sig, &dfl, nullptr);
    ::execv(redis_server_path, argv.data());
    ::_exit(127);
  }
  pid_ = child;

  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
  while (std::chrono::steady_clock::now() < deadline) {
    if (redis_answers_ping(port_)) return true;
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {  // exited: the port was taken, or worse
      pid_ = -1;
      return false;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));  // poll again (deadline above)
  }
  kill_now();
  throw std::runtime_error("redis-server did not answer PING within 15 s; its log:\n" + log());
}

void redis_server::stop() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGTERM);
  if (!wait_exit(pid_, std::chrono::seconds(10)).has_value()) {
    ::kill(pid_, SIGKILL);
    wait_exit(pid_, std::chrono::seconds(10));
  }
  pid_ = -1;
}

void redis_server::kill_now() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  const std::optional<int> how = wait_exit(pid_, std::chrono::seconds(10));
  pid_ = -1;
  if (how != -SIGKILL) throw std::runtime_error("redis-server did not die of SIGKILL");
}

void redis_server::restart() {
  stop();
  if (!start())
    throw std::runtime_error("redis-server did not restart on port " + std::to_string(port_) + "; its log:\n" + log());
}

std::string redis_server::log() const {
  std::ifstream in(dir_ + "/redis.log");
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

command_result redis_server::cli(const std::string& args) const {
  return run_command(std::string(redis_cli_path) + " -s " + socket_ + " " + args + " 2>&1");
}

redis_fixture::redis_fixture(redis_options options) : redis(options), prefix(unique_name("rb")) {}

namespace {
std::string redis_query(const std::string& prefix, const std::string& extra) {
  return "?prefix=" + prefix + (extra.empty() ? "" : "&" + extra);
}
}  // namespace

std::string redis_fixture::url(const std::string& extra_query) const {
  return "redis://127.0.0.1:" + std::to_string(redis.port()) + redis_query(prefix, extra_query);
}

std::string redis_fixture::url_db(int db, const std::string& extra_query) const {
  return "redis://127.0.0.1:" + std::to_string(redis.port()) + "/" + std::to_string(db) +
         redis_query(prefix, extra_query);
}

std::string redis_fixture::unix_url(const std::string& extra_query) const {
  return "redis+unix://" + redis.socket_path() + redis_query(prefix, extra_query);
}

Client redis_fixture::new_client(const std::string& extra_query) const {
  return Client(ClientOptions{.manager_name = url(extra_query)});
}

std::vector<std::string> redis_fixture::keys(int db) const {
  const command_result r = redis.cli("-n " + std::to_string(db) + " --scan");
  BOOST_REQUIRE_MESSAGE(r.exit_code == 0, "redis-cli --scan: " << r.output);
  std::vector<std::string> out;
  std::istringstream in(r.output);
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) out.push_back(line);
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace mpstate::test
