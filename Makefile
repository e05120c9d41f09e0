# The two commands (README): `make run` and `make test`. Both install what is
# missing (scripts/install-deps.sh) and build first.
BUILD      ?= build
ASAN_BUILD ?= build-asan
DEMO_DIR   ?= var
PORT_BASE  ?= 10000
JOBS       ?= $(shell nproc)

.PHONY: all deps configure build run test test-unit test-asan lint format bench clean

all: build

deps:
	@scripts/install-deps.sh

configure: deps
	@cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null

build: configure
	@cmake --build $(BUILD)

run: build
	@scripts/demo.sh $(BUILD)/postern $(DEMO_DIR) $(PORT_BASE)

# Every test: style, unit, fuzz corpora and integration on the normal build,
# then all of them again with everything built under AddressSanitizer + UBSan.
test: build lint
	ctest --test-dir $(BUILD) --output-on-failure -j $(JOBS)
	@$(MAKE) --no-print-directory test-asan

test-unit: build
	ctest --test-dir $(BUILD) --output-on-failure -j $(JOBS) -L 'unit|fuzz'

test-asan: deps
	@cmake -S . -B $(ASAN_BUILD) -G Ninja -DCMAKE_BUILD_TYPE=Debug -DPOSTERN_SANITIZE=ON >/dev/null
	@cmake --build $(ASAN_BUILD)
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
	  ctest --test-dir $(ASAN_BUILD) --output-on-failure -j $(JOBS) -L 'unit|fuzz|asan'

lint:
	@scripts/check-format.sh

format:
	@git ls-files '*.cc' '*.h' | xargs clang-format -i

bench: build
	@bench/smtp-inbound --help

clean:
	rm -rf $(BUILD) $(ASAN_BUILD)
