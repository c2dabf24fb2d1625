package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/novasre/nova"
)

// rawGet sends one GET on a fresh connection and returns the status code
// (0 when the server closed the connection without answering).
func rawGet(t *testing.T, base, path string, header map[string]string) (int, string) {
	t.Helper()
	conn, err := net.DialTimeout("tcp", strings.TrimPrefix(base, "http://"), 2*time.Second)
	if err != nil {
		return 0, err.Error()
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
	var b strings.Builder
	fmt.Fprintf(&b, "GET %s HTTP/1.1\r\nHost: nova\r\n", path)
	for k, v := range header {
		fmt.Fprintf(&b, "%s: %s\r\n", k, v)
	}
	b.WriteString("Connection: close\r\n\r\n")
	if _, err := io.WriteString(conn, b.String()); err != nil {
		return 0, err.Error()
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// slowConn opens a connection and sends half a request header, the way a
// slowloris client holds a connection open.
func slowConn(t *testing.T, base string) net.Conn {
	t.Helper()
	conn, err := net.DialTimeout("tcp", strings.TrimPrefix(base, "http://"), 2*time.Second)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	if _, err := io.WriteString(conn, "GET /api/v1/audit HTTP/1.1\r\nHost: nova\r\nX-Slow: "); err != nil {
		t.Fatalf("write: %v", err)
	}
	return conn
}

// closedByServer reports whether the server closed conn within wait.
func closedByServer(conn net.Conn, wait time.Duration) bool {
	_ = conn.SetReadDeadline(time.Now().Add(wait))
	_, err := conn.Read(make([]byte, 1))
	var ne net.Error
	return err != nil && !(errors.As(err, &ne) && ne.Timeout())
}

// TestRedTeam8_SlowConnectionFloodKeepsHealthAnswering: 20,000 slow
// connections exhausted file descriptors and stopped /healthz. Each
// listener now holds at most max_connections, keeps reserved slots for
// health checks, and closes anything beyond at once.
func TestRedTeam8_SlowConnectionFloodKeepsHealthAnswering(t *testing.T) {
	const maxConns, reserved = 40, 4
	h := newHarness(t, harnessOptions{ExtraYAML: fmt.Sprintf("http: { max_connections: %d, reserved_connections: %d, read_header_timeout: 4s }\n", maxConns, reserved)})
	in := h.start()
	var held []net.Conn
	defer func() {
		for _, c := range held {
			c.Close()
		}
	}()
	for range maxConns {
		held = append(held, slowConn(t, in.url))
	}
	// At the cap: anything but a health check is turned away with 503...
	h.eventually(3*time.Second, "the listener to be full", func() bool {
		code, _ := rawGet(t, in.url, "/api/v1/audit", map[string]string{"Authorization": "Bearer " + h.adminKey})
		return code == http.StatusServiceUnavailable
	})
	// ...while health checks still answer.
	for _, path := range []string{"/healthz", "/readyz"} {
		start := time.Now()
		if code, body := rawGet(t, in.url, path, nil); code != 200 || time.Since(start) > 2*time.Second {
			t.Errorf("%s at the cap: %d %q after %s", path, code, body, time.Since(start))
		}
	}
	// A flood beyond cap and reserve is closed at once, holding no descriptor.
	var extra []net.Conn
	for range 200 {
		extra = append(extra, slowConn(t, in.url))
	}
	held = append(held, extra...)
	closed := 0
	for _, c := range extra {
		if closedByServer(c, 300*time.Millisecond) {
			closed++
		}
	}
	if closed < len(extra)-reserved {
		t.Errorf("%d of %d connections beyond the cap were closed at once, want at least %d", closed, len(extra), len(extra)-reserved)
	}
	// Slow clients in reserved slots are cut off quickly, so health
	// checks get through again within seconds even under the flood.
	h.eventually(5*time.Second, "/healthz to answer under the flood", func() bool {
		code, _ := rawGet(t, in.url, "/healthz", nil)
		return code == 200
	})
	// The slow clients holding normal slots are cut off by
	// read_header_timeout, and service resumes without intervention.
	h.eventually(10*time.Second, "the API to serve again after the slow clients timed out", func() bool {
		code, _ := httpGet(t, in.url+"/api/v1/audit", h.adminKey)
		return code == 200
	})
	if n := metricValue(t, in.url, "nova_http_connections_refused_total"); n < float64(len(extra)-reserved) {
		t.Errorf("nova_http_connections_refused_total = %v", n)
	}
}

// TestRedTeam8_OversizedHeadersGet431: 800 × 1 MiB headers grew Nova by
// 590 MB; headers are now capped at http.max_header_bytes (64 KiB).
func TestRedTeam8_OversizedHeadersGet431(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	in := h.start()
	if code, _ := rawGet(t, in.url, "/healthz", map[string]string{"X-Pad": strings.Repeat("a", 32<<10)}); code != 200 {
		t.Errorf("a 32 KiB header: %d, want 200", code)
	}
	for _, size := range []int{100 << 10, 900 << 10} {
		if code, _ := rawGet(t, in.url, "/healthz", map[string]string{"X-Pad": strings.Repeat("a", size)}); code != http.StatusRequestHeaderFieldsTooLarge {
			t.Errorf("a %d KiB header: %d, want 431", size>>10, code)
		}
	}
}

// TestRedTeam8_RefusedCommandAuditIsBounded: 60 kB refused commands were
// stored whole, 300 in 0.7 s (+20 MB). A refusal's detail is now cut to 512
// bytes and each kind of refusal gets 30 entries a minute, the rest counted.
func TestRedTeam8_RefusedCommandAuditIsBounded(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	in := h.start()
	junk := strings.Repeat("a", 60_000)
	const sent = 45
	for i := range sent {
		reply := h.slash(in, "prod", "U0MALLORY", "C0CHECKOUT", fmt.Sprintf("frobnicate%d %s", i, junk))
		if !strings.Contains(reply, "unknown command") {
			t.Fatalf("reply: %.200s", reply)
		}
	}
	h.clock.Advance(time.Minute)
	h.slash(in, "prod", "U0MALLORY", "C0CHECKOUT", "frobnicate-again "+junk)
	entries := auditEntries(t, in, h.adminKey)
	refusals, total := 0, 0
	summary := ""
	for _, e := range entries {
		b, _ := json.Marshal(e)
		total += len(b)
		if !strings.HasPrefix(e.Action, "command.") || e.Outcome != nova.OutcomeRefused {
			continue
		}
		refusals++
		if len(e.Detail) > 512 {
			t.Errorf("a refusal's detail holds %d bytes, want ≤ 512", len(e.Detail))
		}
		if strings.Contains(e.Detail, "more command refusals not audited") {
			summary = e.Detail
		}
	}
	if refusals != 31 {
		t.Errorf("%d command refusals audited for %d sent over two minutes, want 30 + 1", refusals, sent+1)
	}
	if !strings.Contains(summary, fmt.Sprintf("and %d more command refusals", sent-30)) {
		t.Errorf("the next minute's entry does not count the %d left out: %q", sent-30, summary)
	}
	if total > 64<<10 {
		t.Errorf("the audit log holds %d bytes after %d refused 60 kB commands", total, sent+1)
	}
}

// auditEntries reads the whole audit log through the API.
func auditEntries(t *testing.T, in *instance, key string) []nova.AuditEntry {
	t.Helper()
	code, body := httpGet(t, in.url+"/api/v1/audit?limit=1000", key)
	if code != 200 {
		t.Fatalf("audit: %d %s", code, body)
	}
	var got struct {
		Entries []nova.AuditEntry `json:"entries"`
	}
	if err := json.Unmarshal([]byte(body), &got); err != nil {
		t.Fatal(err)
	}
	return got.Entries
}

// TestRedTeam8_APIKeyGuessingThrottled: 2,000 API-key guesses went through
// in 0.6 s. A client address now gets 10 failures a minute, then 429 with
// Retry-After (its keys are not even looked at), audited once per episode.
func TestRedTeam8_APIKeyGuessingThrottled(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	in := h.start()
	url := in.url + "/api/v1/audit"
	for i := range 10 {
		if code, _ := httpGet(t, url, fmt.Sprintf("guess-%024d", i)); code != 401 {
			t.Fatalf("guess %d: %d, want 401", i, code)
		}
	}
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	req.Header.Set("Authorization", "Bearer guess-11")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	retry, _ := strconv.Atoi(resp.Header.Get("Retry-After"))
	if resp.StatusCode != http.StatusTooManyRequests || retry < 1 || retry > 60 {
		t.Fatalf("the 11th guess: %d Retry-After %q, want 429 with a wait", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	for range 50 {
		if code, _ := httpGet(t, url, "guess-more-0123456789"); code != http.StatusTooManyRequests {
			t.Fatalf("a guess while throttled: %d, want 429", code)
		}
	}
	// The right key is not looked at either while the address is throttled.
	if code, _ := httpGet(t, url, h.adminKey); code != http.StatusTooManyRequests {
		t.Errorf("the admin key while throttled: %d, want 429", code)
	}
	h.clock.Advance(time.Duration(retry) * time.Second)
	entries := auditEntries(t, in, h.adminKey)
	throttled := 0
	for _, e := range entries {
		if e.Action == "api.request" && strings.Contains(e.Detail, "10 failed authentication attempts") {
			throttled++
		}
	}
	if throttled != 1 {
		t.Errorf("%d audit entries for the throttled client, want one for the episode", throttled)
	}
	if strings.Contains(in.logs.String(), "guess-more") {
		t.Error("a guessed key reached the log")
	}
}

// TestRedTeam12_MetricsProtected: /metrics was open to anyone who could
// reach Nova. metrics.listen moves it (with health checks) to a separate
// address; metrics.bearer_token requires a token.
func TestRedTeam12_MetricsProtected(t *testing.T) {
	t.Run("separate listener with a token", func(t *testing.T) {
		token := "metrics-" + randHex(12)
		h := newHarness(t, harnessOptions{MetricsListen: true, ExtraYAML: ""})
		cfg := strings.Replace(h.configYAML(), `metrics: { listen: "127.0.0.1:0" }`, `metrics: { listen: "127.0.0.1:0", bearer_token: "`+token+`" }`, 1)
		if err := os.WriteFile(h.cfgPath, []byte(cfg), 0o600); err != nil {
			t.Fatal(err)
		}
		in := h.start()
		if code, _ := httpGet(t, in.url+"/metrics", ""); code != 404 {
			t.Errorf("/metrics on the main listener: %d, want 404", code)
		}
		if code, _ := httpGet(t, in.metricsURL+"/metrics", ""); code != 401 {
			t.Errorf("/metrics without the token: %d, want 401", code)
		}
		if code, _ := httpGet(t, in.metricsURL+"/metrics", "wrong-token-0123456789"); code != 401 {
			t.Errorf("/metrics with a wrong token: %d, want 401", code)
		}
		if code, body := httpGet(t, in.metricsURL+"/metrics", token); code != 200 || !strings.Contains(body, "nova_inbox_depth") {
			t.Errorf("/metrics with the token: %d", code)
		}
		for _, p := range []string{"/healthz", "/readyz"} {
			if code, _ := httpGet(t, in.metricsURL+p, ""); code != 200 {
				t.Errorf("%s on the metrics listener: %d", p, code)
			}
			if code, _ := httpGet(t, in.url+p, ""); code != 200 {
				t.Errorf("%s on the main listener: %d", p, code)
			}
		}
	})
	t.Run("token on the main listener", func(t *testing.T) {
		token := "metrics-" + randHex(12)
		h := newHarness(t, harnessOptions{ExtraYAML: "metrics: { bearer_token: \"" + token + "\" }\n"})
		in := h.start()
		if code, _ := httpGet(t, in.url+"/metrics", ""); code != 401 {
			t.Errorf("/metrics without the token: %d, want 401", code)
		}
		if code, body := httpGet(t, in.url+"/metrics", token); code != 200 || !strings.Contains(body, "nova_inbox_depth") {
			t.Errorf("/metrics with the token: %d", code)
		}
	})
}

// TestRedTeam12_ReadyzFullDisk: /readyz said ready with a full disk. It now
// checks the bolt store's filesystem against store.min_free_disk.
func TestRedTeam12_ReadyzFullDisk(t *testing.T) {
	h := newHarness(t, harnessOptions{StoreExtra: ", min_free_disk: 1000TiB"})
	in := h.start()
	code, body := httpGet(t, in.url+"/readyz", "")
	if code != http.StatusServiceUnavailable || !strings.Contains(body, "disk nearly full") || !strings.Contains(body, "store.min_free_disk") {
		t.Errorf("/readyz below the free-space threshold: %d %s", code, body)
	}
	if code, _ := httpGet(t, in.url+"/healthz", ""); code != 200 {
		t.Errorf("/healthz: %d (the process is up)", code)
	}
	h2 := newHarness(t, harnessOptions{})
	if code, body := httpGet(t, h2.start().url+"/readyz", ""); code != 200 {
		t.Errorf("/readyz with the default threshold: %d %s", code, body)
	}
}
