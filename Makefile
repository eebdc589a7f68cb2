# acmectl — see README.md. `make demo` and `make test` are the two entry points.
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -s -w -X main.version=$(VERSION)
GO      ?= go
FUZZTIME ?= 60s

.PHONY: all build build-all-dns test unit e2e fuzz lint bench demo clean

all: build

build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags "$(LDFLAGS)" -o dist/acmectl ./cmd/acmectl

build-all-dns:
	CGO_ENABLED=0 $(GO) build -tags alldns -trimpath -ldflags "$(LDFLAGS)" -o dist/acmectl-all-dns ./cmd/acmectl

# Unit tests and the end-to-end suite (real Pebble, certbot, nginx, DNS server), with -race.
test:
	$(GO) vet ./...
	$(GO) test -race -count=1 -timeout 20m ./...

# A quick loop without the end-to-end suite.
unit:
	$(GO) test -short -count=1 ./...

e2e:
	$(GO) test -count=1 -v -run 'E2E' ./...

# Every fuzz target, FUZZTIME each (go test runs one -fuzz target per invocation).
fuzz:
	@set -e; for pkg in $$($(GO) list ./...); do \
	  dir=$$($(GO) list -f '{{.Dir}}' $$pkg); \
	  for f in $$(grep -ho '^func Fuzz[A-Za-z0-9_]*' $$dir/*_test.go 2>/dev/null | sed 's/func //'); do \
	    echo "== $$pkg $$f"; $(GO) test -run='^$$' -fuzz="^$$f\$$" -fuzztime=$(FUZZTIME) $$pkg; \
	  done; \
	done

lint:
	$(GO) vet ./...
	$(GO) run honnef.co/go/tools/cmd/staticcheck@2025.1.1 ./...

bench:
	$(GO) run ./internal/bench

demo:
	bash scripts/demo.sh

clean:
	rm -rf dist demo cover.out
