# SPDX-License-Identifier: MIT
# Thin wrapper around CMake (the source of truth). Quiet unless V=1.
# As root (a fresh Debian 12 has no sudo; `apt-get install -y make` first):
#   make run                 install deps, build, run the live agent on a demo network
#   make run IFACE=eth0      run the live agent on a real interface
#   make test                install deps, build, run every test tier
#   make soak                10-minute live soak test (not part of make test)
BUILD ?= build
JOBS ?= $(shell nproc)
IFACE ?=
CSV ?= $(BUILD)/flows.csv
Q := $(if $(V),,@)

.PHONY: all deps build agent run test test-unit sanitize tsan bench soak vmlinux format clean

all: build

deps:
	$(Q)./scripts/install-deps.sh

build:
	$(Q)cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	$(Q)cmake --build $(BUILD) -j $(JOBS) $(if $(V),,-- --no-print-directory -s)

# The agent alone (what `make run` needs): no test, benchmark or fuzz target is compiled.
agent:
	$(Q)cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	$(Q)cmake --build $(BUILD) -j $(JOBS) --target nfm-xdp $(if $(V),,-- --no-print-directory -s)

run: deps agent
ifeq ($(IFACE),)
	$(Q)./scripts/demo.sh $(BUILD)/nfm-xdp $(CSV)
else
	$(Q)$(BUILD)/nfm-xdp --iface $(IFACE) --csv $(CSV)
endif

test: deps build
	$(Q)./scripts/run-tests.sh $(BUILD)

sanitize:
	$(Q)cmake -S . -B $(BUILD)-asan -DCMAKE_BUILD_TYPE=Debug -DNFM_SANITIZE=ON -DNFM_WITH_BPF=OFF >/dev/null
	$(Q)cmake --build $(BUILD)-asan -j $(JOBS) $(if $(V),,-- --no-print-directory -s)
	$(Q)cd $(BUILD)-asan && ctest -L 'unit|differential|cli' --output-on-failure -j $(JOBS)

# ThreadSanitizer: the threaded unit tests and a few threaded CLI runs (short on purpose).
tsan:
	$(Q)./scripts/run-tsan.sh $(BUILD)-tsan

bench: build
	$(Q)./bench/run.sh $(BUILD)

# Soak test, outside CI (about 10 minutes, root): live capture with interface churn, a TCP
# IPFIX collector restarted every minute, CSV rotation + zstd, a scrape every second.
soak: build
	$(Q)python3 tests/soak/soak.py --nfm $(BUILD)/nfm-xdp $(SOAK_ARGS)

vmlinux:
	$(Q)bpftool btf dump file /sys/kernel/btf/vmlinux format c > vmlinux/x86/vmlinux.h
	@echo "vmlinux/x86/vmlinux.h regenerated: review and commit it"

format:
	$(Q)clang-format -i userspace/*.cpp userspace/*/*.cpp userspace/*/*.hpp tests/unit/*.cpp

clean:
	$(Q)rm -rf $(BUILD) $(BUILD)-asan $(BUILD)-tsan
