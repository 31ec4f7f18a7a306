// SPDX-License-Identifier: MIT
// A second machine for the tests, on this one: a network namespace joined to the
// test's own by a veth pair. A child entered into it reaches the test's namespace at
// host_address(); cut() takes the link down (a partition: packets vanish and nobody
// is told, as when a cable is pulled) and heal() brings it back. Needs root
// (CAP_NET_ADMIN) and iproute2's `ip`: available() says whether it can be made.
#pragma once

#include <string>

namespace mpstate::test {

class network_partition {
 public:
  // Whether namespaces can be made here (root, `ip` present).
  static bool available();
  network_partition();
  ~network_partition();
  network_partition(const network_partition&) = delete;
  network_partition& operator=(const network_partition&) = delete;

  // This side's address on the link, e.g. "10.140.3.1", and the other side's.
  const std::string& host_address() const { return host_ip_; }
  const std::string& peer_address() const { return peer_ip_; }
  // In a forked (single-threaded) child: move it into the other machine's namespace.
  void enter() const;
  // The link down: nothing passes, in either direction, until heal().
  void cut();
  void heal();

 private:
  std::string ns_, host_if_, host_ip_, peer_ip_;
};

}  // namespace mpstate::test
