# The two commands of the README, plus the steps they are made of.
#   make demo   set up, build, run the job-scheduler example and show the dump
#   make test   set up, build, run every test (release, then ASan+UBSan)
.PHONY: deps build build-asan test test-release test-asan demo clean

deps:
	@scripts/install-deps

build: deps
	@cmake --preset release >/dev/null
	@cmake --build --preset release

build-asan: deps
	@cmake --preset asan >/dev/null
	@cmake --build --preset asan

test-release: build
	@ctest --preset release

test-asan: build-asan
	@ctest --preset asan

test: test-release test-asan

demo: build
	@scripts/demo build/release

clean:
	rm -rf build
