package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.etcd.io/bbolt"

	"github.com/novasre/nova"
	"github.com/novasre/nova/bot/render"
)

// auditEntries reads the audit log through the API.
func (h *harness) auditEntries(in *instance) []struct{ Action, Outcome, Actor, Detail, Environment string } {
	h.t.Helper()
	_, body := httpGet(h.t, in.url+"/api/v1/audit?limit=1000", h.adminKey)
	var audit struct {
		Entries []struct{ Action, Outcome, Actor, Detail, Environment string } `json:"entries"`
	}
	if err := json.Unmarshal([]byte(body), &audit); err != nil {
		h.t.Fatalf("audit log: %v: %s", err, body)
	}
	return audit.Entries
}

// Issue 15 item 4: an admin of staging alone, through staging's Slack app,
// can neither pause nor resume Nova as a whole, nor see or judge prod's
// services; the refused pause is audited and changes nothing. A global
// admin (global_admins) and an admin of every environment can pause and
// resume.
func TestRedTeam4_StagingAdminCannotPauseOrReachProd(t *testing.T) {
	h := newHarness(t, harnessOptions{
		Envs: []string{"prod", "staging"},
		Services: []serviceSpec{
			{ID: "PCHECKOUT", Name: "checkout", Env: "prod", Mode: "action", Channel: "C0CHECKOUT"},
			{ID: "PSTAGING", Name: "checkout-staging", Env: "staging", Mode: "action", Channel: "C0STAGING"},
		},
		EnvAdmins:    map[string][]string{"prod": {"U0ALICE"}, "staging": {"U0DAVE", "U0ALICE"}},
		GlobalAdmins: []string{"U0BOB", "S0ROOT"},
		NoActions:    true,
	})
	h.sl.AddChannel("C0ELSEWHERE", "random")
	h.sl.AddGroup("S0ROOT", "U0CAROL")
	in := h.start()

	// The staging-only admin's pause is refused, says why, and is audited.
	r := h.slash(in, "staging", "U0DAVE", "C0STAGING", "pause")
	if strings.Contains(r, "paused Nova") || !strings.Contains(r, "not an admin of prod") || !strings.Contains(r, "global_admins") {
		t.Fatalf("staging admin's /nova pause: %s", r)
	}
	if r := h.slash(in, "staging", "U0DAVE", "C0STAGING", "resume"); !strings.Contains(r, "not an admin of prod") {
		t.Fatalf("staging admin's /nova resume: %s", r)
	}
	refused := 0
	for _, e := range h.auditEntries(in) {
		if e.Action == "nova.pause" || e.Action == "nova.resume" {
			t.Errorf("audit records a pause or resume by a staging admin: %+v", e)
		}
		if e.Action == "command.pause" && e.Outcome == "refused" && e.Actor == "slack:U0DAVE" && strings.Contains(e.Detail, "prod") {
			refused++
		}
	}
	if refused != 1 {
		t.Errorf("%d refused pause entries by U0DAVE in the audit log, want 1", refused)
	}
	// …and changed nothing: prod still gets its note, status shows no pause.
	inc := h.trigger("PCHECKOUT", "checkout-api: 5xx error rate above 5%")
	h.eventually(10*time.Second, "the prod note after the refused pause", func() bool { return len(h.novaNotes(inc)) == 1 })
	if r := h.slash(in, "prod", "U0ALICE", "C0CHECKOUT", "status"); strings.Contains(r, "paused") {
		t.Errorf("status after a refused pause: %s", r)
	}
	h.eventually(10*time.Second, "the prod hypothesis message", func() bool { _, ok := h.messageFor("C0CHECKOUT", inc); return ok })

	// Status through staging's app shows staging only, even to its admin.
	r = h.slash(in, "staging", "U0DAVE", "C0STAGING", "status")
	if !strings.Contains(r, "checkout-staging") || strings.Contains(r, "PCHECKOUT") {
		t.Errorf("staging admin's status lists prod: %s", r)
	}
	if r := h.slash(in, "staging", "U0DAVE", "C0STAGING", "status checkout"); !strings.Contains(r, "unknown service") {
		t.Errorf("staging admin's status of a prod service: %s", r)
	}
	// A non-admin sees the service of the channel they ask in, nothing else.
	r = h.slash(in, "prod", "U0MALLORY", "C0CHECKOUT", "status")
	if !strings.Contains(r, "PCHECKOUT") || strings.Contains(r, "PSTAGING") {
		t.Errorf("a non-admin's status in the checkout channel: %s", r)
	}
	if r := h.slash(in, "prod", "U0MALLORY", "C0ELSEWHERE", "status"); strings.Contains(r, "PCHECKOUT") || !strings.Contains(r, "No services") {
		t.Errorf("a non-admin's status elsewhere: %s", r)
	}

	// Feedback on a prod incident through staging's app does not reach prod.
	if r := h.slash(in, "staging", "U0DAVE", "C0STAGING", "feedback "+inc+" wrong deploy"); !strings.Contains(r, "no record of incident") {
		t.Errorf("staging admin's feedback on a prod incident: %s", r)
	}
	if r := h.slash(in, "prod", "U0ALICE", "C0CHECKOUT", "status checkout"); !strings.Contains(r, "No feedback") {
		t.Errorf("prod service's feedback changed through staging: %s", r)
	}
	// Anyone in the service's channel may judge it.
	if r := h.slash(in, "prod", "U0MALLORY", "C0CHECKOUT", "feedback "+inc+" helpful"); !strings.Contains(r, "recorded *helpful*") {
		t.Errorf("feedback in the service's channel: %s", r)
	}

	// A global admin may pause (through either app), and an admin of every
	// environment may resume.
	if r := h.slash(in, "staging", "U0BOB", "C0STAGING", "pause"); !strings.Contains(r, "paused Nova") {
		t.Fatalf("global admin's pause: %s", r)
	}
	if r := h.slash(in, "prod", "U0ALICE", "C0CHECKOUT", "resume"); !strings.Contains(r, "resumed Nova") {
		t.Fatalf("resume by an admin of every environment: %s", r)
	}
	if r := h.slash(in, "prod", "U0CAROL", "C0CHECKOUT", "pause"); !strings.Contains(r, "paused Nova") { // through the S0ROOT group
		t.Fatalf("pause by a member of a global admin group: %s", r)
	}
	if r := h.slash(in, "prod", "U0CAROL", "C0CHECKOUT", "resume"); !strings.Contains(r, "resumed Nova") {
		t.Fatalf("resume by a member of a global admin group: %s", r)
	}
	counts := map[string]int{}
	for _, e := range h.auditEntries(in) {
		counts[e.Action+"/"+e.Outcome+"/"+e.Actor]++
	}
	if counts["nova.pause/ok/slack:U0BOB"] != 1 || counts["nova.resume/ok/slack:U0ALICE"] != 1 || counts["nova.pause/ok/slack:U0CAROL"] != 1 ||
		counts["command.feedback/refused/slack:U0DAVE"] != 1 {
		t.Errorf("audit counts: %v", counts)
	}
}

