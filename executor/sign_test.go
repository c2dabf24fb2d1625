package executor

import (
	"encoding/hex"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/novasre/nova"
)

var signedAt = time.Date(2025, 3, 4, 10, 0, 0, 0, time.UTC)

// signed returns headers for body as Nova would send them at signedAt.
func signed(body []byte) http.Header {
	h := http.Header{}
	h.Set(HeaderTimestamp, strconv.FormatInt(signedAt.Unix(), 10))
	h.Set(HeaderSignature, Sign(testSecret, signedAt.Unix(), body))
	return h
}

// TestSignKnownVector pins the scheme to a value computed independently
// with openssl (the docs' shell example):
//
//	printf '%s' '1741082400.{"action":"restart"}' | openssl dgst -sha256 -hmac test-secret-0123456789abcdef
func TestSignKnownVector(t *testing.T) {
	got := Sign(testSecret, 1741082400, []byte(`{"action":"restart"}`))
	want := "v1=a5417555f6afaa9dcb5400581c4c4f80a14e1d5fa7b0b047c1afe0a80d7c8191"
	if got != want {
		t.Fatalf("Sign = %s, want %s", got, want)
	}
}

func TestVerifySignature(t *testing.T) {
	body := []byte(`{"action":"restart","params":{"namespace":"checkout"}}`)
	tests := []struct {
		name    string
		header  func() http.Header
		body    []byte
		secret  string
		now     time.Time
		tol     time.Duration
		wantErr string // "" means genuine
	}{
		{"genuine", func() http.Header { return signed(body) }, body, testSecret, signedAt, 0, ""},
		{"at the edge of the default tolerance", func() http.Header { return signed(body) }, body, testSecret, signedAt.Add(5 * time.Minute), 0, ""},
		{"sender clock ahead", func() http.Header { return signed(body) }, body, testSecret, signedAt.Add(-5 * time.Minute), 0, ""},
		{"several values, one matching", func() http.Header {
			h := signed(body)
			h.Set(HeaderSignature, "v0=abc, v1=deadbeef ,"+h.Get(HeaderSignature)+",v2=xyz")
			return h
		}, body, testSecret, signedAt, 0, ""},
		{"repeated header", func() http.Header {
			h := signed(body)
			good := h.Get(HeaderSignature)
			h.Set(HeaderSignature, "v1=00")
			h.Add(HeaderSignature, good)
			return h
		}, body, testSecret, signedAt, 0, ""},
		{"tampered body", func() http.Header { return signed(body) }, []byte(strings.Replace(string(body), "checkout", "billing", 1)), testSecret, signedAt, 0, "does not match"},
		{"re-encoded body", func() http.Header { return signed(body) }, append(body, '\n'), testSecret, signedAt, 0, "does not match"},
		{"wrong secret", func() http.Header { return signed(body) }, body, "another-secret-0123456789", signedAt, 0, "does not match"},
		{"old timestamp", func() http.Header { return signed(body) }, body, testSecret, signedAt.Add(5*time.Minute + time.Second), 0, "5m1s away"},
		{"far future timestamp", func() http.Header { return signed(body) }, body, testSecret, signedAt.Add(-time.Hour), 0, "1h0m0s away"},
		{"custom tolerance", func() http.Header { return signed(body) }, body, testSecret, signedAt.Add(2 * time.Minute), time.Minute, "more than the 1m0s tolerance"},
		{"timestamp moved, signature kept", func() http.Header {
			h := signed(body)
			h.Set(HeaderTimestamp, strconv.FormatInt(signedAt.Unix()+60, 10))
			return h
		}, body, testSecret, signedAt, 0, "does not match"},
		{"missing timestamp", func() http.Header { h := signed(body); h.Del(HeaderTimestamp); return h }, body, testSecret, signedAt, 0, "missing X-Nova-Timestamp"},
		{"timestamp in milliseconds", func() http.Header {
			h := signed(body)
			h.Set(HeaderTimestamp, strconv.FormatInt(signedAt.UnixMilli(), 10))
			return h
		}, body, testSecret, signedAt, 0, "away from this server's clock"},
		{"timestamp not a number", func() http.Header { h := signed(body); h.Set(HeaderTimestamp, "yesterday"); return h }, body, testSecret, signedAt, 0, "not a unix time"},
		{"missing signature", func() http.Header { h := signed(body); h.Del(HeaderSignature); return h }, body, testSecret, signedAt, 0, "missing X-Nova-Signature"},
		{"unversioned signature", func() http.Header {
			h := signed(body)
			h.Set(HeaderSignature, strings.TrimPrefix(h.Get(HeaderSignature), "v1="))
			return h
		}, body, testSecret, signedAt, 0, "with a v1= signature"},
		{"not hex", func() http.Header { h := signed(body); h.Set(HeaderSignature, "v1=zz"); return h }, body, testSecret, signedAt, 0, "does not match"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := VerifySignature(tt.secret, tt.header(), tt.body, tt.now, tt.tol)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("VerifySignature = %v, want nil", err)
				}
				return
			}
			if !nova.IsCode(err, nova.EUNAUTHORIZED) || !strings.Contains(nova.ErrorMessage(err), tt.wantErr) {
				t.Fatalf("VerifySignature = %v, want EUNAUTHORIZED containing %q", err, tt.wantErr)
			}
			if want := Sign(tt.secret, signedAt.Unix(), tt.body); strings.Contains(err.Error(), strings.TrimPrefix(want, "v1=")) {
				t.Errorf("the error reveals the expected signature")
			}
		})
	}
	if err := VerifySignature("", signed(body), body, signedAt, 0); !nova.IsCode(err, nova.EINVALID) {
		t.Errorf("no secret: %v, want EINVALID", err)
	}
}

// FuzzVerifySignature feeds arbitrary headers and bodies: it must never
// panic, and must accept only what Sign produced for exactly that body.
func FuzzVerifySignature(f *testing.F) {
	f.Add("1741082400", "v1=00", []byte(`{}`))
	f.Add("1741082400", Sign(testSecret, 1741082400, []byte(`{}`)), []byte(`{}`))
	f.Add("+1741082400", ",,v1=,=,v1", []byte{0xff, 0x00})
	f.Add("-9223372036854775808", "v1="+strings.Repeat("0", 64), []byte(nil))
	f.Fuzz(func(t *testing.T, ts, sig string, body []byte) {
		h := http.Header{}
		h.Set(HeaderTimestamp, ts)
		h.Set(HeaderSignature, sig)
		now := time.Unix(1741082400, 0)
		if VerifySignature(testSecret, h, body, now, 0) != nil {
			return
		}
		// Accepted: the timestamp must be close and the signature genuine.
		sec, err := strconv.ParseInt(strings.TrimSpace(ts), 10, 64)
		if err != nil || now.Sub(time.Unix(sec, 0)).Abs() > DefaultTolerance {
			t.Fatalf("accepted timestamp %q", ts)
		}
		want := hex.EncodeToString(mac(testSecret, strings.TrimSpace(ts), body))
		if !strings.Contains(strings.ToLower(sig), want) {
			t.Fatalf("accepted signature %q for body %q", sig, body)
		}
	})
}
