package pagerduty

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/novasre/nova"
)

const webhookFixtureDir = "testdata/webhookv3"

// sharedWebhookFixtureDir is the project's reference material, present in
// the development workspace but not in CI; tests that read it skip without it.
const sharedWebhookFixtureDir = "../../shared/fixtures/pagerduty"

// webhookSignatureVector is one published secret/body/signature test vector.
type webhookSignatureVector struct {
	file          string
	secret        string
	body          []byte
	validHeader   string
	invalidHeader string
}

var (
	webhookVectorBodyRE    = regexp.MustCompile(`(?m)^body: exact bytes of (\S+)`)
	webhookVectorValidRE   = regexp.MustCompile(`(?m)^valid header\s+X-PagerDuty-Signature:\s*(\S+)`)
	webhookVectorInvalidRE = regexp.MustCompile(`(?m)^invalid header\s+X-PagerDuty-Signature:\s*(\S+)`)
)

// loadWebhookSignatureVectors parses every *vector*.txt in dir, so a vector added to
// the fixtures is tested without touching this file.
func loadWebhookSignatureVectors(t testing.TB, dir string) []webhookSignatureVector {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*vector*.txt"))
	if err != nil {
		t.Fatal(err)
	}
	var out []webhookSignatureVector
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		text := string(raw)
		v := webhookSignatureVector{file: f}
		// The secret is the line after the "secret ..." heading.
		lines := strings.Split(text, "\n")
		for i, l := range lines {
			if strings.HasPrefix(l, "secret") && i+1 < len(lines) {
				v.secret = strings.TrimSpace(lines[i+1])
				break
			}
		}
		m := webhookVectorBodyRE.FindStringSubmatch(text)
		if v.secret == "" || m == nil {
			t.Fatalf("%s: cannot find secret and body file", f)
		}
		if v.body, err = os.ReadFile(filepath.Join(dir, m[1])); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if m := webhookVectorValidRE.FindStringSubmatch(text); m != nil {
			v.validHeader = m[1]
		}
		if m := webhookVectorInvalidRE.FindStringSubmatch(text); m != nil {
			v.invalidHeader = m[1]
		}
		if v.validHeader == "" {
			t.Fatalf("%s: no valid header found", f)
		}
		out = append(out, v)
	}
	return out
}

func TestVerifySignatureVectors(t *testing.T) {
	dirs := []string{webhookFixtureDir}
	if _, err := os.Stat(sharedWebhookFixtureDir); err == nil {
		dirs = append(dirs, sharedWebhookFixtureDir)
	}
	for _, dir := range dirs {
		vectors := loadWebhookSignatureVectors(t, dir)
		if len(vectors) == 0 {
			t.Fatalf("no signature vectors in %s", dir)
		}
		for _, v := range vectors {
			t.Run(v.file, func(t *testing.T) {
				if err := VerifySignature(v.body, v.validHeader, []string{v.secret}); err != nil {
					t.Errorf("valid signature refused: %v", err)
				}
				if v.invalidHeader != "" {
					err := VerifySignature(v.body, v.invalidHeader, []string{v.secret})
					if !nova.IsCode(err, nova.EUNAUTHORIZED) {
						t.Errorf("invalid signature: got %v, want %s", err, nova.EUNAUTHORIZED)
					}
				}
				// One changed byte of the body must break the signature.
				tampered := append([]byte(nil), v.body...)
				tampered[len(tampered)/2] ^= 1
				if err := VerifySignature(tampered, v.validHeader, []string{v.secret}); !nova.IsCode(err, nova.EUNAUTHORIZED) {
					t.Errorf("tampered body: got %v, want %s", err, nova.EUNAUTHORIZED)
				}
			})
		}
	}
}

// TestWebhookFixturesMatchShared guards the copies in testdata against drift.
func TestWebhookFixturesMatchShared(t *testing.T) {
	if _, err := os.Stat(sharedWebhookFixtureDir); err != nil {
		t.Skip("shared fixtures not present")
	}
	shared, _ := filepath.Glob(filepath.Join(sharedWebhookFixtureDir, "webhook*"))
	more, _ := filepath.Glob(filepath.Join(sharedWebhookFixtureDir, "*webhookv3_test*"))
	for _, f := range append(shared, more...) {
		if strings.Contains(f, "webhook_subscription") {
			continue // REST fixtures, not deliveries
		}
		want, _ := os.ReadFile(f)
		got, err := os.ReadFile(filepath.Join(webhookFixtureDir, filepath.Base(f)))
		if err != nil || string(got) != string(want) {
			t.Errorf("%s: testdata copy missing or different (%v)", filepath.Base(f), err)
		}
	}
}

// signWebhook returns the v1 signature PagerDuty would send for body.
func signWebhook(body []byte, secret string) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(body)
	return "v1=" + hex.EncodeToString(mac.Sum(nil))
}

