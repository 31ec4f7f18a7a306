# SPDX-License-Identifier: MIT
# The two commands of the README, plus the steps they are made of.
#   make demo   set up, build, run the job-scheduler example and show the dump
#   make test   set up, build, run every test: release, then ASan+UBSan, then the
#               thread suite under ThreadSanitizer, then the request fuzzer for 30 s
#   make lint   clang-format, flake8 and clang-tidy (scripts/lint; LINT_ARGS=--all: tidy every source)
#   make fuzz   run the request fuzzer (libFuzzer, clang) for FUZZ_SECONDS (600)
#   make bench  also install the peers (Redis, hiredis, gnuplot); run mpstate, its
#               baseline and the peers interleaved; write benchmarks/results/latest.*
# make install: the binaries, libraries, headers, Python package and systemd unit under PREFIX.
PREFIX ?= /usr/local
.PHONY: install deps build build-asan build-tsan test test-release test-asan test-tsan test-fuzz fuzz demo bench sanity clean lint

deps:
	@scripts/install-deps

# The interpreter the Python package is built, tested and benchmarked for: Debian's,
# whatever python3 comes first on the PATH (a pyenv or venv one may lack Debian's packages).
PYTHON ?= /usr/bin/python3

build: deps
	@cmake --preset release -DPython_EXECUTABLE=$(PYTHON) >/dev/null
	@cmake --build --preset release

# Only what the ASan suites run (not the benchmarks): CI time.
build-asan: deps
	@cmake --preset asan >/dev/null
	@cmake --build --preset asan --target unit_tests process_tests thread_tests mpstate-torture work_queue

build-tsan: deps
	@cmake --preset tsan >/dev/null
	@cmake --build --preset tsan --target thread_tests

test-release: build
	@ctest --preset release

test-asan: build-asan
	@ctest --preset asan

# TSan models threads in one process; it cannot follow a robust mutex that another
# process locked, so it runs the thread suite (the fork/kill suites run under ASan).
test-tsan: build-tsan
	@ctest --preset tsan -R thread_tests

# The libFuzzer target over the manager's request path; a crash fails the run.
FUZZ_SECONDS ?= 600
test-fuzz: deps
	@scripts/fuzz 30

fuzz: deps
	@scripts/fuzz $(FUZZ_SECONDS)

test: test-release test-asan test-tsan test-fuzz

LINT_ARGS ?=
lint: deps
	@scripts/lint $(LINT_ARGS)

demo: build
	@scripts/demo build/release

BENCH_ARGS ?= --rounds 3 --seconds 1
bench:
	@scripts/install-deps --bench
	@cmake --preset release -DPython_EXECUTABLE=$(PYTHON) >/dev/null
	@cmake --build --preset release
	@PYTHON=$(PYTHON) $(PYTHON) benchmarks/run_all.py --build build/release $(BENCH_ARGS)

# A first ns/op figure of local proxies against a raw boost::interprocess mutex.
sanity: build
	@build/release/benchmarks/proxy_sanity

# As root (and not into a DESTDIR) it also creates the service's account, `mpstate`.
install: build
	@cmake --install build/release --prefix $(PREFIX)
	@if [ "$$(id -u)" = 0 ] && [ -z "$(DESTDIR)" ] && ! id mpstate >/dev/null 2>&1; then \
	  if command -v systemd-sysusers >/dev/null; then systemd-sysusers $(PREFIX)/lib/sysusers.d/mpstate.conf; \
	  else useradd --system --home-dir /var/lib/mpstate --no-create-home --shell /usr/sbin/nologin mpstate; fi; \
	  echo "created the system account 'mpstate' for mpstate@.service"; fi

clean:
	rm -rf build
