// SPDX-License-Identifier: MIT
// The manager's request path as a pure function for fuzzing: bytes in, responses
// out, no sockets. libFuzzer drives it (fuzz_main.cpp, `make fuzz`); the unit
// tests replay the protocol doc's examples and every saved crash through it.
#pragma once

#include <cstddef>
#include <cstdint>

namespace mpstate::fuzz {

// Splits `data` into lines as a connection does and hands each to the request
// handler over a scratch segment, then checks each response: it serialises, parses
// back as an object with the request's id and exactly one of "result" and "error",
// and an error's code is one the protocol defines. A failed check aborts, which
// libFuzzer reports as a crash. Returns the number of responses.
std::size_t feed_request_bytes(const std::uint8_t* data, std::size_t size);

}  // namespace mpstate::fuzz
