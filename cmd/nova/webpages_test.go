package main

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/novasre/nova"
	"github.com/novasre/nova/store"
	"github.com/novasre/nova/store/bolt"
	"github.com/novasre/nova/web"
)

// The incident list filters and sorts on what the store holds now: the
// decode cache never serves a record's older version.
func TestPageIncidentListFollowsTheStore(t *testing.T) {
	st, err := bolt.Open(filepath.Join(t.TempDir(), "nova.db"), bolt.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ctx := context.Background()
	d := pageData{st: st, keys: &decodeCache[incidentKey]{}}
	t0 := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	for i, id := range []string{"QB", "QA", "QC"} {
		rec := nova.IncidentRecord{ID: id, ServiceID: "PSVC", Environment: "prod", Status: nova.StatusTriggered, TriggeredAt: t0.Add(time.Duration(i) * time.Minute)}
		if _, err := store.Save(ctx, st, store.KindIncident, id, rec, 0); err != nil {
			t.Fatal(err)
		}
	}
	ids := func(f web.IncidentFilter) []string {
		recs, err := d.Incidents(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, r := range recs {
			out = append(out, r.ID)
		}
		return out
	}
	if got := ids(web.IncidentFilter{Limit: 2}); len(got) != 2 || got[0] != "QC" || got[1] != "QA" {
		t.Fatalf("newest two: %v", got)
	}
	if _, err := store.Update(ctx, st, store.KindIncident, "QC", func(r *nova.IncidentRecord, _ bool) error {
		r.Status = nova.StatusResolved
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if got := ids(web.IncidentFilter{Status: nova.StatusTriggered}); len(got) != 2 || got[0] != "QA" {
		t.Fatalf("triggered after QC resolved: %v", got)
	}
	if got := ids(web.IncidentFilter{Status: nova.StatusResolved, Service: "PSVC", Environment: "prod"}); len(got) != 1 || got[0] != "QC" {
		t.Fatalf("resolved: %v", got)
	}
	if got := ids(web.IncidentFilter{Environment: "staging"}); len(got) != 0 {
		t.Fatalf("staging: %v", got)
	}
}
