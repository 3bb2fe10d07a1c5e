# make run: install system packages, build, start the whole product (Tools/run: a demo store on
# first run, DNS on 127.0.0.1:5300, the API and the portal on 127.0.0.1:8053).
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
	./Tools/run

test: setup
	$(SWIFT) build --build-tests
	$(SWIFT) build --product thurac
	THURAC_BINARY=$$($(SWIFT) build --show-bin-path)/thurac $(SWIFT) test --skip-build

bench: release
	./Tools/bench/run
	./Tools/bench/allocations

clean:
	rm -rf .build
