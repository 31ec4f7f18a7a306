#include "process_fixture.hpp"

#include <signal.h>
#include <stdio.h>
#include <sys/wait.h>

#include <array>

namespace mpstate::test {

manager_fixture::manager_fixture(std::uint64_t segment_size)
    : name(unique_name("pt")), size(segment_size) {
  ManagerOptions o;
  o.name = name;
  o.size = size;
  o.executable = MPSTATE_MANAGER_PATH;
  manager.emplace(Manager::start(o));
  client.emplace(manager->connect());
}

void manager_fixture::kill_manager() {
  pid_t pid = manager->pid();
  ::kill(pid, SIGKILL);
  manager->stop();  // reaps it
}

void manager_fixture::restart_manager() {
  ManagerOptions o;
  o.name = name;
  o.size = size;
  o.executable = MPSTATE_MANAGER_PATH;
  manager.reset();
  manager.emplace(Manager::start(o));
}

Client manager_fixture::new_client(Transport transport) const {
  return Client(ClientOptions{name, {}, transport});
}

command_result run_command(const std::string& command) {
  FILE* pipe = ::popen(command.c_str(), "r");
  if (!pipe) return {-1, ""};
  std::string output;
  std::array<char, 4096> buf;
  while (std::size_t n = std::fread(buf.data(), 1, buf.size(), pipe)) output.append(buf.data(), n);
  int status = ::pclose(pipe);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, output};
}

}  // namespace mpstate::test
