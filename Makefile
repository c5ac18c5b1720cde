# duet - newcomer entry points. The real build is CMake; this file only names the steps.
#   make          build everything (build/)
#   make test     every test: unit, simulator, CLI, HTTP, browser, Xtensa cross-build,
#                 ThreadSanitizer and bounded fuzzing; ends with ctest's summary
#   make demo     the simulator demo: boot, live counter, hot swap, crash, recovery
#   make demo-fleet  fleet update: a simulator pulls a new version from a local HTTPS
#                 server (nginx) after an MQTT message (mosquitto); docs/fleet.md
#   make bench    benchmarks (results: docs/benchmarks.md)
#   make dsp-soak the dsp pipeline in the simulator, real-time paced (DSP_SECONDS, default 600)
#   make fuzz     longer fuzzing session (FUZZ_SECONDS each, default 300)
#   make target-test  the ESP-IDF examples built and booted on Espressif's QEMU esp32s3
#                 model (needs the ESP32-S3 tools on PATH; docs/esp32s3.md)
#   make target-bench  latency, throughput, restart and hot-swap figures in instructions on
#                 the same model (docs/benchmarks.md)
JOBS ?= $(shell nproc)
FUZZ_SECONDS ?= 300

.PHONY: all build deps test demo demo-fleet bench dsp-soak fuzz target-test target-bench format clean
all: build

deps:
	@scripts/deps.sh

build: deps
	cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	MAKEFLAGS=--no-print-directory cmake --build build -j$(JOBS)

test: deps
	scripts/test.sh

demo: build
	scripts/demo.sh

demo-fleet: build
	scripts/demo-fleet.sh

bench: deps
	scripts/bench.sh

dsp-soak: deps
	scripts/dsp-soak.sh $(DSP_SECONDS)

fuzz: deps
	FUZZ_SECONDS=$(FUZZ_SECONDS) scripts/fuzz.sh

target-test:
	scripts/target-test.sh

target-bench:
	scripts/target-bench.sh

format:
	find core include port sdk tools sim examples tests bench fuzz -name '*.[ch]' | xargs clang-format -i

clean:
	rm -rf build build-test build-tsan build-fuzz build-bench build-target
