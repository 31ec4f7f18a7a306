// SPDX-License-Identifier: MIT
// Name rules and the file-system places derived from a manager name.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace mpstate::core {

constexpr std::size_t max_name_length = 255;

// Variable names: segments of [A-Za-z0-9_.-] joined by '/', at most 255 bytes,
// no empty segment, no "." or ".." segment. Throws error(invalid_name) with the reason.
void validate_variable_name(std::string_view name);
// True when `name` starts with `prefix` (an empty prefix matches everything).
bool name_has_prefix(std::string_view name, std::string_view prefix);

// Manager names: one segment of [A-Za-z0-9_.-], at most 64 bytes, not "." or "..".
// They become file names, so no '/'. Throws error(invalid_name).
void validate_manager_name(std::string_view name);

// $MPSTATE_RUNTIME_DIR, else $XDG_RUNTIME_DIR/mpstate, else /tmp/mpstate-<uid>.
std::string runtime_directory();
// Creates the runtime directory (mode 0700) when absent, then checks it as below.
void ensure_runtime_directory(const std::string& dir);
// Throws error(permission_denied) unless `dir` is a real directory (not a symlink)
// owned by this user and writable by nobody else: otherwise another user could
// replace the socket or plant links where the manager creates its files.
void check_private_directory(const std::string& dir);
// The directory part of a path: "." for a bare file name, "/" for a file in the root.
std::string parent_directory(const std::string& path);
// A file's permission bits as ls shows them in octal, e.g. "600".
std::string permission_text(unsigned mode);
// <runtime dir>/<name>.sock
std::string default_socket_path(std::string_view manager_name);
// <runtime dir>/<name>.lock
std::string lock_file_path(std::string_view manager_name);
// The POSIX shared-memory name of a manager's segment: "mpstate-<uid>-<name>".
std::string segment_name(std::string_view manager_name);

}  // namespace mpstate::core
