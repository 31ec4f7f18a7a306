// SPDX-License-Identifier: MIT
// The manager's allocator for the segment's heap: a run of blocks, each a heap_block
// header (layout.hpp) followed by one record. Its only state in the segment is the
// header words, and every change is one 8-byte store of one of them:
//
//   reserve  split: write the remainder's header, then shrink and mark this block
//            reserved (a crash between leaves the old, larger free block);
//   publish  reserved -> published (the record is reachable from now on);
//   release  mark free, then merge with free neighbours (one store each).
//
// So walking the heap by block sizes is valid after a SIGKILL at any instruction,
// and adopt() rebuilds the free lists (kept in the manager's own memory, never in
// the segment) from that walk. Only the manager uses it, from one thread.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <set>
#include <utility>

#include "mpstate/core/layout.hpp"

namespace mpstate::core {

class block_heap {
 public:
  // The heap is [heap_offset, heap_offset + heap_size) of the mapping at `base`;
  // offsets in and out are from `base`, and name a block's record (header + 64).
  block_heap(char* base, std::uint64_t heap_offset, std::uint64_t heap_size);

  // A new segment: the whole heap one free block.
  void format();
  // An existing heap: walks it, merges adjacent free blocks, and calls
  // visit(record_offset, state) for every block in use, in address order (a visit
  // must not change the heap). Throws error(layout_mismatch) when a header is not
  // one (a heap this code did not write).
  void adopt(const std::function<void(std::uint64_t, block_state)>& visit);

  // A zero-filled-header block whose record part holds `bytes`; returns the record's
  // offset, or 0 when no free block is large enough. The block is `reserved`.
  std::uint64_t reserve(std::uint64_t bytes);
  void publish(std::uint64_t record_offset);
  void release(std::uint64_t record_offset);
  block_state state_of(std::uint64_t record_offset) const;

  std::uint64_t free_bytes() const { return free_bytes_; }
  std::size_t free_blocks() const { return by_offset_.size(); }

 private:
  heap_block& block_at(std::uint64_t block_offset) const {
    return *reinterpret_cast<heap_block*>(base_ + block_offset);
  }
  void add_free(std::uint64_t offset, std::uint64_t size);
  void remove_free(std::uint64_t offset, std::uint64_t size);

  char* base_;
  std::uint64_t begin_;
  std::uint64_t end_;
  std::map<std::uint64_t, std::uint64_t> by_offset_;           // free blocks: offset -> size
  std::set<std::pair<std::uint64_t, std::uint64_t>> by_size_;  // free blocks: (size, offset)
  std::uint64_t free_bytes_ = 0;
};

}  // namespace mpstate::core
