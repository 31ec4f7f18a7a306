// SPDX-License-Identifier: MIT
// Internal to shared/: reading and committing a sync_state, and the holder-table
// helpers that sync_ops.cpp and condition_ops.cpp share.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <initializer_list>
#include <string>

#include "mpstate/core/record_ops.hpp"
#include "mpstate/core/sync_ops.hpp"
#include "mpstate/error.hpp"

namespace mpstate::core::sync_detail {

// A state is committed as its fixed part and the holders in use only, and never
// less than the fixed part and one holder (`head`: a lock's acquire copies 104 bytes,
// not 2,120, each way with a fixed-size copy). Holders past holder_count are never
// read; a shorter state (a snapshot from before) reads with the first holder zeroed.
constexpr std::size_t sync_state_head = offsetof(sync_state, holders) + sizeof(sync_holder);

inline sync_state state_of(const variable_record& r) {
  constexpr std::size_t head = sync_state_head;
  sync_state s;  // NOLINT(cppcoreguidelines-pro-type-member-init): see above
  std::string_view bytes = committed_bytes(r);
  const std::size_t n = std::min(bytes.size(), sizeof s);
  auto* to = reinterpret_cast<char*>(&s);
  if (n >= head) {  // the common case, as a fixed-size copy (no rep movs) and the rest
    std::memcpy(to, bytes.data(), head);
    if (n > head) std::memcpy(to + head, bytes.data() + head, n - head);
  } else {
    std::memset(to, 0, head);
    std::memcpy(to, bytes.data(), n);
  }
  return s;
}
inline void commit_state(variable_record& r, const sync_state& s, locked_record& lock) {
  const auto* bytes = reinterpret_cast<const char*>(&s);
  if (s.holder_count <= 1) {
    write_committed_bytes(r, std::string_view(bytes, sync_state_head));  // a fixed-size copy, inlined
  } else {
    write_committed_bytes(
        r, std::string_view(bytes, offsetof(sync_state, holders) + s.holder_count * sizeof(sync_holder)));
  }
  lock.commit();
}

inline std::string quoted(const variable_record& r) {
  std::string text(1, '\'');  // appended, not "'" + name: GCC 12 at -O3 warns (-Wrestrict) on that falsely
  text.append(r.name_view()).push_back('\'');
  return text;
}

inline void require_types(const variable_record& r, std::initializer_list<value_type> types, const char* op) {
  for (value_type t : types) {
    if (r.type == t) return;
  }
  throw error(errc::type_mismatch,
              std::string(op) + " does not apply to " + std::string(to_string(r.type)) + " " + quoted(r));
}

inline bool same_process(const sync_holder& h, const process_identity& p) {
  return h.pid == p.pid && h.start_time == p.start_time;
}

inline bool same_thread(const sync_holder& h, const sync_actor& who) {
  return same_process(h, who.process) && h.tid == who.tid;
}

// Conditions keep their waiters in arrival order: removal shifts the rest down.
inline void remove_waiter(sync_state& s, std::uint32_t i) {
  for (std::uint32_t k = i; k + 1 < s.holder_count; ++k) s.holders[k] = s.holders[k + 1];
  --s.holder_count;
}

// A condition's wait, notify and release need its lock, held by this thread.
inline void require_condition_owner(const variable_record& r, const sync_state& s, const sync_actor& who,
                                    const char* op) {
  if (s.holder_count == 0 || s.holders[0].pid == 0 || !same_thread(s.holders[0], who)) {
    throw error(errc::invalid_argument,
                std::string(op) + " on condition " + quoted(r) + " needs its lock, held by this thread");
  }
}

}  // namespace mpstate::core::sync_detail
