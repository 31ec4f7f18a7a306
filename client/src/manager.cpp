// SPDX-License-Identifier: MIT
#include "mpstate/manager.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <vector>

#include "mpstate/core/names.hpp"
#include "mpstate/core/record_ops.hpp"
#include "mpstate/core/segment.hpp"
#include "mpstate/detail/binding.hpp"

namespace mpstate {
namespace {

std::string find_manager_executable(const std::string& configured) {
  namespace fs = std::filesystem;
  if (!configured.empty()) return configured;
  if (const char* env = std::getenv("MPSTATE_MANAGER"); env && *env) return env;
  std::error_code ec;
  fs::path self = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    for (const fs::path& candidate :
         {self.parent_path() / "mpstate-manager", self.parent_path().parent_path() / "manager" / "mpstate-manager"}) {
      if (fs::exists(candidate, ec)) return candidate.string();
    }
  }
#ifdef MPSTATE_MANAGER_BUILD_PATH
  if (fs::exists(MPSTATE_MANAGER_BUILD_PATH, ec)) return MPSTATE_MANAGER_BUILD_PATH;
#endif
#ifdef MPSTATE_MANAGER_INSTALL_PATH
  if (fs::exists(MPSTATE_MANAGER_INSTALL_PATH, ec)) return MPSTATE_MANAGER_INSTALL_PATH;
#endif
  return "mpstate-manager";  // execvp searches $PATH
}

// Reads the child's "ready" line, or EOF when it exits first.
bool wait_ready(int fd, std::chrono::milliseconds timeout) {
  pollfd p{fd, POLLIN, 0};
  int rc;
  do rc = ::poll(&p, 1, static_cast<int>(timeout.count()));
  while (rc < 0 && errno == EINTR);
  if (rc <= 0) throw error(errc::timeout, "the manager did not become ready in time");
  char buf[16];
  ssize_t n = ::read(fd, buf, sizeof buf);
  return n > 0;
}

// What a manager SIGKILLed in its shutdown would have done on its way out: its
// segment ended for every process still mapping it (segment_header::ended, each
// record orphaned), so their next op is refused manager_unavailable instead of
// writing where nobody will look, then removed. Left for a restart to adopt when
// it saves snapshots: the one it was writing may not be whole.
void end_killed_managers_segment(const std::string& name, const std::vector<std::string>& manager_args) {
  for (const std::string& arg : manager_args) {
    if (arg.starts_with("--snapshot")) return;
  }
  const std::string shm_name = core::segment_name(name);
  try {
    std::unique_ptr<core::segment> left = core::segment::open(shm_name);
    const std::vector<core::variable_record*> records = left->list();  // refused once ended
    left->header().ended.store(1, std::memory_order_seq_cst);
    for (core::variable_record* r : records) core::orphan_record(*r);
  } catch (const error&) {
    // gone already, or not one this process may open: nobody of ours maps it
  }
  core::remove_shared_memory(shm_name);
}

}  // namespace

Manager::Manager(std::string name, std::string socket_path, pid_t pid, bool keep, std::vector<std::string> args)
    : name_(std::move(name)),
      socket_path_(std::move(socket_path)),
      pid_(pid),
      started_by_(getpid()),
      keep_(keep),
      manager_args_(std::move(args)) {}

Manager::Manager(Manager&& o) noexcept
    : name_(std::move(o.name_)),
      socket_path_(std::move(o.socket_path_)),
      pid_(o.pid_),
      started_by_(o.started_by_),
      keep_(o.keep_),
      manager_args_(std::move(o.manager_args_)) {
  o.pid_ = -1;
}

Manager::~Manager() {
  if (pid_ > 0 && started_by_ == getpid()) stop();
}

