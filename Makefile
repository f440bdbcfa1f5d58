# The front door. `make demo` and `make test` work on a fresh Debian 12 machine:
# they install what is missing, build incrementally and run.

BUILD      ?= build
SAN_BUILD  ?= build-san
JOBS       ?= $(shell nproc)
CMAKE_ARGS ?=
export MLFORGE_HOME ?= $(CURDIR)/.mlforge

.PHONY: all deps configure build test test-unit test-sanitize demo bench format lint clean

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

# AddressSanitizer + UndefinedBehaviorSanitizer over every target that does
# not need LibTorch, warnings as errors.
test-sanitize: deps
	@test -f $(SAN_BUILD)/build.ninja || cmake -S . -B $(SAN_BUILD) -G Ninja \
	  -DMLFORGE_WITH_TORCH=OFF -DMLFORGE_SANITIZE=ON -DMLFORGE_WERROR=ON
	cmake --build $(SAN_BUILD) -j $(JOBS)
	cd $(SAN_BUILD) && ctest --output-on-failure -j $(JOBS) --timeout 600

demo: build
	@scripts/demo

bench: build
	@/usr/bin/python3 bench/train/bench_train.py

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
	rm -rf $(BUILD) $(SAN_BUILD)
