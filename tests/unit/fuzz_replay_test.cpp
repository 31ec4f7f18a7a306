// SPDX-License-Identifier: MIT
// Replays through the fuzz target's function (tests/fuzz/request_fuzz.cpp) every
// request example of docs/protocol.md (the fuzzer's seed corpus) and every input
// the fuzzer ever crashed on (tests/fuzz/regressions/), in the normal test build.
#include <boost/test/unit_test.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "request_fuzz.hpp"

namespace fs = std::filesystem;

namespace {
std::size_t feed(const std::string& bytes) {
  return mpstate::fuzz::feed_request_bytes(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size());
}
}  // namespace

BOOST_AUTO_TEST_CASE(the_protocol_doc_examples_get_well_formed_answers) {
  std::ifstream in(MPSTATE_SOURCE_DIR "/docs/protocol.md");
  BOOST_REQUIRE(in.good());
  std::string all, line;
  std::size_t examples = 0;
  while (std::getline(in, line)) {
    if (line.rfind("> {", 0) != 0) continue;
    ++examples;
    const bool pends = line.find(R"("op":"wait")") != std::string::npos;  // answered later by the connection
    BOOST_TEST(feed(line.substr(2)) == (pends ? 0u : 1u), line);
    all += line.substr(2) + "\n";
  }
  BOOST_TEST(examples >= 16u);
  BOOST_TEST(feed(all) >= examples - 1);  // pipelined, as one input (a wait answers later)
}

BOOST_AUTO_TEST_CASE(every_saved_fuzzer_crash_stays_fixed) {
  for (const auto& entry : fs::directory_iterator(MPSTATE_SOURCE_DIR "/tests/fuzz/regressions")) {
    if (!entry.is_regular_file() || entry.path().filename() == "README.md") continue;
    std::ifstream in(entry.path(), std::ios::binary);
    std::stringstream bytes;
    bytes << in.rdbuf();
    BOOST_TEST_CHECKPOINT(entry.path().filename());
    feed(bytes.str());  // aborts the suite if a check inside fails
  }
}
