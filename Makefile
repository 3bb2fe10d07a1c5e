# make run: install system packages, build, serve the sample datasets on 127.0.0.1:5300.
# make test: install system packages, build the tests once, run them.
SWIFT ?= swift
CONFIG ?= debug

.PHONY: setup build release run test bench clean

setup:
	./Tools/setup

build: setup
	$(SWIFT) build --product thurac

release: setup
	$(SWIFT) build -c release --product thurac

run: build
	$(SWIFT) run thurac serve --listen 127.0.0.1:5300 \
	  --zone bl.example:ip4set:Zones/samples/bl.ip4set \
	  --zone bl.example:ip6trie:Zones/samples/bl.ip6trie \
	  --zone dbl.example:dnset:Zones/samples/dbl.dnset

test: setup
	$(SWIFT) build --build-tests
	$(SWIFT) build --product thurac
	THURAC_BINARY=$$($(SWIFT) build --show-bin-path)/thurac $(SWIFT) test --skip-build

bench: release
	./Tools/bench/run

clean:
	rm -rf .build
