// SPDX-License-Identifier: MIT
// core/block_heap in isolation, on a plain buffer in this process: blocks that never
// overlap, free neighbours merged, the free lists rebuilt by adopt() from the headers
// alone (also from the half-done states a killed manager leaves), a damaged header
// refused, and a long random run whose blocks are checked apart, aligned and
// accounted for after every step.
#include "mpstate/core/block_heap.hpp"

#include <algorithm>
#include <atomic>
#include <boost/test/unit_test.hpp>
#include <cstdlib>
#include <iterator>
#include <map>
#include <memory>
#include <random>
#include <vector>

#include "mpstate/error.hpp"
#include "test_support.hpp"

using namespace mpstate;
using core::block_heap;
using core::block_state;
using test::error_of;

namespace {

constexpr std::uint64_t heap_offset = 128;  // as in a segment: the heap starts after a header
constexpr std::uint64_t heap_size = 64 * 1024;

struct scratch_heap {
  std::unique_ptr<char, decltype(&std::free)> memory{
      static_cast<char*>(std::aligned_alloc(64, heap_offset + heap_size)), &std::free};
  block_heap heap{memory.get(), heap_offset, heap_size};
  scratch_heap() { heap.format(); }

  // What a manager that adopts this memory finds: the blocks in use, in address order.
  std::vector<std::pair<std::uint64_t, block_state>> adopted(block_heap& into) const {
    std::vector<std::pair<std::uint64_t, block_state>> seen;
    into.adopt([&](std::uint64_t offset, block_state state) { seen.emplace_back(offset, state); });
    return seen;
  }
  std::atomic<std::uint64_t>& header_of(std::uint64_t record_offset) const {
    return reinterpret_cast<core::heap_block*>(memory.get() + record_offset - sizeof(core::heap_block))->word;
  }
};

// A block's size as its header says (the bits above the low six).
std::uint64_t block_size(const scratch_heap& h, std::uint64_t record_offset) {
  return h.header_of(record_offset).load() & ~std::uint64_t{63};
}

}  // namespace

BOOST_AUTO_TEST_SUITE(block_heap_alone)

BOOST_AUTO_TEST_CASE(a_formatted_heap_is_one_free_block_of_all_its_bytes) {
  scratch_heap h;
  BOOST_TEST(h.heap.free_blocks() == 1u);
  BOOST_TEST(h.heap.free_bytes() == heap_size);
  BOOST_TEST(h.heap.reserve(heap_size) == 0u);  // no room for the header as well
}

BOOST_AUTO_TEST_CASE(reserved_blocks_are_aligned_reserved_and_never_overlap) {
  scratch_heap h;
  const std::uint64_t a = h.heap.reserve(1), b = h.heap.reserve(100), c = h.heap.reserve(64);
  BOOST_REQUIRE(a != 0u);
  BOOST_REQUIRE(b != 0u);
  BOOST_REQUIRE(c != 0u);
  for (std::uint64_t r : {a, b, c}) {
    BOOST_TEST(r % 64 == 0u);
    BOOST_TEST((h.heap.state_of(r) == block_state::reserved));
  }
  BOOST_TEST(block_size(h, a) == 128u);  // a header and one line
  BOOST_TEST(block_size(h, b) == 192u);  // a header and two lines
  BOOST_TEST(b >= a + block_size(h, a));
  BOOST_TEST(c >= b + block_size(h, b));
  BOOST_TEST(h.heap.free_bytes() == heap_size - 128 - 192 - 128);
  h.heap.publish(b);
  BOOST_TEST((h.heap.state_of(b) == block_state::published));
  BOOST_TEST(block_size(h, b) == 192u);  // publishing changes the state bits only
}

BOOST_AUTO_TEST_CASE(a_released_block_merges_with_free_neighbours_on_both_sides) {
  scratch_heap h;
  const std::uint64_t a = h.heap.reserve(64), b = h.heap.reserve(64), c = h.heap.reserve(64);
  h.heap.release(a);
  h.heap.release(c);  // merges with the free remainder after it
  BOOST_TEST(h.heap.free_blocks() == 2u);
  h.heap.release(b);  // joins a (before) and c's run (after): one block again
  BOOST_TEST(h.heap.free_blocks() == 1u);
  BOOST_TEST(h.heap.free_bytes() == heap_size);
  BOOST_TEST(h.heap.reserve(heap_size - 64) == a);  // the whole heap is one block again
}

