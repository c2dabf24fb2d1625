package main

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/novasre/nova"
	"github.com/novasre/nova/postmortem"
	"github.com/novasre/nova/store"
	"github.com/novasre/nova/store/bolt"
)

func TestPostmortemCommandPrintsTheDraft(t *testing.T) {
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "nova.yaml")
	dbPath := filepath.Join(dir, "nova.db")
	writeFile(t, cfgPath, `store: {backend: bolt, path: `+dbPath+`}
environments:
  prod:
    pagerduty: {token: t, from: bot@example.com, webhook_secrets: [s]}
`)
	st, err := bolt.Open(dbPath, bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)
	d, _, err := postmortem.Build(postmortem.Input{Record: nova.IncidentRecord{ID: "Q1", Environment: "prod", ServiceID: "P1",
		Title: "checkout down", TriggeredAt: at, ResolvedAt: at.Add(time.Hour)}}, nil, at.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := store.Save(context.Background(), st, store.KindPostmortem, "Q1", d, store.AnyVersion); err != nil {
		t.Fatal(err)
	}
	st.Close()

	code, out, errOut := runSplit(t, "postmortem", "Q1", "--config", cfgPath)
	if code != 0 || out != postmortem.Markdown(d) {
		t.Errorf("md: exit %d, stderr %q\n%s", code, errOut, out)
	}
	code, out, _ = runSplit(t, "postmortem", "--format", "json", "--config", cfgPath, "Q1")
	var got postmortem.Draft
	if code != 0 || json.Unmarshal([]byte(out), &got) != nil || got.ID != "pm-prod-Q1" || got.Version != 1 {
		t.Errorf("json: exit %d\n%s", code, out)
	}
	if code, _, errOut = runSplit(t, "postmortem", "Q2", "--config", cfgPath); code != 1 || !strings.Contains(errOut, "no postmortem draft for incident Q2") {
		t.Errorf("unknown incident: exit %d, stderr %q", code, errOut)
	}
	for _, args := range [][]string{{"postmortem"}, {"postmortem", "Q1", "Q2"}, {"postmortem", "Q1", "--format", "pdf"}} {
		if code, _, _ := runSplit(t, append(args, "--config", cfgPath)...); code != 2 {
			t.Errorf("nova %v: exit %d, want 2", args, code)
		}
	}
}
