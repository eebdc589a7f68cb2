# acmectl — see README.md. `make demo` and `make test` are the two entry points.
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -s -w -X main.version=$(VERSION)
GO      ?= go
DIST    ?= dist
FUZZTIME ?= 60s

.PHONY: all build build-all-dns deps test unit e2e fuzz lint bench demo clean

all: build

# dist/acmectl embeds the DNS plugin (the default lego providers; package
# challenge/dns01/dnsplugin): their SDKs stay out of acmectl's own start-up.
# It also embeds the cluster's build of acmectl (the etcd client: its package
# initialisation was a third of every start): acmectl itself is built with
# -tags nocluster and runs that build for --store and the cluster verbs
# (internal/clusterexec); the cluster's build (-tags dnshost) uses the
# DNS plugin of the acmectl that started it.
# The gzipped files reach go:embed through -overlay, so the tree stays clean.
# urfave_cli_no_docs leaves out the man page generator (its Markdown parser's init
# was a tenth of the start-up); make man uses a build that has it.
EMBED := $(CURDIR)/challenge/dns01/acmectl-dns.gz
EMBED_CLUSTER := $(CURDIR)/internal/clusterexec/acmectl-cluster.gz
build:
	@mkdir -p $(DIST)
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags "$(LDFLAGS)" -o $(DIST)/acmectl-dns ./cmd/acmectl-dns
	gzip -9 -n -c $(DIST)/acmectl-dns > $(DIST)/acmectl-dns.gz
	CGO_ENABLED=0 $(GO) build -tags dnshost,urfave_cli_no_docs -trimpath -ldflags "$(LDFLAGS)" -o $(DIST)/acmectl-cluster ./cmd/acmectl
	gzip -9 -n -c $(DIST)/acmectl-cluster > $(DIST)/acmectl-cluster.gz
	@printf '{"Replace":{"%s":"%s","%s":"%s"}}\n' "$(EMBED)" "$(abspath $(DIST))/acmectl-dns.gz" "$(EMBED_CLUSTER)" "$(abspath $(DIST))/acmectl-cluster.gz" > $(DIST)/overlay.json
	CGO_ENABLED=0 $(GO) build -tags dnsembed,nocluster,urfave_cli_no_docs -overlay $(DIST)/overlay.json -trimpath \
	  -ldflags "$(LDFLAGS) -X github.com/acmectl/acmectl/internal/clusterexec.sum=$$(sha256sum $(DIST)/acmectl-cluster.gz | cut -c1-64)" -o $(DIST)/acmectl ./cmd/acmectl
	@rm -f $(DIST)/acmectl-dns $(DIST)/acmectl-dns.gz $(DIST)/acmectl-cluster $(DIST)/acmectl-cluster.gz $(DIST)/overlay.json

build-all-dns:
	CGO_ENABLED=0 $(GO) build -tags alldns -trimpath -ldflags "$(LDFLAGS)" -o $(DIST)/acmectl-all-dns ./cmd/acmectl

# The Debian packages the suite drives (scripts/deps.sh lists them): as root it
# installs what is missing; otherwise it names the command to run. Before any compiling.
deps:
	@scripts/deps.sh

# Unit tests and the end-to-end suite (real Pebble, certbot, nginx, DNS server), with -race.
# -timeout is a bound per package, not a wait: the slowest package (internal/reliability)
# took 25 min on a 2-core machine loaded far beyond 4 busy processes (issue 19).
# go test starts packages in the order named (./... adds the rest, once each), at most
# -p at a time, builds included. The end-to-end packages go first, longest first, so
# that none starts last and runs alone at the end; -p 4 because they mostly wait (on
# their CAs, certbot, the production timeouts of a dead CA), and at the default -p
# (GOMAXPROCS, 2 here) the two longest took both slots.
SLOWTESTS := ./cmd/acmectl ./internal/reliability ./internal/clustere2e ./internal/bench ./storage \
	./internal/faultproxy ./storage/certbotcompat ./installer/apache ./installer/nginx ./examples/renew-all ./cluster
test: deps
	$(GO) vet ./...
	$(GO) test -race -count=1 -timeout 60m -p 4 $(SLOWTESTS) ./...

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

# gocyclo: no non-test function with cyclomatic complexity above 25.
lint:
	$(GO) vet ./...
	$(GO) run honnef.co/go/tools/cmd/staticcheck@v0.8.2 ./...
	$(GO) run github.com/fzipp/gocyclo/cmd/gocyclo@v0.6.0 -over 25 -ignore '_test' .

bench:
	$(GO) run ./internal/bench

demo:
	bash scripts/demo.sh

clean:
	rm -rf $(DIST) demo cover.out

# ---- packaging: man page, completions, install, release ----
PREFIX  ?= /usr/local
DESTDIR ?=
BINDIR  ?= $(PREFIX)/bin
MANDIR  ?= $(PREFIX)/share/man
# CERTBOT_LINK=1 also installs $(BINDIR)/certbot -> acmectl.
CERTBOT_LINK ?= 0

.PHONY: install man completions release

# Generated from the CLI definition by the hidden "acmectl gendocs" command.
man completions: build
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags "$(LDFLAGS)" -o $(DIST)/acmectl-gendocs ./cmd/acmectl
	$(DIST)/acmectl-gendocs gendocs --out $(DIST) >/dev/null
	@rm -f $(DIST)/acmectl-gendocs
	@echo $(DIST)/man/acmectl.1; ls $(DIST)/completions/*

install: build man completions
	install -D -m 0755 $(DIST)/acmectl $(DESTDIR)$(BINDIR)/acmectl
	install -D -m 0644 $(DIST)/man/acmectl.1 $(DESTDIR)$(MANDIR)/man1/acmectl.1
	install -D -m 0644 $(DIST)/completions/acmectl.bash $(DESTDIR)$(PREFIX)/share/bash-completion/completions/acmectl
	install -D -m 0644 $(DIST)/completions/_acmectl $(DESTDIR)$(PREFIX)/share/zsh/site-functions/_acmectl
	install -D -m 0644 $(DIST)/completions/acmectl.fish $(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d/acmectl.fish
	@if [ "$(CERTBOT_LINK)" = 1 ]; then \
	  ln -sfn acmectl $(DESTDIR)$(BINDIR)/certbot && \
	  ln -sfn acmectl $(DESTDIR)$(PREFIX)/share/bash-completion/completions/certbot && \
	  echo "$(DESTDIR)$(BINDIR)/certbot -> acmectl"; \
	fi

# A static binary (CGO_ENABLED=0 in build) with its docs and checksums.
release: build man completions
	@out=$$(ldd $(DIST)/acmectl 2>&1); echo "ldd $(DIST)/acmectl: $$out"; \
	case "$$out" in *"not a dynamic executable"*) ;; *) echo "$(DIST)/acmectl is not static" >&2; exit 1;; esac
	$(DIST)/acmectl --version
	cd $(DIST) && sha256sum acmectl man/acmectl.1 completions/* > SHA256SUMS
	@echo $(DIST)/SHA256SUMS

# The reliability suite (internal/reliability) at soak strength: 1,000 SIGKILLs
# instead of make test's 40, and storage's crash test with 1,000 instead of 100. RELIABILITY_SEED=N replays another kill sequence.
.PHONY: soak
soak:
	RELIABILITY_KILLS=$${RELIABILITY_KILLS:-1000} $(GO) test -count=1 -timeout 90m -v ./internal/reliability/
	STORAGE_CRASH_KILLS=$${STORAGE_CRASH_KILLS:-1000} $(GO) test -count=1 -timeout 60m -run TestCrashSafety -v ./storage/
