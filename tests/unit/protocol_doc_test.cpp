// SPDX-License-Identifier: MIT
#include <boost/test/unit_test.hpp>
#include <fstream>
#include <sstream>

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
