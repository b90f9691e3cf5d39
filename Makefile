# The two commands of the README: `make demo` (main job on the embedded default) and `make test`.
CPU := $(shell bash scripts/target-cpu)
CPUFLAGS := $(if $(CPU),-Xswiftc -target-cpu -Xswiftc $(CPU),)
RELEASE := -c release $(CPUFLAGS)
export MRC_MINILM_DIR ?= $(shell bash scripts/minilm-dir 2>/dev/null)

.PHONY: setup build test demo bench
setup:
	@bash scripts/setup

build: setup
	swift build $(RELEASE)

# Tests run optimised: the parity tests push real data and a real model through the kernels.
# The suite is XCTest only; Swift Testing is off so the runner does not close on an empty second run.
test: setup
	swift test $(RELEASE) -Xswiftc -enable-testing --disable-swift-testing

# The main job: `mrc-distill demo` on data/demo (five black-box teachers distilled into a 3-layer student).
demo: build
	.build/release/mrc-distill demo

bench: build
	bash scripts/bench