// rewriteAudit rewrites every stored audit entry with fn, in seq order, as
// an attacker with write access to the bolt file would.
func rewriteAudit(t *testing.T, path string, fn func(e *nova.AuditEntry, prev *nova.AuditEntry)) {
	t.Helper()
	tamper(t, path, func(b *bbolt.Bucket) {
		var prev *nova.AuditEntry
		c := b.Cursor()
		for k, v := c.First(); k != nil; k, v = c.Next() {
			var e nova.AuditEntry
			if err := json.Unmarshal(v, &e); err != nil {
				t.Fatal(err)
			}
			fn(&e, prev)
			nv, _ := json.Marshal(e)
			if err := b.Put(append([]byte(nil), k...), nv); err != nil {
				t.Fatal(err)
			}
			prev = &e
		}
	})
}

// plainRechain is the attacker's rechaining: the only hash they can
// compute is plain SHA-256.
func plainRechain(stripKeys bool) func(e, prev *nova.AuditEntry) {
	return func(e, prev *nova.AuditEntry) {
		if stripKeys {
			e.KeyID = ""
		}
		e.PrevHash = ""
		if prev != nil {
			e.PrevHash = prev.Hash
		}
		e.Hash = e.ComputeHash()
	}
}

// Issue 15 item 7, end to end: with audit.key configured, `nova audit
// verify` fails, naming the problem, on an edited entry, on a log rewritten
// and rechained with plain SHA-256, and on a truncated tail checked against
// the chain head Nova wrote into its PagerDuty note.
func TestRedTeam7_AuditVerifyCatchesEditsRechainsAndTruncation(t *testing.T) {
	h := newHarness(t, harnessOptions{AuditKey: "audit-" + randHex(24), NoActions: true})
	in := h.start()
	first := h.trigger("PCHECKOUT", "checkout-api: 5xx error rate above 5%")
	h.eventually(10*time.Second, "the first note", func() bool { return len(h.novaNotes(first)) == 1 })
	h.slash(in, "prod", "U0MALLORY", "C0CHECKOUT", "disable checkout") // more entries after the anchor
	second := h.trigger("PCHECKOUT", "checkout-api: pods in CrashLoopBackOff")
	h.eventually(10*time.Second, "the second note", func() bool { return len(h.novaNotes(second)) == 1 })
	h.settle()
	h.stop(in)
	db := h.dir + "/nova.db"

	note := h.novaNotes(second)[0].Content
	anchor, ok := render.AuditAnchorInNote(note, "test")
	if !ok || !strings.Contains(note, "Audit chain head: ") {
		t.Fatalf("the note carries no audit chain head:\n%s", note)
	}
	code, out := run(t, "audit", "verify", "--config", h.cfgPath, "--incident", "prod:"+first, "--incident", "prod:"+second)
	if code != 0 || !strings.Contains(out, "audit log OK") || !strings.Contains(out, "under audit key e2e-1") || !strings.Contains(out, "all 2 witnessed") {
		t.Fatalf("verify of an untouched keyed log: %d %s", code, out)
	}
	var entries []nova.AuditEntry
	rewriteAudit(t, db, func(e, _ *nova.AuditEntry) { entries = append(entries, *e) })
	if entries[0].Action != "audit.key" || entries[0].KeyID != "e2e-1" || entries[len(entries)-1].KeyID != "e2e-1" {
		t.Fatalf("the log does not start with the keyed audit.key entry: %+v", entries[0])
	}
	restore := func() {
		i := 0
		rewriteAudit(t, db, func(e, _ *nova.AuditEntry) { *e = entries[i]; i++ })
	}

	// 1. An edited entry.
	target := entries[3]
	rewriteAudit(t, db, func(e, _ *nova.AuditEntry) {
		if e.Seq == target.Seq {
			e.Outcome = "ok-but-edited"
		}
	})
	code, out = run(t, "audit", "verify", "--config", h.cfgPath)
	if code != 1 || !strings.Contains(out, target.ID) || !strings.Contains(out, "altered") {
		t.Errorf("verify after editing %s: %d %s", target.ID, code, out)
	}
	restore()

	// 2. Rewritten and rechained with plain SHA-256, key ids dropped or kept.
	for _, strip := range []bool{true, false} {
		rewriteAudit(t, db, func(e, prev *nova.AuditEntry) {
			if e.Seq == target.Seq {
				e.Detail = "nothing happened"
			}
			plainRechain(strip)(e, prev)
		})
		code, out = run(t, "audit", "verify", "--config", h.cfgPath)
		want := "none of the"
		if !strip {
			want = "HMAC-SHA256 under audit key e2e-1"
		}
		if code != 1 || !strings.Contains(out, "FAILED") || !strings.Contains(out, want) {
			t.Errorf("verify after a plain rechain (key ids dropped: %v): %d %s", strip, code, out)
		}
		restore()
	}

	// 3. A truncated tail: a valid chain by itself, but PagerDuty witnessed more.
	tamper(t, db, func(b *bbolt.Bucket) {
		for _, e := range entries {
			if e.Seq >= anchor.Seq {
				k, _ := seqKey(b, e.Seq)
				_ = b.Delete(k)
			}
		}
	})
	if code, out := run(t, "audit", "verify", "--config", h.cfgPath); code != 0 || !strings.Contains(out, "no anchors checked") {
		t.Errorf("a truncated log verifies by itself, and verify says it checked no anchor: %d %s", code, out)
	}
	code, out = run(t, "audit", "verify", "--config", h.cfgPath, "--incident", "prod:"+second)
	if code != 1 || !strings.Contains(out, "truncated") || !strings.Contains(out, anchor.Hash) || !strings.Contains(out, second) {
		t.Errorf("verify of a truncated log against the PagerDuty note: %d %s", code, out)
	}
	code, out = run(t, "audit", "verify", "--config", h.cfgPath, "--anchor", fmt.Sprintf("%d:%s", anchor.Seq, anchor.Hash))
	if code != 1 || !strings.Contains(out, "truncated") {
		t.Errorf("verify of a truncated log against --anchor: %d %s", code, out)
	}
	if code, out := run(t, "audit", "verify", "--config", h.cfgPath, "--anchor", "12:nothex"); code != 2 || !strings.Contains(out, "SEQ:HASH") {
		t.Errorf("a malformed --anchor: %d %s", code, out)
	}
}

