package triage

import (
	"regexp"
	"strings"
	"testing"

	"github.com/novasre/nova"
)

// TestSignatureCategory checks that typical alert texts land in the category
// an SRE would name, from the signature catalog alone (no changes, no past).
func TestSignatureCategory(t *testing.T) {
	tests := []struct {
		alert string
		want  nova.Category
		// or is a second acceptable category, where the catalog says
		// "traffic or dependency" on purpose.
		or nova.Category
	}{
		{"Container checkout OOMKilled (exit code 137)", nova.CategoryResource, ""},
		{"java.lang.OutOfMemoryError: Java heap space", nova.CategoryResource, ""},
		{"fluentd: no space left on device", nova.CategoryResource, ""},
		{"Node ip-10-0-1-2 DiskPressure", nova.CategoryResource, ""},
		{"Inode usage 98% on /var", nova.CategoryResource, ""},
		{"x509: certificate has expired or is not yet valid", nova.CategoryCertificate, ""},
		{"TLS handshake error from 10.0.0.4", nova.CategoryCertificate, ""},
		{"dial tcp 10.0.3.4:5432: connect: connection refused", nova.CategoryDependency, ""},
		{"upstream connect error: no healthy upstream", nova.CategoryDependency, ""},
		{"lookup payments.internal: no such host (NXDOMAIN)", nova.CategoryInfrastructure, ""},
		{"CoreDNS SERVFAIL rate high", nova.CategoryInfrastructure, ""},
		{"KubeNodeNotReady: node worker-3 NotReady", nova.CategoryInfrastructure, ""},
		{"kubelet: PLEG is not healthy", nova.CategoryInfrastructure, ""},
		{"Replication lag 340 seconds on replica db-2", nova.CategoryData, ""},
		{"Migration failed: duplicate key value violates unique constraint", nova.CategoryData, ""},
		{"HTTP 429 Too Many Requests from partner API", nova.CategoryTraffic, ""},
		{"KubeHpaMaxedOut: frontend", nova.CategoryTraffic, ""},
		{"Consumer lag on topic orders above 50000", nova.CategoryTraffic, nova.CategoryDependency},
		{"FATAL: too many connections for role app", nova.CategoryResource, ""},
		{"InsufficientInstanceCapacity launching m5.large", nova.CategoryInfrastructure, ""},
		{"CPU throttling high on recommendation", nova.CategoryResource, ""},
	}
	for _, tt := range tests {
		in := Input{Incident: nova.Incident{ID: "Q1", Title: tt.alert}}
		res := Analyze(in, Options{AbstainBelow: -1}, now0)
		top := res.Top()
		if top == nil || (top.Category != tt.want && top.Category != tt.or) {
			t.Errorf("%q: top = %v, want %s", tt.alert, describeTop(res), tt.want)
		}
	}
}

func TestSignatureCatalogIsWellFormed(t *testing.T) {
	known := map[string]bool{}
	for _, tp := range topicWords {
		known[tp] = true
	}
	names := map[string]bool{}
	for _, s := range defaultSignatures {
		if s.Name == "" || names[s.Name] {
			t.Errorf("signature %q: empty or duplicate name", s.Name)
		}
		names[s.Name] = true
		if s.Describe == "" {
			t.Errorf("signature %s: no description for headlines", s.Name)
		}
		if s.Topic != "" && !known[s.Topic] {
			t.Errorf("signature %s: topic %q is not in topicWords", s.Name, s.Topic)
		}
		if s.ChangeAffinity < 0 || s.ChangeAffinity > 1 {
			t.Errorf("signature %s: change affinity %v out of [0,1]", s.Name, s.ChangeAffinity)
		}
		for c, w := range s.Weights {
			if !validCategory(c) || c == nova.CategoryChange || w <= 0 || w > 1 {
				t.Errorf("signature %s: weight %s=%v", s.Name, c, w)
			}
		}
		if c, _ := s.bestCategory(); c == nova.CategoryUnknown {
			t.Errorf("signature %s points at no category", s.Name)
		}
	}
	if len(compiledDefaults) != len(defaultSignatures) {
		t.Errorf("%d of %d signatures compile", len(compiledDefaults), len(defaultSignatures))
	}
}

