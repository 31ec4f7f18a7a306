// SPDX-License-Identifier: MIT
#include "mpstate/core/counter_ops.hpp"

#include <unistd.h>

#include <bit>
#include <cstring>
#include <string>

#include "mpstate/error.hpp"

namespace mpstate::core {

std::uint32_t counter_shards_here() noexcept {
  const long cpus = ::sysconf(_SC_NPROCESSORS_CONF);
  const auto n = static_cast<std::uint32_t>(cpus < 1 ? 1 : cpus > counter_max_shards ? counter_max_shards : cpus);
  return std::bit_ceil(n);
}

void init_counter(variable_record& r, std::int64_t initial) {
  const std::uint64_t shards = r.capacity / 64;
  if (shards == 0 || shards > counter_max_shards || !std::has_single_bit(shards) || r.capacity % 64 != 0) {
    throw error(errc::invalid_argument, "counter '" + std::string(r.name_view()) +
                                            "' needs a capacity of 64 bytes "
                                            "times a power of two, at most " +
                                            std::to_string(counter_max_shards) + " shards; got " +
                                            std::to_string(r.capacity));
  }
  std::memset(r.slot_data(0), 0, r.capacity);
  counter_detail::shard(r, 0).store(static_cast<std::uint64_t>(initial), std::memory_order_relaxed);
  r.slot_length[0] = r.capacity;
}

}  // namespace mpstate::core
