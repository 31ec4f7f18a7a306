// SPDX-License-Identifier: MIT
// The manager daemon as a library: owns the segment's life, serves the Unix socket,
// watches loop owners, frees records once their last proxy is gone.
// `mpstate-manager` is a thin main over this class; tests may run it in-process.
#pragma once

#include <memory>
#include <string>

#include "mpstate/manager/options.hpp"

namespace mpstate::manager {

class server {
 public:
  // Takes the instance lock, creates or adopts the segment, binds the socket.
  // Throws error(manager_running) when another live manager serves the name,
  // error(layout_mismatch) for a segment it must not adopt, and so on.
  explicit server(options opts);
  // Removes the socket; unlinks the segment unless options.keep.
  ~server();
  server(const server&) = delete;
  server& operator=(const server&) = delete;

  // Serves until stop(), SIGINT/SIGTERM, or a `shutdown` request.
  void run();
  // Thread-safe.
  void stop();

  const std::string& socket_path() const;
  const std::string& segment_name() const;
  bool adopted() const;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace mpstate::manager
