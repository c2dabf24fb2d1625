# Nova's tasks. `make run` needs only Go; `make test` also needs Redis on
# 127.0.0.1:6379 (the Redis conformance tests skip without it, except under CI=true).
GO      ?= go
BIN     ?= bin/nova
SANDBOX ?= bin/nova-sandbox
FUZZTIME ?= 20s
# Stamped into the binary (nova version, nova_build_info); Go's own VCS
# stamping misses git worktrees and GOFLAGS=-buildvcs=false.
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT  ?= $(shell git rev-parse HEAD 2>/dev/null)$(shell git diff --quiet HEAD 2>/dev/null || echo -dirty)
LDFLAGS ?= -X main.version=$(VERSION) -X main.commit=$(COMMIT)
IMAGE   ?= nova:$(VERSION)
# podman (Debian: apt-get install podman) or docker.
CONTAINER ?= $(shell command -v podman 2>/dev/null || command -v docker 2>/dev/null || echo podman)
CA_BUNDLE ?= /etc/ssl/certs/ca-certificates.crt

.PHONY: run build test test-race bench eval fuzz lint clean image

run: build ## build Nova and run it against local PagerDuty and Slack emulators
	$(GO) build -o $(SANDBOX) ./cmd/nova-sandbox
	$(SANDBOX) --nova $(BIN)

build: ## build the nova binary
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/nova

test: ## the whole suite: vet, unit, conformance (bolt and Redis), end-to-end
	$(GO) vet ./...
	$(GO) test -count=1 ./...

test-race: ## the suite under the race detector (slower)
	$(GO) test -count=1 -race ./...

bench: build ## micro-benchmarks, then ingress, write-back, triage, storm and one-channel storm end to end (~6 min; summary in bench-results.md)
	$(GO) test -run '^$$' -bench 'WebhookHandler|Store|Analyze' -benchtime 2000x ./pagerduty/ ./store/... ./triage/
	$(GO) test -run '^$$' -bench 'Pages' -benchtime 200x ./cmd/nova/
	$(GO) test -run '^$$' -bench 'PageRender' -benchtime 2000x ./web/
	$(GO) run ./cmd/nova-bench all -nova $(BIN)

eval: ## triage evaluation on the incident corpus, beside baselines
	$(GO) run ./cmd/nova-eval

fuzz: ## fuzz every parser and renderer of untrusted input (and the approval invariant) for FUZZTIME each
	@set -e; for t in pagerduty:FuzzVerifySignature pagerduty:FuzzParseSignatureHeader pagerduty:FuzzDecodeEvent pagerduty:FuzzDecodeSupportingServices \
	  slack:FuzzVerifyRequest slack:FuzzParseCommand slack:FuzzParseInteraction slack:FuzzRenderNeverBreaksLimits \
	  executor:FuzzVerifySignature approvals:FuzzNoRunWithoutQuorum triage:FuzzAnalyze \
	  .:FuzzEscape bot:FuzzOutsideTextStaysText; do \
	  pkg=$${t%%:*}; fn=$${t#*:}; echo "== $$pkg $$fn"; \
	  $(GO) test -run '^$$' -fuzz "^$$fn\$$" -fuzztime $(FUZZTIME) ./$$pkg/; done

lint: ## formatting and vet
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || (gofmt -l $$(git ls-files '*.go'); echo "gofmt: files above need formatting"; exit 1)
	$(GO) vet ./...

image: ## container image IMAGE (FROM scratch, static binary, non-root) built offline from this checkout
	rm -rf .image && mkdir -p .image/rootfs/etc/ssl/certs .image/rootfs/data
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags "-s -w $(LDFLAGS)" -o .image/rootfs/nova ./cmd/nova
	cp $(CA_BUNDLE) .image/rootfs/etc/ssl/certs/ca-certificates.crt
	$(CONTAINER) build -f deploy/Dockerfile --target offline -t $(IMAGE) .

clean:
	rm -rf bin .nova-sandbox .image
