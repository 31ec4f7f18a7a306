// SPDX-License-Identifier: MIT
#include "mpstate/core/block_heap.hpp"

#include <cstring>
#include <string>

#include "mpstate/core/crash_point.hpp"
#include "mpstate/error.hpp"

namespace mpstate::core {
namespace {

constexpr std::uint64_t state_mask = 3;
constexpr std::uint64_t size_mask = ~std::uint64_t{63};
constexpr std::uint64_t min_block = 2 * sizeof(heap_block);  // a header and one line

std::uint64_t word_of(std::uint64_t size, block_state state) {
  return size | block_tag | static_cast<std::uint64_t>(state);
}

}  // namespace

block_heap::block_heap(char* base, std::uint64_t heap_offset, std::uint64_t heap_size)
    : base_(base), begin_((heap_offset + 63) & size_mask), end_((heap_offset + heap_size) & size_mask) {}

void block_heap::format() {
  by_offset_.clear();
  by_size_.clear();
  free_bytes_ = 0;
  block_at(begin_).word.store(word_of(end_ - begin_, block_state::free), std::memory_order_release);
  add_free(begin_, end_ - begin_);
}

void block_heap::adopt(const std::function<void(std::uint64_t, block_state)>& visit) {
  by_offset_.clear();
  by_size_.clear();
  free_bytes_ = 0;
  std::uint64_t run_start = 0, run_size = 0;  // the free run being merged
  auto close_run = [&] {
    if (run_size == 0) return;
    block_at(run_start).word.store(word_of(run_size, block_state::free), std::memory_order_release);
    add_free(run_start, run_size);
    run_size = 0;
  };
  for (std::uint64_t at = begin_; at < end_;) {
    const std::uint64_t word = block_at(at).word.load(std::memory_order_acquire);
    const std::uint64_t size = word & size_mask;
    const std::uint64_t state = word & state_mask;
    if ((word & block_tag) != block_tag || size < min_block || size > end_ - at || state > 2) {
      throw error(errc::layout_mismatch,
                  "the segment's heap is damaged at offset " + std::to_string(at) + " (not a block header)");
    }
    if (static_cast<block_state>(state) == block_state::free) {
      if (run_size == 0) run_start = at;
      run_size += size;
    } else {
      close_run();
      visit(at + sizeof(heap_block), static_cast<block_state>(state));
    }
    at += size;
  }
  close_run();
}

std::uint64_t block_heap::reserve(std::uint64_t bytes) {
  const std::uint64_t need = sizeof(heap_block) + ((bytes + 63) & size_mask);
  auto fit = by_size_.lower_bound({need, 0});
  if (fit == by_size_.end()) return 0;
  const auto [size, at] = *fit;
  remove_free(at, size);
  heap_block& b = block_at(at);
  std::memset(b.pad, 0, sizeof b.pad);
  if (size - need >= min_block) {
    block_at(at + need).word.store(word_of(size - need, block_state::free), std::memory_order_release);
    crash_point("allocate: remainder written, block still free");
    b.word.store(word_of(need, block_state::reserved), std::memory_order_release);
    add_free(at + need, size - need);
  } else {
    b.word.store(word_of(size, block_state::reserved), std::memory_order_release);
  }
  crash_point("allocate: block reserved");
  return at + sizeof(heap_block);
}

void block_heap::publish(std::uint64_t record_offset) {
  heap_block& b = block_at(record_offset - sizeof(heap_block));
  b.word.store((b.word.load() & ~state_mask) | static_cast<std::uint64_t>(block_state::published),
               std::memory_order_release);
}

block_state block_heap::state_of(std::uint64_t record_offset) const {
  return static_cast<block_state>(block_at(record_offset - sizeof(heap_block)).word.load() & state_mask);
}

void block_heap::release(std::uint64_t record_offset) {
  std::uint64_t at = record_offset - sizeof(heap_block);
  std::uint64_t size = block_at(at).word.load() & size_mask;
  block_at(at).word.store(word_of(size, block_state::free), std::memory_order_release);
  crash_point("free: block marked free, not merged");
  // Merge with the next block, then the previous one: each is one store of the
  // lower block's header; the upper header it swallows is dead bytes from then on.
  if (auto next = by_offset_.find(at + size); next != by_offset_.end()) {
    const std::uint64_t next_size = next->second;
    block_at(at).word.store(word_of(size + next_size, block_state::free), std::memory_order_release);
    remove_free(at + size, next_size);
    size += next_size;
    crash_point("free: merged with the next block");
  }
  if (auto after = by_offset_.lower_bound(at); after != by_offset_.begin()) {
    auto prev = std::prev(after);
    if (prev->first + prev->second == at) {
      const std::uint64_t prev_at = prev->first, prev_size = prev->second;
      block_at(prev_at).word.store(word_of(prev_size + size, block_state::free), std::memory_order_release);
      remove_free(prev_at, prev_size);
      at = prev_at;
      size += prev_size;
    }
  }
  add_free(at, size);
}

void block_heap::add_free(std::uint64_t offset, std::uint64_t size) {
  by_offset_.emplace(offset, size);
  by_size_.emplace(size, offset);
  free_bytes_ += size;
}

void block_heap::remove_free(std::uint64_t offset, std::uint64_t size) {
  by_offset_.erase(offset);
  by_size_.erase({size, offset});
  free_bytes_ -= size;
}

}  // namespace mpstate::core
