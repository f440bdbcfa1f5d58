# The front door. `make demo` and `make test` work on a fresh Debian 12 machine:
# they install what is missing, build incrementally and run.

BUILD      ?= build
SAN_BUILD  ?= build-san
FUZZ_BUILD ?= build-fuzz
# Seconds each libFuzzer target runs in `make test-fuzz`.
FUZZ_SECONDS ?= 20
JOBS       ?= $(shell nproc)
CMAKE_ARGS ?=
export MLFORGE_HOME ?= $(CURDIR)/.mlforge

.PHONY: all deps configure build test test-unit test-sanitize test-fuzz demo bench bench-train bench-ddp bench-tracking bench-serving format lint clean

all: build

deps:
	@scripts/install-deps

$(BUILD)/build.ninja:
	cmake -S . -B $(BUILD) -G Ninja $(CMAKE_ARGS)

configure: deps $(BUILD)/build.ninja

build: configure
	cmake --build $(BUILD) -j $(JOBS)

# Every test: the full build's suites (unit and end-to-end), then the
# sanitizer build of the layers without LibTorch.
test: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS) --timeout 900
	$(MAKE) --no-print-directory test-sanitize
	$(MAKE) --no-print-directory test-fuzz

# AddressSanitizer + UndefinedBehaviorSanitizer over every target that does
# not need LibTorch, warnings as errors.
test-sanitize: deps
	@test -f $(SAN_BUILD)/build.ninja || cmake -S . -B $(SAN_BUILD) -G Ninja \
	  -DMLFORGE_WITH_TORCH=OFF -DMLFORGE_SANITIZE=ON -DMLFORGE_WERROR=ON
	cmake --build $(SAN_BUILD) -j $(JOBS)
	cd $(SAN_BUILD) && ctest --output-on-failure -j $(JOBS) --timeout 600

# The libFuzzer targets (src/tracking/fuzz/: the search grammar down to SQL,
# and MLflow REST request decoding), built with clang, ASan and UBSan, each
# run for FUZZ_SECONDS from a seed corpus; any crash fails.
test-fuzz: deps
	@test -f $(FUZZ_BUILD)/build.ninja || CC=clang-14 CXX=clang++-14 cmake -S . -B $(FUZZ_BUILD) \
	  -G Ninja -DMLFORGE_WITH_TORCH=OFF -DMLFORGE_SANITIZE=ON -DMLFORGE_FUZZ=ON
	cmake --build $(FUZZ_BUILD) -j $(JOBS) --target mlforge_filter_fuzzer mlforge_request_fuzzer
	@scripts/run-fuzzers $(FUZZ_BUILD) $(FUZZ_SECONDS)

demo: build
	@scripts/demo

bench: bench-train bench-tracking bench-ddp bench-serving

bench-train: build
	@/usr/bin/python3 bench/train/bench_train.py

bench-ddp: build
	@/usr/bin/python3 bench/ddp/bench_ddp.py

bench-tracking: build
	@$(BUILD)/bench/tracking/mlforge_tracking_bench --mlforge $(BUILD)/mlforge

bench-serving: build
	@BUILD=$(BUILD) /usr/bin/python3 bench/serving/bench_serving.py

format:
	@git ls-files '*.h' '*.cc' | xargs clang-format -i

# clang-tidy over the sources changed since LINT_BASE (default: the last
# commit); `make lint LINT_BASE=<first commit>` checks everything.
# clang-tidy cannot read GCC's precompiled headers: it uses build-lint/, a
# configure-only tree without them.
LINT_BASE ?= HEAD~1
lint: deps
	@test -f build-lint/compile_commands.json || cmake -S . -B build-lint -G Ninja -DMLFORGE_PCH=OFF >/dev/null
	@files=$$(git diff --name-only --diff-filter=d $(LINT_BASE) -- 'src/*.cc'); \
	if [ -n "$$files" ]; then clang-tidy -p build-lint --quiet $$files; else echo "lint: no changed sources"; fi

clean:
	rm -rf $(BUILD) $(SAN_BUILD) $(FUZZ_BUILD)
