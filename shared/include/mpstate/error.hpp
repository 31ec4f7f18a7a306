// SPDX-License-Identifier: MIT
// Error codes shared by the library, the wire protocol and the tools.
// Every failure mpstate reports carries one of these codes and a message;
// on the wire the code travels as its name (to_string), see docs/protocol.md.
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>

namespace mpstate {

enum class errc {
  ok = 0,                // no error (never thrown)
  not_found,             // no variable of that name (or it was deleted)
  already_exists,        // create of a name that is taken
  invalid_name,          // empty, over 255 bytes, a bad character, "." / ".." segments
  invalid_type,          // a type name that is not one of mpstate's types
  type_mismatch,         // the variable has another type than the operation needs
  value_too_large,       // the value does not fit the variable's capacity
  segment_full,          // no room left in the segment or its name table
  invalid_argument,      // an argument of the right name but a wrong value (e.g. a bad state)
  out_of_range,          // an integer add that would overflow
  bad_request,           // a line that is not a JSON object, or a field of the wrong JSON type
  unknown_op,            // an "op" the manager does not know
  missing_field,         // a required request field is absent
  line_too_long,         // a request line over the manager's limit (the connection is closed)
  permission_denied,     // peer credentials refused, or a file we may not open
  too_many_connections,  // the manager is at its connection limit (the connection is closed)
  manager_unavailable,   // no manager answers on the socket
  manager_running,       // another live manager already serves this name
  layout_mismatch,       // the segment (or client) speaks another layout version, or a bad header
  timeout,               // a wait or lock that did not finish before its deadline
  busy,                  // the manager gave up waiting for a variable (or the name table) that a client holds locked
  broken_barrier,        // a barrier that was aborted, timed out, or lost a party that died
  lock_unrecoverable,    // a robust mutex that could not be made consistent
  ownership_lost,        // an op made as an owner (release, heartbeat, a fenced write) whose ownership
                         // has ended: a lapsed lease, an evicted holder, a stale epoch or fence
  system_error,          // an operating-system call failed (message says which, with errno text)
  internal,              // a bug: an invariant broke; please report it
};

// The wire name of a code ("not_found", ...).
std::string_view to_string(errc code) noexcept;
// The code of a wire name; errc::internal for an unknown name.
errc errc_from_string(std::string_view name) noexcept;

// The one exception type of mpstate's C++ API. what() is "<code>: <message>".
class error : public std::runtime_error {
 public:
  error(errc code, const std::string& message);
  errc code() const noexcept { return code_; }
  // The message without the "<code>: " prefix.
  const std::string& message() const noexcept { return message_; }

 private:
  errc code_;
  std::string message_;
};

// Throws error(errc::system_error, "<what>: <strerror(errno)>").
[[noreturn]] void throw_system_error(const std::string& what, int err);

}  // namespace mpstate
