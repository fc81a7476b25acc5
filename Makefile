# fast-cache — entry points. Every target installs missing Debian build
# dependencies first (scripts/deps.sh), so a fresh machine needs nothing else.
#
#   make          build into build/
#   make run      build, then run the server in the foreground (default config)
#               and the embedded example
#   make test     every test: cppcheck, fuzz, TSan unit tests, clang build (unit
#               and integration), ASan+UBSan build, gcc build
#   make check    quick loop: the gcc build's tests only
#   make bench    benchmarks, side by side with redis-server
#   make install  install library, header, pkg-config file and server

JOBS ?= $(shell nproc)
PREFIX ?= /usr/local
FUZZ_SECONDS ?= 90
CTEST = ctest --output-on-failure --no-tests=error -j$(JOBS)
# cmake's generated makefiles recurse; without this every step prints
# "Entering/Leaving directory" (a third of `make test`'s output).
MAKEFLAGS += --no-print-directory

.PHONY: all build deps run test check lint test-asan test-clang test-fuzz tsan bench install clean

all: build

deps:
	@./scripts/deps.sh

build: deps
	@cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	@cmake --build build -j$(JOBS)

run: build
	./build/embedded-example
	@if [ -x build/fast-cache-server ]; then exec ./build/fast-cache-server; fi

check: build
	cd build && $(CTEST)

test-asan: deps
	@cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DFC_SANITIZE=ON >/dev/null
	@cmake --build build-asan -j$(JOBS)
	cd build-asan && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 $(CTEST)

test-clang: deps
	@CC=clang cmake -S . -B build-clang -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	@cmake --build build-clang -j$(JOBS)
	cd build-clang && $(CTEST)

# FUZZ_SECONDS is the total: split evenly between the fuzz targets (at
# least 1 s each), so adding a target does not lengthen the run. New inputs
# go to build-fuzz/corpus/<target> (kept between runs); the checked-in seeds
# in fuzz/corpus/<target> are only read.
FUZZ_TARGETS = resp persist fcrp session typed hll msgpack
test-fuzz: deps
	@CC=clang cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=Debug -DFC_FUZZ=ON \
	  -DFC_SANITIZE=ON >/dev/null
	@cmake --build build-fuzz -j$(JOBS) $(addprefix --target fuzz_,$(FUZZ_TARGETS))
	@secs=$$(( $(FUZZ_SECONDS) / $(words $(FUZZ_TARGETS)) )); \
	[ $$secs -ge 1 ] || secs=1; \
	for t in $(FUZZ_TARGETS); do \
	  echo "fuzz_$$t: $$secs s (log: build-fuzz/fuzz_$$t.log)"; \
	  mkdir -p build-fuzz/corpus/$$t; \
	  if ./build-fuzz/fuzz/fuzz_$$t -max_total_time=$$secs \
	    -max_len=4096 -print_final_stats=1 build-fuzz/corpus/$$t \
	    fuzz/corpus/$$t \
	    > build-fuzz/fuzz_$$t.log 2>&1; then \
	    grep -E '^(Done|stat::number_of_executed_units|stat::new_units)' build-fuzz/fuzz_$$t.log; \
	  else tail -60 build-fuzz/fuzz_$$t.log; exit 1; fi; \
	done

tsan: deps
	@CC=clang cmake -S . -B build-tsan -DCMAKE_BUILD_TYPE=Debug -DFC_TSAN=ON >/dev/null
	@cmake --build build-tsan -j$(JOBS)
	cd build-tsan && $(CTEST) -L unit

# check_layers.py: no include cycle between src/server's folders (well
# under a second).
lint: deps
	python3 scripts/check_layers.py
	cppcheck --quiet --enable=warning,portability --std=c11 --inline-suppr \
	  -I include -I src --error-exitcode=1 src

# The gcc suite runs last so the run ends with ctest's summary line. The TSan
# unit tests cost about 20 s from scratch on a 2-core VM (2026-12-01).
test: lint test-fuzz tsan test-clang test-asan check

bench: build
	./build/fast-cache-bench
	@if [ -x bench/vs-redis.sh ] && [ -x build/fast-cache-server ]; then ./bench/vs-redis.sh; fi
	@if [ -x build/fast-cache-server ]; then python3 bench/persist_vs_redis.py; fi
	@if [ -x build/fast-cache-server ]; then python3 bench/repl_vs_redis.py; fi
	@if [ -x build/fast-cache-server ]; then python3 bench/evict_vs_redis.py; fi
	@if [ -x build/fast-cache-server ]; then python3 bench/churn_vs_redis.py; fi
	@if [ -x build/fast-cache-server ]; then python3 bench/types_vs_redis.py; fi
	@if [ -x build/fast-cache-server ]; then python3 bench/suite_vs_redis.py; fi

install: build
	cmake --install build --prefix $(PREFIX)

clean:
	rm -rf build build-asan build-clang build-fuzz build-tsan
