package slack

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/novasre/nova"
)

// fixtures are copies of the shared Slack vectors, so these tests never
// skip; sharedFixtures is checked for drift when it is present.
const (
	fixtures       = "testdata/vectors"
	sharedFixtures = "../../shared/fixtures/slack"
)

type vector struct {
	Secret    string `json:"signing_secret"`
	Timestamp string `json:"X-Slack-Request-Timestamp"`
	Signature string `json:"X-Slack-Signature"`
	BodyFile  string `json:"body_file"`
}

func loadVector(t *testing.T, name string) (vector, []byte) {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(fixtures, name))
	if err != nil {
		t.Fatal(err)
	}
	var v vector
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatal(err)
	}
	body, err := os.ReadFile(filepath.Join(fixtures, v.BodyFile))
	if err != nil {
		t.Fatal(err)
	}
	return v, body
}

func header(ts, sig string) http.Header {
	h := http.Header{}
	if ts != "" {
		h.Set(HeaderTimestamp, ts)
	}
	if sig != "" {
		h.Set(HeaderSignature, sig)
	}
	return h
}

// TestPublishedVectors checks Sign and VerifyRequest against Slack's
// documented example and slack-go's test vector, with "now" set near the
// vectors' 2018 timestamps.
func TestPublishedVectors(t *testing.T) {
	for _, name := range []string{"signing_docs_vector.json", "signing_slackgo_test_vector.json"} {
		t.Run(name, func(t *testing.T) {
			v, body := loadVector(t, name)
			ts, _ := strconv.ParseInt(v.Timestamp, 10, 64)
			if got := Sign(v.Secret, ts, body); got != v.Signature {
				t.Fatalf("Sign = %s, want %s", got, v.Signature)
			}
			now := time.Unix(ts, 0).Add(42 * time.Second)
			if err := VerifyRequest(v.Secret, header(v.Timestamp, v.Signature), body, now); err != nil {
				t.Fatalf("VerifyRequest: %v", err)
			}
			tampered := append([]byte{}, body...)
			tampered[len(tampered)-1] ^= 1
			if err := VerifyRequest(v.Secret, header(v.Timestamp, v.Signature), tampered, now); !nova.IsCode(err, nova.EUNAUTHORIZED) {
				t.Fatalf("tampered body: %v, want unauthorized", err)
			}
		})
	}
}

func TestVerifyRequestRefusals(t *testing.T) {
	const secret = "s3cret"
	body := []byte("command=%2Fnova&text=help")
	base := time.Unix(1_700_000_000, 0)
	ts := strconv.FormatInt(base.Unix(), 10)
	good := Sign(secret, base.Unix(), body)
	tests := []struct {
		name   string
		secret string
		h      http.Header
		now    time.Time
		code   string
	}{
		{"valid", secret, header(ts, good), base, ""},
		{"4m59s late is fine", secret, header(ts, good), base.Add(4*time.Minute + 59*time.Second), ""},
		{"4m59s early is fine", secret, header(ts, good), base.Add(-4*time.Minute - 59*time.Second), ""},
		{"6 minutes old", secret, header(ts, good), base.Add(6 * time.Minute), nova.EUNAUTHORIZED},
		{"6 minutes in the future", secret, header(ts, good), base.Add(-6 * time.Minute), nova.EUNAUTHORIZED},
		{"absurd timestamp", secret, header("-9223372036854775808", good), base, nova.EUNAUTHORIZED},
		{"wrong secret", "other", header(ts, good), base, nova.EUNAUTHORIZED},
		{"empty secret", "", header(ts, Sign("", base.Unix(), body)), base, nova.EUNAUTHORIZED},
		{"v1 signature", secret, header(ts, "v1="+good[3:]), base, nova.EUNAUTHORIZED},
		{"uppercase hex", secret, header(ts, "v0="+string(upper(good[3:]))), base, nova.EUNAUTHORIZED},
		{"missing signature", secret, header(ts, ""), base, nova.EINVALID},
		{"missing timestamp", secret, header("", good), base, nova.EINVALID},
		{"malformed timestamp", secret, header("12abc", good), base, nova.EINVALID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := VerifyRequest(tt.secret, tt.h, body, tt.now)
			if got := nova.ErrorCode(err); got != tt.code {
				t.Fatalf("code = %q (%v), want %q", got, err, tt.code)
			}
			if err != nil && tt.secret != "" && containsAny(err.Error(), tt.secret, good) {
				t.Fatalf("error leaks the secret or signature: %v", err)
			}
		})
	}
}

func upper(s string) []byte {
	b := []byte(s)
	for i, c := range b {
		if c >= 'a' && c <= 'f' {
			b[i] = c - 'a' + 'A'
		}
	}
	return b
}

func TestVectorsMatchSharedFixtures(t *testing.T) {
	for _, name := range []string{"signing_docs_vector.json", "signing_docs_vector_body.txt",
		"signing_slackgo_test_vector.json", "signing_slackgo_test_vector_body.json"} {
		shared, err := os.ReadFile(filepath.Join(sharedFixtures, name))
		if err != nil {
			t.Skipf("shared fixtures not beside the repository: %v", err)
		}
		ours, err := os.ReadFile(filepath.Join(fixtures, name))
		if err != nil {
			t.Fatal(err)
		}
		if string(ours) != string(shared) {
			t.Errorf("testdata/vectors/%s differs from the shared fixture", name)
		}
	}
}
