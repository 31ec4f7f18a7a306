// SPDX-License-Identifier: MIT
// libFuzzer entry point: `make fuzz` (scripts/fuzz) builds and runs it.
#include <cstddef>
#include <cstdint>

#include "request_fuzz.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  mpstate::fuzz::feed_request_bytes(data, size);
  return 0;
}
