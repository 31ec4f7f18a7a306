// SPDX-License-Identifier: MIT
// A first sanity figure (not the benchmark harness): ns per operation of a bound
// local proxy's get/set/add on an int64, beside a plain boost::interprocess
// segment with an interprocess_mutex guarding an int64, run in the same program.
// Each figure is the median of --rounds rounds; ratios are mpstate / baseline.
//
//   proxy_sanity [--rounds 7] [--ops 5000000]
#include <algorithm>
#include <boost/interprocess/managed_shared_memory.hpp>
#include <boost/interprocess/sync/interprocess_mutex.hpp>
#include <boost/interprocess/sync/scoped_lock.hpp>
#include <chrono>
#include <cstring>
#include <iomanip>
#include <iostream>
#include <string>
#include <vector>

#include "mpstate/mpstate.hpp"

namespace bip = boost::interprocess;

namespace {

template <class Fn>
double ns_per_op(long ops, Fn&& body) {
  auto start = std::chrono::steady_clock::now();
  body(ops);
  auto ns = std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - start).count();
  return ns / static_cast<double>(ops);
}

template <class Fn>
double median_of(int rounds, long ops, Fn&& body) {
  std::vector<double> samples;
  for (int r = 0; r < rounds; ++r) samples.push_back(ns_per_op(ops, body));
  std::sort(samples.begin(), samples.end());
  return samples[samples.size() / 2];
}

struct raw_cell {
  bip::interprocess_mutex mutex;
  std::int64_t value = 0;
};

volatile std::int64_t sink;

}  // namespace

int main(int argc, char** argv) {
  int rounds = 7;
  long ops = 5'000'000;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--rounds") == 0) rounds = std::stoi(argv[i + 1]);
    if (std::strcmp(argv[i], "--ops") == 0) ops = std::stol(argv[i + 1]);
  }

  mpstate::Manager manager = mpstate::Manager::start();
  mpstate::Client client = manager.connect();
  auto v = client.create<std::int64_t>("bench/v", 0);

  std::string raw_name = "mpstate-sanity-" + std::to_string(getpid());
  bip::shared_memory_object::remove(raw_name.c_str());
  bip::managed_shared_memory raw(bip::create_only, raw_name.c_str(), 1 << 20);
  raw_cell* cell = raw.construct<raw_cell>("cell")();

  struct row {
    const char* op;
    double mpstate_ns, baseline_ns;
  };
  std::vector<row> rows;
  rows.push_back({"get",
                  median_of(rounds, ops,
                            [&](long n) {
                              std::int64_t s = 0;
                              for (long i = 0; i < n; ++i) s += v.get();
                              sink = s;
                            }),
                  median_of(rounds, ops, [&](long n) {
                    std::int64_t s = 0;
                    for (long i = 0; i < n; ++i) {
                      bip::scoped_lock<bip::interprocess_mutex> lock(cell->mutex);
                      s += cell->value;
                    }
                    sink = s;
                  })});
  rows.push_back({"set",
                  median_of(rounds, ops,
                            [&](long n) {
                              for (long i = 0; i < n; ++i) v.set(i);
                            }),
                  median_of(rounds, ops, [&](long n) {
                    for (long i = 0; i < n; ++i) {
                      bip::scoped_lock<bip::interprocess_mutex> lock(cell->mutex);
                      cell->value = i;
                    }
                  })});
  rows.push_back({"add",
                  median_of(rounds, ops,
                            [&](long n) {
                              for (long i = 0; i < n; ++i) v.add(1);
                            }),
                  median_of(rounds, ops, [&](long n) {
                    for (long i = 0; i < n; ++i) {
                      bip::scoped_lock<bip::interprocess_mutex> lock(cell->mutex);
                      cell->value += 1;
                    }
                  })});
  bip::shared_memory_object::remove(raw_name.c_str());

  std::cout << "bound int64 proxy vs boost::interprocess mutex + int64 (1 process, median of " << rounds << " rounds x "
            << ops << " ops)\n";
  std::cout << "op    mpstate ns/op   baseline ns/op   ratio\n";
  for (const row& r : rows) {
    std::cout << std::left << std::setw(6) << r.op << std::fixed << std::setprecision(2) << std::setw(16)
              << r.mpstate_ns << std::setw(17) << r.baseline_ns << r.mpstate_ns / r.baseline_ns << "\n";
  }
  return 0;
}
