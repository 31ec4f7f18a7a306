// SPDX-License-Identifier: MIT
#include "network_partition.hpp"

#include <fcntl.h>
#include <sched.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <stdexcept>

namespace mpstate::test {
namespace {

void run(const std::string& command) {
  if (std::system((command + " >/dev/null 2>&1").c_str()) != 0) {
    throw std::runtime_error("network_partition: `" + command + "` failed");
  }
}

}  // namespace

bool network_partition::available() { return ::geteuid() == 0 && std::system("ip netns list >/dev/null 2>&1") == 0; }

// Names and a /30 unique to this process and object: suites run in parallel.
network_partition::network_partition() {
  static std::atomic<int> made{0};
  const int n = made++ % 64;
  const int pid = static_cast<int>(::getpid());
  const std::string tag = std::to_string(pid % 100000) + "n" + std::to_string(n);
  ns_ = "mpst" + tag;
  host_if_ = "mph" + tag;  // interface names: 15 bytes at most
  const std::string peer_if = "mpp" + tag;
  const std::string subnet = "10." + std::to_string(128 + pid % 64) + "." + std::to_string((pid / 64) % 256) + ".";
  host_ip_ = subnet + std::to_string(4 * n + 1);
  peer_ip_ = subnet + std::to_string(4 * n + 2);
  std::system(("ip netns del " + ns_ + " >/dev/null 2>&1; ip link del " + host_if_ + " >/dev/null 2>&1").c_str());
  run("ip netns add " + ns_);
  run("ip link add " + host_if_ + " type veth peer name " + peer_if);
  run("ip link set " + peer_if + " netns " + ns_);
  run("ip addr add " + host_ip_ + "/30 dev " + host_if_);
  run("ip link set " + host_if_ + " up");
  run("ip netns exec " + ns_ + " ip addr add " + peer_ip_ + "/30 dev " + peer_if);
  run("ip netns exec " + ns_ + " ip link set " + peer_if + " up");
  run("ip netns exec " + ns_ + " ip link set lo up");
}

network_partition::~network_partition() {
  std::system(("ip link del " + host_if_ + " >/dev/null 2>&1; ip netns del " + ns_ + " >/dev/null 2>&1").c_str());
}

void network_partition::enter() const {
  const int fd = ::open(("/var/run/netns/" + ns_).c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0 || ::setns(fd, CLONE_NEWNET) != 0) throw std::runtime_error("network_partition: cannot enter " + ns_);
  ::close(fd);
}

void network_partition::cut() { run("ip link set " + host_if_ + " down"); }

void network_partition::heal() { run("ip link set " + host_if_ + " up"); }

}  // namespace mpstate::test
