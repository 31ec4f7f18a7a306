// SPDX-License-Identifier: MIT
// Snapshots: every variable of a segment in one JSON file, so values outlive a
// reboot (which empties /dev/shm). A snapshot is written atomically (a temporary
// file, fsync, rename, fsync of the directory), so a crash mid-write leaves the
// previous one; a manager that finds no segment restores the newest.
//
// {"format": "mpstate-snapshot", "format_version": 1, "written_ns": ...,
//  "variables": [{"name", "type", "capacity", "value"}, ...]}
// Values are as the `get` op shows them (docs/protocol.md). Each variable is read
// under its own lock: the file holds no torn value, but it is not one instant of
// the whole segment.
#pragma once

#include <optional>
#include <string>

#include "mpstate/core/owned_segment.hpp"

namespace mpstate::manager {

struct snapshot_stats {
  std::size_t variables = 0;
  std::size_t skipped = 0;  // unreadable values, left out with a message on stderr
};

// Throws error(system_error) when the file cannot be written; the old one stays.
snapshot_stats write_snapshot(const core::segment& s, const std::string& path);

// Creates every variable of the snapshot at `path` in `s` (a segment just created)
// and stores its value. nullopt when there is no file. The whole file is checked
// before anything is created: a file that is not a valid snapshot is
// error(invalid_argument) naming the file and what is wrong with it.
std::optional<snapshot_stats> restore_snapshot(core::owned_segment& s, const std::string& path);

}  // namespace mpstate::manager
