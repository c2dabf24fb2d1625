package main

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// One incident leaves one info line per milestone, in order, each with a
// sub-second timestamp and, where the step is audited, its audit id.
func TestIncidentMilestonesAreLogged(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	in := h.start()
	inc, req := h.proposeRollback("v9.9.9")
	if got := h.click(in, "prod", "U0ALICE", req, "approve"); got == "" {
		t.Log("approve click answered with an empty body")
	}
	h.eventually(15*time.Second, "the run", func() bool { return len(h.receiver.Runs()) == 1 })
	h.eventually(15*time.Second, "the run's result in Slack", func() bool { return h.current(req).Contains("Succeeded") })
	if err := h.pd.Resolve(inc, "PALICEPROD"); err != nil {
		t.Fatal(err)
	}
	h.eventually(10*time.Second, "the resolved milestone", func() bool { return strings.Contains(in.logs.String(), `"milestone":"resolved"`) })

	type line struct {
		Msg       string    `json:"msg"`
		Level     string    `json:"level"`
		Time      string    `json:"time"`
		Milestone string    `json:"milestone"`
		Incident  string    `json:"incident_id"`
		AuditID   string    `json:"audit_id"`
		Parsed    time.Time `json:"-"`
	}
	var got []line
	for _, raw := range strings.Split(in.logs.String(), "\n") {
		var l line
		if json.Unmarshal([]byte(raw), &l) != nil || l.Msg != "incident milestone" || l.Incident != inc {
			continue
		}
		ts, err := time.Parse(time.RFC3339Nano, l.Time)
		if err != nil || !strings.Contains(l.Time, ".") {
			t.Errorf("milestone %s: timestamp %q is not sub-second RFC 3339", l.Milestone, l.Time)
		}
		l.Parsed = ts
		if l.Level != "info" {
			t.Errorf("milestone %s logged at %s", l.Milestone, l.Level)
		}
		got = append(got, l)
	}
	var names []string
	for _, l := range got {
		names = append(names, l.Milestone)
		audited := l.Milestone != "received" && l.Milestone != "hypothesis" && l.Milestone != "resolved"
		if audited && !strings.HasPrefix(l.AuditID, "nova-") {
			t.Errorf("milestone %s has no audit id", l.Milestone)
		}
	}
	want := "received,hypothesis,note,ack,approval,run,resolved"
	if strings.Join(names, ",") != want {
		t.Fatalf("milestones %v, want %s", names, want)
	}
	for i := 1; i < len(got); i++ {
		if got[i].Parsed.Before(got[i-1].Parsed) {
			t.Errorf("milestone %s logged before %s", got[i].Milestone, got[i-1].Milestone)
		}
	}
}