// Without audit.key, verify says the chain is unkeyed; a rechained plain
// log passes on its own but not against the head in a PagerDuty note.
func TestRedTeam7_UnkeyedLogIsSaidSoAndAnchorsStillCatchARewrite(t *testing.T) {
	h := newHarness(t, harnessOptions{NoActions: true})
	in := h.start()
	// The very first note has no head to witness (the log is empty); the next one has.
	first := h.trigger("PCHECKOUT", "checkout-api: 5xx error rate above 5%")
	h.eventually(10*time.Second, "the first note", func() bool { return len(h.novaNotes(first)) == 1 })
	inc := h.trigger("PCHECKOUT", "checkout-api: pods in CrashLoopBackOff")
	h.eventually(10*time.Second, "the second note", func() bool { return len(h.novaNotes(inc)) == 1 })
	h.settle()
	h.stop(in)
	code, out := run(t, "audit", "verify", "--config", h.cfgPath, "--incident", "prod:"+inc)
	if code != 0 || !strings.Contains(out, "audit log OK") || !strings.Contains(out, "UNKEYED") || !strings.Contains(out, "all 1 witnessed") {
		t.Fatalf("verify of an unkeyed log: %d %s", code, out)
	}
	rewriteAudit(t, h.dir+"/nova.db", func(e, prev *nova.AuditEntry) {
		if e.Seq == 1 {
			e.Detail = "rewritten"
		}
		plainRechain(true)(e, prev)
	})
	if code, out := run(t, "audit", "verify", "--config", h.cfgPath); code != 0 {
		t.Fatalf("a rechained plain log should pass on its own (that is what keys are for): %d %s", code, out)
	}
	code, out = run(t, "audit", "verify", "--config", h.cfgPath, "--incident", "prod:"+inc)
	if code != 1 || !strings.Contains(out, "rewritten") || !strings.Contains(out, inc) {
		t.Errorf("verify of a rechained plain log against the PagerDuty note: %d %s", code, out)
	}
}

