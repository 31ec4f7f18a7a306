// SPDX-License-Identifier: MIT
// One live manager per name: an flock on <runtime dir>/<name>.lock, held for the
// manager's life. The kernel drops it when the process dies, however it dies, so a
// crashed manager never leaves a lock that blocks its successor.
#pragma once

#include <string>

namespace mpstate::core {

class instance_lock {
 public:
  // Throws error(manager_running) naming the live holder's pid.
  explicit instance_lock(const std::string& path);
  ~instance_lock();
  instance_lock(const instance_lock&) = delete;
  instance_lock& operator=(const instance_lock&) = delete;

 private:
  int fd_ = -1;
};

}  // namespace mpstate::core