Manager Manager::start(ManagerOptions o) {
  static std::atomic<int> counter{0};
  if (o.name.empty()) o.name = "mpstate-" + std::to_string(getpid()) + "-" + std::to_string(counter++);
  core::validate_manager_name(o.name);
  std::string exe = find_manager_executable(o.executable);
  std::string socket = o.socket_path.empty() ? core::default_socket_path(o.name) : o.socket_path;

  int ready[2];
  if (::pipe2(ready, O_CLOEXEC) != 0) throw_system_error("pipe", errno);
  // No PR_SET_PDEATHSIG: a starter that dies (SIGKILL) must not take the segment from
  // the processes still using it; the manager watches its starter instead
  // (--starter-pid) and exits once nobody else uses it.
  std::vector<std::string> args = {exe,    "--name",     o.name, "--size",        std::to_string(o.size),  "--socket",
                                   socket, "--ready-fd", "3",    "--starter-pid", std::to_string(getpid())};
  if (o.keep) args.push_back("--keep");
  for (uid_t uid : o.allowed_uids) {
    args.push_back("--allow-uid");
    args.push_back(std::to_string(uid));
  }
  args.insert(args.end(), o.extra_args.begin(), o.extra_args.end());
  std::vector<char*> argv;
  argv.reserve(args.size() + 1);
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);

  const pid_t parent = getpid();
  pid_t pid = ::fork();
  if (pid < 0) throw_system_error("fork", errno);
  if (pid == 0) {
    if (::getppid() != parent) ::_exit(127);  // the starter already died
    ::setsid();  // not in the starter's process group: a Ctrl-C or a group kill aimed at it spares us
    // Signals the starter ignores stay ignored across exec; start from the defaults, as
    // Python's subprocess does (the manager sets what it wants itself).
    ::signal(SIGPIPE, SIG_DFL);
    ::signal(SIGXFSZ, SIG_DFL);
    detail::release_bindings_before_exec();
    if (o.log_fd >= 0 && o.log_fd != STDERR_FILENO) {
      ::fcntl(o.log_fd, F_SETFL, ::fcntl(o.log_fd, F_GETFL) | O_NONBLOCK);
      ::dup2(o.log_fd, STDERR_FILENO);
    }
    ::dup2(ready[1], 3);       // dup2 clears O_CLOEXEC on fd 3
    ::close_range(4, ~0U, 0);  // none of the parent's sockets or files
    ::execvp(exe.c_str(), argv.data());
    ::_exit(127);
  }
  ::close(ready[1]);
  bool ok = false;
  try {
    ok = wait_ready(ready[0], o.start_timeout);
  } catch (...) {
    ::close(ready[0]);
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
    throw;
  }
  ::close(ready[0]);
  if (!ok) {
    int status = 0;
    ::waitpid(pid, &status, 0);
    int code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    if (code == 3) throw error(errc::manager_running, "a manager already serves '" + o.name + "'");
    throw error(errc::system_error,
                "manager '" + exe + "' exited with status " + std::to_string(code) + " before it was ready");
  }
  return Manager(o.name, socket, pid, o.keep, o.extra_args);
}

Client Manager::connect(Transport transport) const {
  return Client(ClientOptions{.manager_name = name_, .socket_path = socket_path_, .transport = transport});
}

void Manager::stop() {
  if (pid_ <= 0) return;
  // Already gone (exited after a `shutdown`, or reaped by someone else): no signal,
  // since its pid may belong to another process by now.
  auto exited = [this] {
    pid_t r = ::waitpid(pid_, nullptr, WNOHANG);
    return r == pid_ || (r < 0 && errno == ECHILD);
  };
  if (!exited()) {
    ::kill(pid_, SIGTERM);
    bool done = false;
    for (int i = 0; i < 500 && !(done = exited()); ++i) ::usleep(10'000);
    if (!done) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
      // A manager that outlived 5 s of shutdown (a stopped one, say): its segment is
      // ended and removed as it would have, and its socket.
      if (!keep_) {
        end_killed_managers_segment(name_, manager_args_);
        struct stat st {};
        if (::lstat(socket_path_.c_str(), &st) == 0 && S_ISSOCK(st.st_mode)) ::unlink(socket_path_.c_str());
      }
    }
  }
  pid_ = -1;
}

}  // namespace mpstate
