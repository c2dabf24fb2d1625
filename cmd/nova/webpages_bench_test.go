package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/novasre/nova"
	"github.com/novasre/nova/store"
	"github.com/novasre/nova/store/bolt"
	"github.com/novasre/nova/web"
)

var (
	benchStoreOnce sync.Once
	benchStore     store.Store
	benchStoreErr  error
)

// pagesBenchStore is a bolt store holding what the issue sizes the pages
// for: 10,000 incidents with their triage results, 2,000 action requests
// and 100,000 audit entries.
func pagesBenchStore(b *testing.B) store.Store {
	benchStoreOnce.Do(func() {
		// Shared by the benchmarks of one run; the OS cleans its temp dir.
		dir, err := os.MkdirTemp("", "nova-pages-bench-")
		if err != nil {
			benchStoreErr = err
			return
		}
		st, err := bolt.Open(filepath.Join(dir, "pages.db"), bolt.Options{NoSync: true})
		if err != nil {
			benchStoreErr = err
			return
		}
		ctx := context.Background()
		t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		for i := range 10000 {
			rec := nova.IncidentRecord{ID: fmt.Sprintf("Q%07d", i), Environment: "prod", ServiceID: fmt.Sprintf("PSVC%d", i%20),
				Title: fmt.Sprintf("checkout-api 5xx error rate above 5%% (%d)", i), Status: []string{"triggered", "acknowledged", "resolved"}[i%3],
				TriggeredAt: t0.Add(time.Duration(i) * time.Minute), Triage: &nova.TriageResult{Hypotheses: []nova.Hypothesis{{Rank: 1,
					Summary: "Likely caused by deploy 981 eight minutes before", Category: nova.CategoryChange, Confidence: 0.74,
					Evidence: []nova.Evidence{{Kind: "change", Summary: "Deploy checkout v2.3.1", URL: "https://ci.example.com/d/981"}, {Kind: "alert", Summary: "HTTP 5xx 9%"}}}},
					Checked: []string{"alerts", "changes", "past_incidents"}}}
			v, _ := json.Marshal(rec)
			if _, err := st.Put(ctx, store.KindIncident, rec.ID, v, 0, 0); err != nil {
				benchStoreErr = err
				return
			}
		}
		for i := range 2000 {
			req := nova.ApprovalRequest{ID: fmt.Sprintf("apr-%07d", i), IncidentID: fmt.Sprintf("Q%07d", i*5), Action: "rollback", State: nova.ApprovalSucceeded}
			v, _ := json.Marshal(req)
			if _, err := st.Put(ctx, store.KindApproval, req.ID, v, 0, 0); err != nil {
				benchStoreErr = err
				return
			}
		}
		for i := range 100000 {
			if _, err := st.AppendAudit(ctx, nova.AuditEntry{ID: fmt.Sprintf("a%d", i), Time: t0, Incident: fmt.Sprintf("Q%07d", i/10),
				Actor: "nova", Action: "pagerduty.note.hypothesis", Outcome: nova.OutcomeOK}); err != nil {
				benchStoreErr = err
				return
			}
		}
		benchStore = st
	})
	if benchStoreErr != nil {
		b.Fatal(benchStoreErr)
	}
	return benchStore
}

// BenchmarkPagesIncidentList is the store side of /incidents (the 100
// newest) over 10,000 incidents, unfiltered and filtered by service.
func BenchmarkPagesIncidentList(b *testing.B) {
	d := pageData{st: pagesBenchStore(b), keys: &decodeCache[incidentKey]{}}
	for _, f := range []web.IncidentFilter{{Limit: 100}, {Service: "PSVC3", Limit: 100}} {
		b.Run("service="+f.Service, func(b *testing.B) {
			var lat latencies
			for b.Loop() {
				t := time.Now()
				recs, err := d.Incidents(context.Background(), f)
				lat.add(time.Since(t))
				if err != nil || len(recs) != 100 {
					b.Fatalf("%d incidents, %v", len(recs), err)
				}
			}
			lat.report(b)
		})
	}
}

// BenchmarkPagesIncident is the store side of /incidents/{id}: the record's
// action requests (2,000 stored) and its entries among the latest audit
// entries (100,000 stored).
func BenchmarkPagesIncident(b *testing.B) {
	d := pageData{st: pagesBenchStore(b), keys: &decodeCache[incidentKey]{}}
	b.ResetTimer()
	var lat latencies
	for b.Loop() {
		ctx := context.Background()
		t := time.Now()
		if _, err := d.Requests(ctx, "Q0009995"); err != nil {
			b.Fatal(err)
		}
		entries, err := d.IncidentAudit(ctx, "Q0009995")
		lat.add(time.Since(t))
		if err != nil || len(entries) != 10 {
			b.Fatalf("%d entries, %v", len(entries), err)
		}
	}
	lat.report(b)
}

// latencies collects each iteration's time, so a benchmark reports the
// p50 and p99 the pages' target is stated in, not only the mean (ns/op).
type latencies []time.Duration

func (l *latencies) add(d time.Duration) { *l = append(*l, d) }

func (l latencies) report(b *testing.B) {
	if len(l) == 0 {
		return
	}
	slices.Sort(l)
	at := func(q float64) float64 { return float64(l[min(len(l)-1, int(q*float64(len(l))))]) / 1e6 }
	b.ReportMetric(at(0.50), "p50-ms")
	b.ReportMetric(at(0.99), "p99-ms")
}
