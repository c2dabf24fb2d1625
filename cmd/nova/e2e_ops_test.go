package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"go.etcd.io/bbolt"

	"github.com/novasre/nova"
)

// run invokes the nova command line in-process.
func run(t *testing.T, args ...string) (int, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := runMain(context.Background(), args, &out, &errb)
	return code, out.String() + errb.String()
}

// `nova audit verify` passes on a real log and fails, naming the entry,
// after one entry is altered or removed; `nova audit export` writes JSONL.
func TestAuditVerifyAndExport(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	in := h.start()
	inc := h.trigger("PCHECKOUT", "checkout-api: 5xx error rate above 5%")
	h.eventually(10*time.Second, "the note", func() bool { return len(h.novaNotes(inc)) == 1 })
	h.slash(in, "prod", "U0MALLORY", "C0CHECKOUT", "disable checkout") // a refusal is audited too
	h.settle()
	h.stop(in) // bolt is one process: release the file

	code, out := run(t, "audit", "verify", "--config", h.cfgPath)
	if code != 0 || !strings.Contains(out, "audit log OK") {
		t.Fatalf("verify on an untouched log: %d %s", code, out)
	}
	code, out = run(t, "audit", "export", "--config", h.cfgPath, "--since", time.Now().Add(-time.Hour).Format("2006-01-02"), "--format", "jsonl")
	if code != 0 {
		t.Fatalf("export: %d %s", code, out)
	}
	var entries []nova.AuditEntry
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var e nova.AuditEntry
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			t.Fatalf("export line %q: %v", line, err)
		}
		entries = append(entries, e)
	}
	var noteEntry *nova.AuditEntry
	actions := map[string]bool{}
	for i, e := range entries {
		actions[e.Action+"/"+e.Outcome] = true
		if e.Action == "pagerduty.note.hypothesis" {
			noteEntry = &entries[i]
		}
	}
	if noteEntry == nil || noteEntry.PagerDutyRef != h.novaNotes(inc)[0].ID || !strings.Contains(h.novaNotes(inc)[0].Content, noteEntry.ID) {
		t.Fatalf("the note's audit entry does not correlate with the PagerDuty note: %+v", noteEntry)
	}
	for _, want := range []string{"pagerduty.acknowledge/ok", "slack.post.hypothesis/ok", "command.disable/refused"} {
		if !actions[want] {
			t.Errorf("audit log lacks %s; has %v", want, actions)
		}
	}

	target := entries[1]
	tamper(t, h.dir+"/nova.db", func(b *bbolt.Bucket) {
		k, v := seqKey(b, target.Seq)
		var e nova.AuditEntry
		_ = json.Unmarshal(v, &e)
		e.Outcome = "ok-but-edited"
		nv, _ := json.Marshal(e)
		_ = b.Put(k, nv)
	})
	code, out = run(t, "audit", "verify", "--config", h.cfgPath)
	if code != 1 || !strings.Contains(out, target.ID) {
		t.Fatalf("verify after editing %s: %d %s", target.ID, code, out)
	}
	tamper(t, h.dir+"/nova.db", func(b *bbolt.Bucket) { // restore, then remove another entry
		k, _ := seqKey(b, target.Seq)
		nv, _ := json.Marshal(target)
		_ = b.Put(k, nv)
	})
	if code, out := run(t, "audit", "verify", "--config", h.cfgPath); code != 0 {
		t.Fatalf("verify after restoring: %d %s", code, out)
	}
	tamper(t, h.dir+"/nova.db", func(b *bbolt.Bucket) {
		k, _ := seqKey(b, entries[2].Seq)
		_ = b.Delete(k)
	})
	code, out = run(t, "audit", "verify", "--config", h.cfgPath)
	if code != 1 || !strings.Contains(out, entries[3].ID) || !strings.Contains(out, "missing") {
		t.Fatalf("verify after removing an entry: %d %s", code, out)
	}
}