BOOST_AUTO_TEST_CASE(adopt_finds_every_block_in_use_and_the_same_free_space) {
  scratch_heap h;
  const std::uint64_t a = h.heap.reserve(64), b = h.heap.reserve(300), c = h.heap.reserve(64);
  h.heap.publish(a);
  h.heap.publish(c);
  h.heap.release(b);
  const std::uint64_t d = h.heap.reserve(10);  // reused from b's block, left reserved
  block_heap again{h.memory.get(), heap_offset, heap_size};
  const auto seen = h.adopted(again);
  BOOST_REQUIRE(seen.size() == 3u);
  BOOST_TEST(seen[0].first == a);
  BOOST_TEST(seen[1].first == d);
  BOOST_TEST((seen[1].second == block_state::reserved));
  BOOST_TEST(seen[2].first == c);
  BOOST_TEST((seen[2].second == block_state::published));
  BOOST_TEST(again.free_bytes() == h.heap.free_bytes());
  BOOST_TEST(again.free_blocks() == h.heap.free_blocks());
}

BOOST_AUTO_TEST_CASE(adopt_merges_the_free_blocks_a_killed_manager_left_unmerged) {
  scratch_heap h;
  const std::uint64_t a = h.heap.reserve(64), b = h.heap.reserve(64);
  // What a kill at "free: block marked free, not merged" leaves, twice over: two
  // headers marked free beside each other and beside the free remainder.
  for (std::uint64_t r : {a, b}) h.header_of(r).store(h.header_of(r).load() & ~std::uint64_t{3});
  block_heap again{h.memory.get(), heap_offset, heap_size};
  BOOST_TEST(h.adopted(again).empty());
  BOOST_TEST(again.free_blocks() == 1u);
  BOOST_TEST(again.free_bytes() == heap_size);
  BOOST_TEST(block_size(h, a) == heap_size);  // the merge is written back to the header
}

BOOST_AUTO_TEST_CASE(adopt_refuses_a_heap_whose_header_is_not_one) {
  scratch_heap h;
  const std::uint64_t a = h.heap.reserve(64);
  h.heap.publish(a);
  const std::uint64_t b = h.heap.reserve(64);
  h.header_of(b).store(0x1234);  // no tag
  block_heap again{h.memory.get(), heap_offset, heap_size};
  BOOST_TEST((error_of([&] { h.adopted(again); }) == errc::layout_mismatch));
  h.header_of(b).store(h.header_of(a).load() + heap_size);  // tagged, but runs past the end
  BOOST_TEST((error_of([&] { h.adopted(again); }) == errc::layout_mismatch));
}

BOOST_AUTO_TEST_CASE(a_long_random_run_keeps_the_books_and_adopts_to_the_same_state) {
  scratch_heap h;
  std::mt19937_64 random{20261207};
  std::vector<std::uint64_t> held;                // record offsets in use
  std::map<std::uint64_t, std::uint64_t> blocks;  // the same, as block start -> block size
  std::uint64_t used = 0;                         // their blocks' bytes
  for (int step = 0; step < 20000; ++step) {
    if (held.empty() || random() % 3 != 0) {
      const std::uint64_t wanted = random() % 700;
      const std::uint64_t r = h.heap.reserve(wanted);
      if (r == 0) continue;  // full
      const std::uint64_t start = r - 64, size = block_size(h, r);
      // Aligned, large enough, inside the heap, and apart from every block in use.
      BOOST_REQUIRE(r % 64 == 0 && size >= 64 + wanted && start >= heap_offset &&
                    start + size <= heap_offset + heap_size);
      const auto next = blocks.lower_bound(start);
      BOOST_REQUIRE(next == blocks.end() || start + size <= next->first);
      BOOST_REQUIRE(next == blocks.begin() || std::prev(next)->first + std::prev(next)->second <= start);
      blocks.emplace(start, size);
      held.push_back(r);
      used += size;
    } else {
      const std::size_t i = random() % held.size();
      used -= block_size(h, held[i]);
      blocks.erase(held[i] - 64);
      h.heap.release(held[i]);
      held[i] = held.back();
      held.pop_back();
    }
    BOOST_REQUIRE_EQUAL(h.heap.free_bytes() + used, heap_size);
  }
  block_heap again{h.memory.get(), heap_offset, heap_size};
  const auto seen = h.adopted(again);
  std::sort(held.begin(), held.end());
  BOOST_REQUIRE_EQUAL(seen.size(), held.size());
  for (std::size_t i = 0; i < held.size(); ++i) BOOST_TEST(seen[i].first == held[i]);
  BOOST_TEST(again.free_bytes() == h.heap.free_bytes());
  BOOST_TEST(again.free_blocks() == h.heap.free_blocks());  // release() left no neighbours unmerged
}

BOOST_AUTO_TEST_SUITE_END()
