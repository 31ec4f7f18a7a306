// SPDX-License-Identifier: MIT
#include "mpstate/core/record_init.hpp"

#include <algorithm>
#include <cstring>
#include <nlohmann/json.hpp>

#include "mpstate/core/array_ops.hpp"
#include "mpstate/core/counter_ops.hpp"
#include "mpstate/core/loop_ops.hpp"
#include "mpstate/core/queue_ops.hpp"
#include "mpstate/core/sync_ops.hpp"
#include "mpstate/core/value_codec.hpp"

namespace mpstate::core {

std::uint64_t record_capacity(std::string_view name, value_type type, const nlohmann::json& initial,
                              std::uint64_t requested, record_origin origin) {
  switch (type) {
    case value_type::queue:  // its ring's room comes from its shape, whatever was asked
      return queue_capacity(origin == record_origin::create ? queue_spec_from_json(name, initial)
                                                            : queue_spec_from_saved(name, initial));
    case value_type::array:
    case value_type::list:
      return std::max(requested, sequence_spec_from_json(name, type, initial).capacity);
    case value_type::counter:
      return requested != 0 ? requested : counter_capacity(counter_shards_here());
    default:
      return requested;
  }
}

void initialise_record(variable_record& r, const nlohmann::json& initial, bool has_value, record_origin origin) {
  const bool restoring = origin == record_origin::snapshot;
  switch (r.type) {
    case value_type::loop:
      if (restoring) return restore_loop(r, initial);
      if (has_value) write_json_value(r, initial);  // type_mismatch: a new loop is idle
      return;
    case value_type::queue:
      return restoring ? restore_queue(r, initial) : init_queue(r, queue_spec_from_json(r.name_view(), initial));
    case value_type::array:
    case value_type::list:
      return init_sequence(r, initial);
    case value_type::counter: {  // its total, an int64 (null: 0)
      std::int64_t total = 0;
      if (!initial.is_null())
        std::memcpy(&total, element_from_json(r.name_view(), value_type::int64, initial).data(), 8);
      return init_counter(r, total);
    }
    default:
      if (is_sync(r.type)) return restoring ? restore_sync(r, initial) : init_sync(r, initial);
      if (has_value || restoring) write_json_value(r, initial);
  }
}

}  // namespace mpstate::core
