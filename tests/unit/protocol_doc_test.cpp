// SPDX-License-Identifier: MIT
#include <boost/test/unit_test.hpp>
#include <fstream>
#include <sstream>

#include "mpstate/core/layout.hpp"
#include "mpstate/core/protocol.hpp"

BOOST_AUTO_TEST_CASE(docs_protocol_md_documents_every_op_in_the_table) {
  std::ifstream in(MPSTATE_SOURCE_DIR "/docs/protocol.md");
  BOOST_REQUIRE(in.good());
  std::stringstream text;
  text << in.rdbuf();
  for (const auto& op : mpstate::core::op_table()) {
    std::string heading = "### `" + std::string(op.name) + "`";
    BOOST_TEST(text.str().find(heading) != std::string::npos, "docs/protocol.md lacks " << heading);
  }
}

// The fuzzer's dictionary (tests/fuzz/protocol.dict) seeds it with every op and type
// name: an op or type added to the tables and not to the dictionary fails here.
BOOST_AUTO_TEST_CASE(the_fuzz_dictionary_names_every_op_and_type) {
  std::ifstream in(MPSTATE_SOURCE_DIR "/tests/fuzz/protocol.dict");
  BOOST_REQUIRE(in.good());
  std::stringstream text;
  text << in.rdbuf();
  auto has = [&](std::string_view word) {
    return text.str().find("\"\\\"" + std::string(word) + "\\\"\"") != std::string::npos;
  };
  for (const auto& op : mpstate::core::op_table()) BOOST_TEST(has(op.name), "protocol.dict lacks op " << op.name);
#define MPSTATE_CHECK_TYPE(name, text_, code) BOOST_TEST(has(text_), "protocol.dict lacks type " << text_);
  MPSTATE_TYPES(MPSTATE_CHECK_TYPE)
#undef MPSTATE_CHECK_TYPE
}
