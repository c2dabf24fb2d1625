# Nova's tasks. `make run` needs only Go; `make test` also needs Redis on
# 127.0.0.1:6379 (the Redis conformance tests skip without it, except under CI=true).
GO      ?= go
BIN     ?= bin/nova
SANDBOX ?= bin/nova-sandbox
FUZZTIME ?= 20s

.PHONY: run build test test-race bench eval fuzz lint clean

run: build ## build Nova and run it against local PagerDuty and Slack emulators
	$(GO) build -o $(SANDBOX) ./cmd/nova-sandbox
	$(SANDBOX) --nova $(BIN)

build: ## build the nova binary
	$(GO) build -o $(BIN) ./cmd/nova

test: ## the whole suite: vet, unit, conformance (bolt and Redis), end-to-end
	$(GO) vet ./...
	$(GO) test -count=1 ./...

test-race: ## the suite under the race detector (slower)
	$(GO) test -count=1 -race ./...

bench: build ## micro-benchmarks, then ingress, write-back, triage, storm and one-channel storm end to end (~6 min; summary in bench-results.md)
	$(GO) test -run '^$$' -bench 'WebhookHandler|Store|Analyze' -benchtime 2000x ./pagerduty/ ./store/... ./triage/
	$(GO) run ./cmd/nova-bench all -nova $(BIN)

eval: ## triage evaluation on the incident corpus, beside baselines
	$(GO) run ./cmd/nova-eval

fuzz: ## fuzz every parser and renderer of untrusted input (and the approval invariant) for FUZZTIME each
	@set -e; for t in pagerduty:FuzzVerifySignature pagerduty:FuzzParseSignatureHeader pagerduty:FuzzDecodeEvent \
	  slack:FuzzVerifyRequest slack:FuzzParseCommand slack:FuzzParseInteraction slack:FuzzRenderNeverBreaksLimits \
	  executor:FuzzVerifySignature approvals:FuzzNoRunWithoutQuorum triage:FuzzAnalyze \
	  .:FuzzEscape bot:FuzzOutsideTextStaysText; do \
	  pkg=$${t%%:*}; fn=$${t#*:}; echo "== $$pkg $$fn"; \
	  $(GO) test -run '^$$' -fuzz "^$$fn\$$" -fuzztime $(FUZZTIME) ./$$pkg/; done

lint: ## formatting and vet
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || (gofmt -l $$(git ls-files '*.go'); echo "gofmt: files above need formatting"; exit 1)
	$(GO) vet ./...

clean:
	rm -rf bin .nova-sandbox
