// SPDX-License-Identifier: MIT
// The baseline: the same loops over a plain boost::interprocess segment, the
// near-physical limit of the machine. Variants: mutex (lock + read/write), seqlock
// (a lock-free read), xadd (one lock xadd: the limit of a shared write), cas16 (one
// 16-byte compare-exchange of a version and a value: the limit of a versioned
// write), boost-find (Boost's named-object lookup), socket-rtt (one round trip over
// a Unix socketpair, the yardstick for change notification).
#pragma once

#include <string>
#include <vector>

#include "bench_types.hpp"

namespace mpstate::bench {

// The variants that serve as baseline for `op`.
std::vector<std::string> baseline_variants(const bench_options& o);
void run_baseline(const bench_options& o, const std::string& variant, run_result& out);

}  // namespace mpstate::bench