func TestDefaultSignaturesIsACopy(t *testing.T) {
	sigs := DefaultSignatures()
	sigs[0].Weights[nova.CategoryData] = 1
	sigs[0].Pattern = "changed"
	if defaultSignatures[0].Weights[nova.CategoryData] != 0 || defaultSignatures[0].Pattern == "changed" {
		t.Fatal("DefaultSignatures exposes the built-in table")
	}
}

func TestCustomSignaturesExtendAndBadOnesAreSkipped(t *testing.T) {
	sigs := append(DefaultSignatures(),
		Signature{Name: "broken", Pattern: "([", Weights: map[nova.Category]float64{nova.CategoryData: 0.9}},
		Signature{Name: "ledger", Pattern: `ledger imbalance`, Weights: map[nova.Category]float64{nova.CategoryData: 0.7}, Describe: "ledger imbalance"})
	in := Input{Incident: nova.Incident{ID: "Q1", Title: "Ledger imbalance detected in batch 42"}}
	res := Analyze(in, Options{Signatures: sigs}, now0)
	if top := res.Top(); top == nil || top.Category != nova.CategoryData {
		t.Fatalf("custom signature ignored: %v", describeTop(res))
	}
}

// TestBuiltInPatternsHaveHints: every built-in pattern must begin with
// literals the prefilter can look for, or it runs its regular expression on
// every incident's whole text (an alternative that starts with a class,
// "[0-9]+%", loses the hints of the whole signature).
func TestBuiltInPatternsHaveHints(t *testing.T) {
	for _, s := range compiledDefaults {
		if s.hints == nil {
			t.Errorf("signature %s has no literal hints: start each alternative of its pattern with a literal", s.Name)
		}
	}
}

func TestBuiltInPatternsAreLowerCase(t *testing.T) {
	// They are matched against lower-cased text without case folding.
	escape := regexp.MustCompile(`\\[A-Za-z]`) // \S, \b: classes, not letters
	for _, s := range defaultSignatures {
		if p := escape.ReplaceAllString(s.Pattern, ""); p != strings.ToLower(p) {
			t.Errorf("signature %s has upper case in its pattern", s.Name)
		}
	}
}

func TestPrefilterNeverHidesAMatch(t *testing.T) {
	// Every signature, with and without its hints, on texts built from
	// each signature's own vocabulary.
	texts := []string{}
	for _, tt := range []string{"oomkilled", "x509: certificate has expired", "no such host", "\tdeadline exceeded",
		"node worker-1 is notready", "error rate 5xx", "kubehpamaxedout", "503", "connection refused", "consumer lag on topic",
		"the kubelet stopped", "insufficientdbinstancecapacity", "disk read i/o rate", "pods not ready"} {
		texts = append(texts, tt, "prefix "+tt+" suffix", strings.Repeat("x", 50)+tt)
	}
	hinted := 0
	for _, s := range compiledDefaults {
		if s.hints != nil {
			hinted++
		}
		for _, text := range texts {
			if got, want := s.match(text), s.re.MatchString(text); got != want {
				t.Errorf("signature %s on %q: prefiltered %v, regexp %v (hints %q)", s.Name, text, got, want, s.hints)
			}
		}
	}
	if hinted < len(compiledDefaults)/2 {
		t.Errorf("only %d of %d signatures have a prefilter", hinted, len(compiledDefaults))
	}
}

func TestLiteralHints(t *testing.T) {
	tests := []struct {
		pattern string
		want    []string
	}{
		{`x509|tls handshake`, []string{"x509", "tls handshake"}},
		{`\boom\b|out of memory`, []string{"oom", "out of memory"}},
		{`(?:a|b)?c`, nil},
		{`[0-9]+ errors`, nil},
		{`(?i)abc`, nil},
		{`(`, nil},
	}
	for _, tt := range tests {
		got := literalHints(tt.pattern)
		if strings.Join(got, "|") != strings.Join(tt.want, "|") {
			t.Errorf("literalHints(%q) = %q, want %q", tt.pattern, got, tt.want)
		}
	}
}