// Issue 15 item 9: with Redis frozen (SIGSTOP: connections stay open, no
// answer comes), a signed /nova command is answered before Slack gives up
// (3 s; Nova's ack budget is 2.5 s) and /readyz within its 2 s budget,
// both saying the store is unavailable; once Redis is back, so is Nova.
func TestRedTeam9_FrozenRedisSlackCommandAndReadyzKeepTheirDeadlines(t *testing.T) {
	srv := startRedisServer(t)
	h := newHarness(t, harnessOptions{Backend: "redis", RedisURL: srv.url(), NoActions: true})
	in := h.start()
	if r := h.slash(in, "prod", "U0ALICE", "C0CHECKOUT", "status"); !strings.Contains(r, "checkout") {
		t.Fatalf("status before the stall: %s", r)
	}
	if code, _ := httpGet(t, in.url+"/readyz", ""); code != 200 {
		t.Fatalf("/readyz before the stall: %d", code)
	}
	if err := srv.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	thawed := false
	thaw := func() {
		if !thawed && srv.cmd != nil {
			_ = srv.cmd.Process.Signal(syscall.SIGCONT)
			thawed = true
		}
	}
	t.Cleanup(thaw) // before the instance stops and the hygiene check scrapes metrics

	start := time.Now()
	resp, body, err := h.sl.SlashCommand(in.url+"/slack/commands", h.env["prod"].Signing, "U0ALICE", "C0CHECKOUT", "status")
	took := time.Since(start)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 || !strings.Contains(string(body), "store is unavailable") {
		t.Errorf("/nova status with Redis frozen: %d %s; want 200 saying the store is unavailable", resp.StatusCode, body)
	}
	t.Logf("/nova status with Redis frozen answered in %v", took)
	if took > 3500*time.Millisecond {
		t.Errorf("/nova status with Redis frozen answered after %v; the ack budget is 2.5 s and Slack gives up at 3 s", took)
	}

	start = time.Now()
	code, body2 := httpGet(t, in.url+"/readyz", "")
	took = time.Since(start)
	if code != 503 {
		t.Errorf("/readyz with Redis frozen: %d %s; want 503", code, body2)
	}
	t.Logf("/readyz with Redis frozen answered in %v", took)
	if took > 3*time.Second {
		t.Errorf("/readyz with Redis frozen answered after %v; its budget is 2 s", took)
	}

	thaw()
	h.eventually(15*time.Second, "/readyz to recover", func() bool { c, _ := httpGet(t, in.url+"/readyz", ""); return c == 200 })
	if r := h.slash(in, "prod", "U0ALICE", "C0CHECKOUT", "status"); !strings.Contains(r, "checkout") {
		t.Errorf("status after the stall: %s", r)
	}
}