func TestVerifySignature(t *testing.T) {
	body := []byte(`{"event":{"id":"E1","event_type":"incident.triggered"}}`)
	oldSig, newSig := signWebhook(body, "old-secret"), signWebhook(body, "new-secret")
	tests := []struct {
		name    string
		header  string
		secrets []string
		code    string // "" for success
	}{
		{"one signature", newSig, []string{"new-secret"}, ""},
		{"rotation: old secret still listed", oldSig, []string{"new-secret", "old-secret"}, ""},
		{"rotation: new secret", newSig, []string{"new-secret", "old-secret"}, ""},
		{"two signatures, second matches", oldSig + "," + newSig, []string{"new-secret"}, ""},
		{"two signatures, first matches", newSig + "," + oldSig, []string{"new-secret"}, ""},
		{"spaces around entries", "  " + oldSig + " ,  " + newSig + "  ", []string{"new-secret"}, ""},
		{"upper-case hex", "v1=" + strings.ToUpper(strings.TrimPrefix(newSig, "v1=")), []string{"new-secret"}, ""},
		{"other versions ignored", "v0=abcd," + newSig + ",v2=" + strings.TrimPrefix(oldSig, "v1="), []string{"new-secret"}, ""},
		{"bad hex entry ignored", "v1=zz," + newSig, []string{"new-secret"}, ""},
		{"blank secret skipped", newSig, []string{"", "new-secret"}, ""},
		{"wrong secret", newSig, []string{"other"}, nova.EUNAUTHORIZED},
		{"signature of another body", signWebhook([]byte("x"), "new-secret"), []string{"new-secret"}, nova.EUNAUTHORIZED},
		{"no secrets", newSig, nil, nova.EUNAUTHORIZED},
		{"only blank secrets", signWebhook(body, ""), []string{""}, nova.EUNAUTHORIZED},
		{"empty header", "", []string{"new-secret"}, nova.EINVALID},
		{"only commas", " , ,", []string{"new-secret"}, nova.EINVALID},
		{"empty v1", "v1=", []string{"new-secret"}, nova.EINVALID},
		{"no version prefix", strings.TrimPrefix(newSig, "v1="), []string{"new-secret"}, nova.EINVALID},
		{"only other versions", "v2=" + strings.TrimPrefix(newSig, "v1="), []string{"new-secret"}, nova.EINVALID},
		{"truncated hex", newSig[:len(newSig)-2], []string{"new-secret"}, nova.EINVALID},
		{"odd-length hex", newSig + "0", []string{"new-secret"}, nova.EINVALID},
		{"non-hex digit", newSig[:len(newSig)-1] + "g", []string{"new-secret"}, nova.EINVALID},
		{"header checked before secrets", "", nil, nova.EINVALID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := VerifySignature(body, tt.header, tt.secrets)
			if got := nova.ErrorCode(err); got != tt.code {
				t.Fatalf("code = %q (%v), want %q", got, err, tt.code)
			}
			if err == nil {
				return
			}
			if _, ok := errors.AsType[*nova.Error](err); !ok {
				t.Errorf("error is %T, want *nova.Error", err)
			}
			msg := err.Error()
			for _, secret := range append(tt.secrets, "old-secret", "new-secret") {
				if secret != "" && strings.Contains(msg, secret) {
					t.Errorf("error %q reveals a secret", msg)
				}
			}
			if len(tt.header) > 16 && strings.Contains(msg, strings.TrimSpace(tt.header)) {
				t.Errorf("error %q echoes the signature header", msg)
			}
		})
	}
}

func TestVerifySignatureMessage(t *testing.T) {
	body := []byte("{}")
	err := VerifySignature(body, signWebhook(body, "a"), []string{"b"})
	if got := nova.ErrorMessage(err); got != "invalid webhook signature" {
		t.Errorf("message = %q, want %q", got, "invalid webhook signature")
	}
}

func TestParseSignatureHeaderLimit(t *testing.T) {
	// A hostile header with many entries is cut at webhookSignatureMax, and
	// a match beyond the cap is not considered.
	body := []byte("{}")
	junk := strings.Repeat("v1="+strings.Repeat("0", 64)+",", webhookSignatureMax)
	if got := len(parseSignatureHeader(junk+signWebhook(body, "s"), nil)); got != webhookSignatureMax {
		t.Errorf("parsed %d signatures, want %d", got, webhookSignatureMax)
	}
	if err := VerifySignature(body, junk+signWebhook(body, "s"), []string{"s"}); !nova.IsCode(err, nova.EUNAUTHORIZED) {
		t.Errorf("match beyond the cap: got %v, want %s", err, nova.EUNAUTHORIZED)
	}
}

func TestVerifySignatureAllocations(t *testing.T) {
	body := []byte(`{"event":{}}`)
	header := signWebhook(body, "old") + "," + signWebhook(body, "new")
	secrets := []string{"new", "old"}
	allocs := testing.AllocsPerRun(100, func() {
		if err := VerifySignature(body, header, secrets); err != nil {
			t.Fatal(err)
		}
	})
	// hmac.New allocates a few objects per secret; parsing allocates nothing.
	if allocs > 20 {
		t.Errorf("VerifySignature allocates %.0f objects per call", allocs)
	}
}