func tamper(t *testing.T, path string, fn func(b *bbolt.Bucket)) {
	t.Helper()
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{Timeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Update(func(tx *bbolt.Tx) error {
		b := tx.Bucket([]byte("audit"))
		if b == nil {
			return fmt.Errorf("no audit bucket")
		}
		fn(b)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}

func seqKey(b *bbolt.Bucket, seq int64) ([]byte, []byte) {
	c := b.Cursor()
	for k, v := c.First(); k != nil; k, v = c.Next() {
		var e nova.AuditEntry
		if json.Unmarshal(v, &e) == nil && e.Seq == seq {
			return k, v
		}
	}
	return nil, nil
}

// Rotating a webhook secret (old and new both configured, then old
// removed, with SIGHUP between) drops no delivery.
func TestWebhookSecretRotationDropsNothing(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	in := h.start()
	old := h.env["prod"].Webhook[0]
	newSecret := "wh-prod-rotated-" + randHex(6)
	var signing atomic.Pointer[[]string] // what PagerDuty signs with right now
	signing.Store(&[]string{old})

	var sent, failed atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			inc := nova.Incident{ID: fmt.Sprintf("QROT%04d", i), Title: "rotation probe", Status: "acknowledged",
				Service: nova.Ref{ID: "PPAYMENTS"}, CreatedAt: time.Now()}
			body := envelope(fmt.Sprintf("evt-rot-%d", i), "incident.acknowledged", inc, time.Now())
			code, resp := post(t, in.url+"/webhooks/pagerduty/prod", body, map[string]string{
				"X-Webhook-Id": fmt.Sprintf("wh-rot-%d", i), "X-PagerDuty-Signature": signature(body, *signing.Load()...)})
			sent.Add(1)
			if code != 202 {
				failed.Add(1)
				t.Errorf("delivery %d answered %d %s", i, code, resp)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}()
	reload := func(secrets ...string) {
		s := h.env["prod"]
		s.Webhook = secrets
		h.env["prod"] = s
		h.writeConfig()
		before := strings.Count(in.logs.String(), "configuration reloaded")
		in.reload <- syscall.SIGHUP
		h.eventually(5*time.Second, "the reload", func() bool { return strings.Count(in.logs.String(), "configuration reloaded") > before })
	}
	time.Sleep(200 * time.Millisecond)
	reload(old, newSecret) // 1. Nova accepts both
	time.Sleep(200 * time.Millisecond)
	signing.Store(&[]string{old, newSecret}) // 2. PagerDuty signs with both during its rotation
	time.Sleep(200 * time.Millisecond)
	signing.Store(&[]string{newSecret}) // 3. PagerDuty signs with the new one only
	time.Sleep(200 * time.Millisecond)
	reload(newSecret) // 4. the old secret is retired
	time.Sleep(200 * time.Millisecond)
	close(stop)
	wg.Wait()
	if sent.Load() < 20 || failed.Load() != 0 {
		t.Fatalf("sent %d deliveries, %d failed", sent.Load(), failed.Load())
	}
	inc := nova.Incident{ID: "QROTOLD", Service: nova.Ref{ID: "PPAYMENTS"}, CreatedAt: time.Now()}
	body := envelope("evt-rot-old", "incident.acknowledged", inc, time.Now())
	if code, _ := post(t, in.url+"/webhooks/pagerduty/prod", body, map[string]string{"X-Webhook-Id": "wh-rot-old",
		"X-PagerDuty-Signature": signature(body, old)}); code != 401 {
		t.Errorf("a delivery signed with the retired secret answered %d, want 401", code)
	}
	t.Logf("%d deliveries across the rotation, none refused", sent.Load())
}

// Nova's API needs a key of the right scope; keys rotate on reload.
func TestAPIKeysAndScopes(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	in := h.start()
	inc := h.trigger("PCHECKOUT", "checkout-api: 5xx error rate above 5%")
	h.eventually(10*time.Second, "the note", func() bool { return len(h.novaNotes(inc)) == 1 })
	url := in.url + "/api/v1/incidents/" + inc
	// PagerDuty holds the note a moment before Nova records its id.
	h.eventually(10*time.Second, "the note id in Nova's record", func() bool {
		_, body := httpGet(t, url, h.readKey)
		return strings.Contains(body, `"note_id"`)
	})
	cases := []struct {
		name, url, key string
		status         int
	}{
		{"read key reads incidents", url, h.readKey, 200},
		{"no key", url, "", 401},
		{"wrong key", url, "read-" + strings.Repeat("0", 24), 401},
		{"read key cannot read the audit log", in.url + "/api/v1/audit", h.readKey, 403},
		{"admin key reads the audit log", in.url + "/api/v1/audit", h.adminKey, 200},
		{"unknown incident", in.url + "/api/v1/incidents/QNOPE", h.readKey, 404},
		{"malformed id", in.url + "/api/v1/incidents/..%2f..", h.readKey, 404},
	}
	for _, c := range cases {
		if code, body := httpGet(t, c.url, c.key); code != c.status {
			t.Errorf("%s: %d %s, want %d", c.name, code, body, c.status)
		}
	}
	_, body := httpGet(t, url, h.readKey)
	var got map[string]any
	if err := json.Unmarshal([]byte(body), &got); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"abstained", "hypotheses", "checked", "not_checked", "elapsed_ms", "triggered_at", "hypothesis_at", "note_id"} {
		if _, ok := got[k]; !ok {
			t.Errorf("incident JSON lacks %q: %s", k, body)
		}
	}
	hyps, _ := got["hypotheses"].([]any)
	if len(hyps) == 0 {
		t.Fatalf("no hypotheses: %s", body)
	}
	first := hyps[0].(map[string]any)
	for _, k := range []string{"rank", "summary", "category", "confidence", "evidence", "suggestions"} {
		if _, ok := first[k]; !ok {
			t.Errorf("hypothesis lacks %q", k)
		}
	}
	// Rotate the read key: the old one stops working at once.
	oldKey := h.readKey
	h.readKey = "read-rotated-" + randHex(8)
	h.writeConfig()
	before := strings.Count(in.logs.String(), "configuration reloaded")
	in.reload <- syscall.SIGHUP
	h.eventually(5*time.Second, "the reload", func() bool { return strings.Count(in.logs.String(), "configuration reloaded") > before })
	if code, _ := httpGet(t, url, oldKey); code != 401 {
		t.Errorf("old key after rotation: %d, want 401", code)
	}
	if code, _ := httpGet(t, url, h.readKey); code != 200 {
		t.Errorf("new key after rotation: %d, want 200", code)
	}
}

// `nova keys status` lists every credential's age, never its value, and
// reports a key older than 90 days as due (exit 1).
func TestKeysStatus(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	fresh, stale := time.Now().AddDate(0, 0, -10).Format("2006-01-02"), time.Now().AddDate(0, 0, -120).Format("2006-01-02")
	cfg := strings.Replace(h.configYAML(), "token_created: 2026-10-01", "token_created: "+stale, 1)
	cfg = strings.Replace(cfg, "scope: read, created: 2026-10-01", "scope: read, created: "+fresh, 1)
	if err := os.WriteFile(h.cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out := run(t, "keys", "status", "--config", h.cfgPath)
	if code != 1 { // a due key fails the command, for cron and CI
		t.Fatalf("%d %s", code, out)
	}
	lines := map[string]string{}
	for _, l := range strings.Split(out, "\n") {
		if f := strings.Fields(l); len(f) >= 3 {
			lines[f[2]] = l
		}
	}
	if l := lines["pagerduty.token"]; !strings.HasSuffix(strings.TrimSpace(l), "due") || !strings.Contains(l, "120") {
		t.Errorf("a 120-day-old PagerDuty key: %q", l)
	}
	if l := lines["dashboards"]; !strings.HasSuffix(strings.TrimSpace(l), "ok") {
		t.Errorf("a 10-day-old API key: %q", l)
	}
	if l := lines["slack.signing_secret"]; !strings.HasSuffix(strings.TrimSpace(l), "unknown") {
		t.Errorf("a secret without a created date: %q", l)
	}
	if !strings.Contains(out, "due for rotation") {
		t.Errorf("no rotation summary:\n%s", out)
	}
	for _, s := range []string{h.env["prod"].PDToken, h.readKey, h.env["prod"].Signing, h.env["prod"].Webhook[0]} {
		if strings.Contains(out, s) {
			t.Fatal("keys status printed a secret")
		}
	}
}
