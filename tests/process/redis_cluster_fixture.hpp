// SPDX-License-Identifier: MIT
// A Redis Cluster for a test: 3 masters and 3 replicas on loopback, made with
// `redis-cli --cluster create` (redis_cluster_test.cpp, history_test.cpp).
#pragma once

#include <boost/test/unit_test.hpp>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "redis_test_helpers.hpp"

namespace mpstate::test {

struct redis_cluster {
  redis_cluster() {
    for (int i = 0; i < 6; ++i) {
      nodes.push_back(std::make_unique<redis_server>(
          redis_options{.extra_args = {"--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf",
                                       "--cluster-node-timeout", "1000", "--cluster-require-full-coverage", "no",
                                       // a replica may take over however long ago it last heard its master
                                       "--cluster-replica-validity-factor", "0"}}));
    }
    std::string create = "redis-cli --cluster create";
    for (const auto& n : nodes) create += " 127.0.0.1:" + std::to_string(n->port());
    auto r = run_command(create + " --cluster-replicas 1 --cluster-yes 2>&1");
    BOOST_REQUIRE_MESSAGE(r.exit_code == 0, r.output);
    BOOST_REQUIRE(eventually([&] { return all_agree() && replicas_in_sync(); }, 30s));
    prefix = unique_name("rc");
  }
  // Every node says the cluster is ok (so a client may start anywhere).
  bool all_agree() const {
    for (const auto& n : nodes) {
      if (n->running() && n->cli("cluster info").output.find("cluster_state:ok") == std::string::npos) return false;
    }
    return true;
  }
  // Every replica has finished its first sync with its master.
  bool replicas_in_sync() const {
    for (const auto& n : nodes) {
      const std::string info = n->cli("info replication").output;
      if (info.find("role:slave") != std::string::npos && info.find("master_link_status:up") == std::string::npos) {
        return false;
      }
    }
    return true;
  }
  // The replica of master I has acknowledged everything the master has written.
  bool replica_has_all_of(std::size_t i) const {
    const std::string info = nodes[i]->cli("info replication").output;
    const auto number_after = [&](const std::string& label, std::size_t from) -> long long {
      const auto at = info.find(label, from);
      return at == std::string::npos ? -1 : std::atoll(info.c_str() + at + label.size());
    };
    const auto replica = info.find("slave0:");
    if (replica == std::string::npos) return false;
    const long long acknowledged = number_after("offset=", replica);
    const long long written = number_after("master_repl_offset:", 0);
    return acknowledged >= 0 && written >= 0 && acknowledged >= written;
  }
  std::string url() const {
    return "redis+cluster://127.0.0.1:" + std::to_string(nodes[0]->port()) +
           ",127.0.0.1:" + std::to_string(nodes[1]->port()) + "?prefix=" + prefix + "&lease_ms=1000";
  }
  // The node (index) that is master of the slot of `key` now.
  int master_of(const std::string& key) const {
    for (std::size_t i = 0; i < nodes.size(); ++i) {
      if (!nodes[i]->running()) continue;
      const std::string role = nodes[i]->cli("role").output;
      if (role.rfind("master", 0) != 0) continue;
      const std::string got = nodes[i]->cli("get '" + key + "'").output;  // MOVED unless it serves the slot
      if (got.find("MOVED") == std::string::npos) return static_cast<int>(i);
    }
    return -1;
  }
  std::vector<std::unique_ptr<redis_server>> nodes;
  std::string prefix;
};

}  // namespace mpstate::test
