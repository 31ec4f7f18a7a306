// SPDX-License-Identifier: MIT
// A program of another project using mpstate as a user would: an embedded manager,
// a variable, and a child process that adds to it.
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <mpstate/mpstate.hpp>
#include <mpstate/version.hpp>

// JSON is opt-in (mpstate/json.hpp): the one header alone compiles none of nlohmann.
#ifdef INCLUDE_NLOHMANN_JSON_HPP_
#error "mpstate/mpstate.hpp pulled in nlohmann/json.hpp"
#endif

int main() {
  mpstate::ManagerOptions options;
  options.size = 1 << 20;
  mpstate::Manager manager = mpstate::Manager::start(options);
  mpstate::Client client = manager.connect();
  auto answer = client.create<std::int64_t>("consumer/answer", 41);
  const pid_t child = ::fork();
  if (child == 0) {
    mpstate::Client(manager.name()).value<std::int64_t>("consumer/answer").add(1);
    ::_exit(0);
  }
  int status = 0;
  ::waitpid(child, &status, 0);
  std::printf("mpstate %s: %lld\n", MPSTATE_VERSION, static_cast<long long>(answer.get()));
  return answer.get() == 42 ? 0 : 1;
}
