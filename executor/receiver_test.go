package executor

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// verifyNova is the Go example of docs/action-webhooks.md, copied verbatim
// (TestDocsExampleMatchesTestReceiver keeps the two identical). It is
// written from the documented scheme alone and deliberately does not call
// VerifySignature: if Nova's signing and its documentation drift apart,
// the receiver tests below fail.
func verifyNova(secret []byte, r *http.Request, body []byte, now time.Time) bool {
	ts := r.Header.Get("X-Nova-Timestamp")
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || now.Sub(time.Unix(sec, 0)).Abs() > 5*time.Minute {
		return false
	}
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(ts + "."))
	m.Write(body)
	want := m.Sum(nil)
	for _, v := range strings.Split(r.Header.Get("X-Nova-Signature"), ",") {
		sig, ok := strings.CutPrefix(strings.TrimSpace(v), "v1=")
		got, err := hex.DecodeString(sig)
		if ok && err == nil && hmac.Equal(got, want) {
			return true
		}
	}
	return false
}

// received is one request as the test receiver saw it.
type received struct {
	header   http.Header
	body     []byte
	verified bool
	payload  map[string]any
}

// receiver is a documented-scheme receiver: it verifies every request and
// answers with the next scripted handler (the last one repeats).
type receiver struct {
	t      *testing.T
	secret string
	now    func() time.Time
	script []http.HandlerFunc

	mu   sync.Mutex
	seen []received
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		rc.t.Errorf("read body: %v", err)
	}
	got := received{header: r.Header.Clone(), body: body, verified: verifyNova([]byte(rc.secret), r, body, rc.now())}
	if got.verified {
		if err := json.Unmarshal(body, &got.payload); err != nil {
			rc.t.Errorf("body is not JSON: %v", err)
		}
	}
	rc.mu.Lock()
	rc.seen = append(rc.seen, got)
	n := len(rc.seen)
	rc.mu.Unlock()
	if !got.verified {
		http.Error(w, "bad signature", http.StatusUnauthorized)
		return
	}
	rc.script[min(n, len(rc.script))-1](w, r)
}

// requests returns a copy of what the receiver saw so far.
func (rc *receiver) requests() []received {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]received(nil), rc.seen...)
}

// newReceiver starts a loopback receiver that answers with script.
func newReceiver(t *testing.T, clock func() time.Time, script ...http.HandlerFunc) (*receiver, *httptest.Server) {
	t.Helper()
	rc := &receiver{t: t, secret: testSecret, now: clock, script: script}
	srv := httptest.NewServer(rc)
	t.Cleanup(srv.Close)
	return rc, srv
}

// answer returns a handler that replies with status and body.
func answer(status int, body string) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(status)
		io.WriteString(w, body)
	}
}

func TestDocsExampleMatchesTestReceiver(t *testing.T) {
	doc, err := os.ReadFile("../docs/action-webhooks.md")
	if err != nil {
		t.Fatal(err)
	}
	docFn := regexp.MustCompile("(?s)```go\n(func verifyNova.*?\n})\n```").FindSubmatch(doc)
	src, err := os.ReadFile("receiver_test.go")
	if err != nil {
		t.Fatal(err)
	}
	testFn := regexp.MustCompile(`(?s)\n(func verifyNova.*?\n})\n`).FindSubmatch(src)
	if docFn == nil || testFn == nil {
		t.Fatal("verifyNova not found in the docs or in this test")
	}
	if string(docFn[1]) != string(testFn[1]) {
		t.Fatalf("the Go example in docs/action-webhooks.md differs from the receiver the tests use:\n%s\n---\n%s", docFn[1], testFn[1])
	}
	for _, s := range []string{HeaderIdempotencyKey, HeaderTimestamp, HeaderSignature, `timestamp + "." + body`, "v1="} {
		if !strings.Contains(string(doc), s) {
			t.Errorf("docs/action-webhooks.md does not mention %q", s)
		}
	}
}
