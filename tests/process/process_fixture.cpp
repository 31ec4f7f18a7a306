// SPDX-License-Identifier: MIT
#include "process_fixture.hpp"

#include <signal.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <boost/test/unit_test.hpp>
#include <nlohmann/json.hpp>

namespace mpstate::test {

manager_fixture::manager_fixture(std::uint64_t segment_size) : name(unique_name("pt")), size(segment_size) {
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
  return Client(ClientOptions{.manager_name = name, .transport = transport});
}

nlohmann::json ask(raw_connection& c, const std::string& line) {
  c.send(line + "\n");
  auto reply = c.read_line();
  BOOST_REQUIRE_MESSAGE(reply.has_value(), "no reply to " << line.substr(0, 80));
  return nlohmann::json::parse(*reply);
}

std::string code_of(const nlohmann::json& reply) {
  return reply.contains("error") ? reply["error"]["code"].get<std::string>() : "ok";
}

void kill_now(pid_t child) {
  ::kill(child, SIGKILL);
  BOOST_REQUIRE(wait_exit(child).value() == -SIGKILL);
}

pid_t child_holding(const std::function<void()>& take) {
  int ready[2];
  BOOST_REQUIRE(::pipe(ready) == 0);
  pid_t child = spawn([&] {
    take();
    char c = 'x';
    [[maybe_unused]] auto n = ::write(ready[1], &c, 1);
    ::pause();
    return 0;
  });
  char c;
  BOOST_REQUIRE(::read(ready[0], &c, 1) == 1);
  ::close(ready[0]);
  ::close(ready[1]);
  return child;
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
