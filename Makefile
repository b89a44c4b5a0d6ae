# The two commands of this project:
#   make demo   build tracectl and trace a real command (needs root for BPF)
#   make test   build and run every test (unit, BPF as root, end-to-end, interop)
# Both install the Debian packages they need first (tools/setup/install-deps.sh).

BAZEL ?= bazel
PEERS_DIR ?= $(CURDIR)/.peers
BIN := bazel-bin

.PHONY: all deps peers build demo test bench fuzz clean

all: build

deps:
	@tools/setup/install-deps.sh

peers: deps
	@tests/peers/install.sh "$(PEERS_DIR)"

build: deps
	$(BAZEL) build //ctl:tracectl

demo: build
	$(BAZEL) build //controlplane:trace-controlplane //agent:trace-agent
	@tools/demo.sh
	@tools/demo_fleet.sh

test: deps peers
	@PEERS_DIR="$(PEERS_DIR)" tests/run_all.sh

bench: build peers
	@tests/bench/run.sh

fuzz: deps
	@tests/fuzz/run_all.sh

clean:
	$(BAZEL) clean
