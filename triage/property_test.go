package triage

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/novasre/nova"
)

// words mixes failure vocabulary, regexp metacharacters and junk, so that
// random inputs hit signatures, topics and bad patterns alike.
var words = strings.Fields(`OOMKilled x509 certificate expired dns NXDOMAIN NotReady kubelet 503 5xx latency p99
	CrashLoopBackOff ImagePullBackOff deploy config flag terraform rollback revert README docs checkout payments
	disk full inode replication lag queue consumer throttled 429 migration schema timeout refused ( [ * \ $ ^ | ?
	é 💥 "" {{.Service}} \x00 9999999999 -1 NaN`)

func randText(r *rand.Rand, n int) string {
	var b strings.Builder
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(words[r.IntN(len(words))])
	}
	return b.String()
}

func randTime(r *rand.Rand) time.Time {
	switch r.IntN(6) {
	case 0:
		return time.Time{}
	case 1:
		return trigger0.Add(time.Duration(r.Int64N(int64(48 * time.Hour))))
	}
	return trigger0.Add(-time.Duration(r.Int64N(int64(10 * time.Hour))))
}

func randCategory(r *rand.Rand) nova.Category {
	all := append([]nova.Category{"", "bogus"}, nova.Categories...)
	return all[r.IntN(len(all))]
}

func randInput(r *rand.Rand) Input {
	svcs := []string{svcCheckout, svcPayments, svcBilling, "", "*"}
	in := Input{Incident: nova.Incident{ID: fmt.Sprint("Q", r.IntN(5)), Title: randText(r, r.IntN(8)), CreatedAt: randTime(r),
		Service: nova.Ref{ID: svcs[r.IntN(len(svcs))]}}}
	in.Service = nova.Service{ID: svcs[r.IntN(len(svcs))], Related: []string{svcs[r.IntN(len(svcs))]}}
	for i := r.IntN(6); i > 0; i-- {
		in.Alerts = append(in.Alerts, nova.Alert{ID: fmt.Sprint("A", i), Summary: randText(r, r.IntN(10)), CreatedAt: randTime(r),
			Details: map[string]string{randText(r, 1): randText(r, r.IntN(30))}})
	}
	for i := r.IntN(8); i > 0; i-- {
		c := nova.ChangeEvent{ID: fmt.Sprint("C", r.IntN(5)), Summary: randText(r, r.IntN(8)), Timestamp: randTime(r),
			CorrelationReason: []string{"", "intelligent", "related_service", "most_recent"}[r.IntN(4)]}
		if r.IntN(3) > 0 {
			c.Services = []nova.Ref{{ID: svcs[r.IntN(len(svcs))]}}
		}
		in.Changes = append(in.Changes, c)
	}
	for i := r.IntN(5); i > 0; i-- {
		in.Past = append(in.Past, nova.PastIncident{ID: fmt.Sprint("P", r.IntN(4)), Title: randText(r, r.IntN(8)),
			Score: []float64{0, 46.8, 0.7, -5, 1e9, math.NaN(), math.Inf(1)}[r.IntN(7)], Category: randCategory(r), CreatedAt: randTime(r)})
	}
	for i := r.IntN(7); i > 0; i-- {
		in.Related = append(in.Related, nova.RelatedIncident{ID: fmt.Sprint("R", r.IntN(9)), Title: randText(r, 4), CreatedAt: randTime(r),
			Service: nova.Ref{ID: fmt.Sprint("S", r.IntN(4))}})
	}
	for i := r.IntN(4); i > 0; i-- {
		in.Concurrent = append(in.Concurrent, nova.Incident{ID: fmt.Sprint("R", r.IntN(9)), Title: randText(r, 4), CreatedAt: randTime(r)})
	}
	if r.IntN(2) == 0 {
		in.Outlier = &nova.Outlier{Category: []string{"frequent", "rare", "anomaly", "", "weird"}[r.IntN(5)]}
	}
	for i := r.IntN(4); i > 0; i-- {
		in.Service.Runbooks = append(in.Service.Runbooks, nova.Runbook{Title: randText(r, 2), URL: fmt.Sprint("https://rb/", i), Match: randText(r, r.IntN(3))})
	}
	for i := r.IntN(6); i > 0; i-- {
		in.Actions = append(in.Actions, nova.Action{Name: fmt.Sprint("act", r.IntN(4)), Destructive: r.IntN(2) == 0, Match: randText(r, r.IntN(2)),
			Addresses: []nova.Category{randCategory(r), randCategory(r)}, Services: []string{svcs[r.IntN(len(svcs))]}})
	}
	return in
}

// TestAnalyzeProperties checks invariants on thousands of random inputs: no
// panic, confidences in [0, 1], ranks 1..n in confidence order, suggestions
// only from the runbooks and the catalog with the catalog's destructive
// flag, storm ids only from the concurrent incidents.
func TestAnalyzeProperties(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 3000; i++ {
		in := randInput(r)
		res := Analyze(in, Options{}, now0)
		if err := checkResult(in, res); err != nil {
			t.Fatalf("input %d: %v\n%+v", i, err, in)
		}
	}
}

func checkResult(in Input, res nova.TriageResult) error {
	runbooks := map[string]bool{}
	for _, rb := range in.Service.Runbooks {
		runbooks[rb.URL] = true
	}
	svc := in.serviceID()
	prev := 2.0
	for i, h := range res.Hypotheses {
		if h.Rank != i+1 {
			return fmt.Errorf("rank %d at position %d", h.Rank, i)
		}
		if math.IsNaN(h.Confidence) || h.Confidence < 0 || h.Confidence > 1 || h.Confidence > prev {
			return fmt.Errorf("confidence %v after %v", h.Confidence, prev)
		}
		prev = h.Confidence
		if !validCategory(h.Category) || h.Summary == "" {
			return fmt.Errorf("hypothesis %+v", h)
		}
		for _, s := range h.Suggestions {
			if s.Action == "" {
				if !runbooks[s.RunbookURL] || s.Destructive {
					return fmt.Errorf("suggestion %+v is not one of the runbooks", s)
				}
				continue
			}
			ok := false
			for _, a := range in.Actions {
				if a.Name == s.Action && a.AppliesTo(svc) && addresses(a, h.Category) {
					ok = ok || a.Destructive == s.Destructive
				}
			}
			if !ok {
				return fmt.Errorf("suggestion %+v is not a matching catalog action", s)
			}
		}
	}
	// Triage abstains with no hypothesis, under the threshold, or on thin
	// evidence; it never answers under the threshold.
	if len(res.Hypotheses) == 0 || res.Hypotheses[0].Confidence < DefaultAbstainBelow {
		if !res.Abstained {
			return fmt.Errorf("answered with %d hypotheses under the threshold", len(res.Hypotheses))
		}
	} else if _, thin := analyze(in, Options{}, now0); res.Abstained && !thin {
		return fmt.Errorf("abstained=%v with %d hypotheses above the threshold and evidence that is not thin", res.Abstained, len(res.Hypotheses))
	}
	others := map[string]bool{}
	for _, r := range in.Related {
		others[r.ID] = true
	}
	for _, c := range in.Concurrent {
		others[c.ID] = true
	}
	for _, id := range res.Storm {
		if !others[id] || id == in.Incident.ID {
			return fmt.Errorf("storm cites %s", id)
		}
	}
	return nil
}

// FuzzAnalyze feeds arbitrary text into every free-text field, patterns
// included.
func FuzzAnalyze(f *testing.F) {
	f.Add("x509 certificate expired", "Deploy checkout", "(", "OOMKilled", int64(600))
	f.Add("", "", "", "", int64(0))
	f.Add("\xff\xfe", "[[[", "a{1000}{1000}", "\\", int64(-1))
	f.Fuzz(func(t *testing.T, alert, change, pattern, past string, agoSec int64) {
		in := Input{
			Incident: incidentOn(alert),
			Alerts:   []nova.Alert{{ID: "A1", Summary: alert, Details: map[string]string{pattern: change}}},
			Changes:  []nova.ChangeEvent{changeOn("C1", change, svcCheckout, time.Duration(agoSec)*time.Second)},
			Past:     []nova.PastIncident{{ID: "P1", Title: past, Resolution: alert, Score: float64(agoSec)}},
			Service:  nova.Service{ID: svcCheckout, Runbooks: []nova.Runbook{{Title: "rb", URL: "u", Match: pattern}}},
			Actions:  []nova.Action{{Name: "act", Match: pattern, Addresses: nova.Categories, Services: []string{"*"}}},
		}
		res := Analyze(in, Options{Signatures: append(DefaultSignatures(), Signature{Name: "fuzz", Pattern: pattern,
			Weights: map[nova.Category]float64{nova.CategoryData: 0.5}})}, now0)
		if err := checkResult(in, res); err != nil {
			t.Fatal(err)
		}
	})
}

// BenchmarkAnalyze is a large but ordinary incident: 30 alerts, 50 changes,
// 20 past incidents, 10 concurrent incidents, in the words alerts use.
func BenchmarkAnalyze(b *testing.B) {
	alerts := []string{"checkout: HTTP 5xx error rate above 5%% for 10m (pod checkout-%d)",
		"checkout p99 latency above 2s on instance %d", "KubePodNotReady: checkout-%d not ready",
		"Synthetic check shop-%d: response time degraded"}
	in := Input{Incident: incidentOn("checkout: HTTP 5xx error rate above 5% for 10m"), Service: checkoutService()}
	for i := 0; i < 30; i++ {
		in.Alerts = append(in.Alerts, alertAt(fmt.Sprint("A", i), fmt.Sprintf(alerts[i%len(alerts)], i),
			map[string]string{"namespace": "shop", "runbook": "https://runbooks.example.org/checkout", "value": fmt.Sprint(i * 7)}))
	}
	for i := 0; i < 50; i++ {
		in.Changes = append(in.Changes, changeOn(fmt.Sprint("C", i), fmt.Sprintf("Deploy service-%d v1.%d.0 (%s)", i%12, i, []string{"new UI", "bump deps", "config tweak"}[i%3]),
			[]string{svcCheckout, svcPayments, svcBilling}[i%3], time.Duration(i*4)*time.Minute))
	}
	for i := 0; i < 20; i++ {
		in.Past = append(in.Past, nova.PastIncident{ID: fmt.Sprint("P", i), Title: fmt.Sprintf(alerts[i%len(alerts)], i),
			Resolution: "Rolled back the release", Score: float64(20 + i*3)})
	}
	for i := 0; i < 10; i++ {
		in.Related = append(in.Related, nova.RelatedIncident{ID: fmt.Sprint("R", i), Title: fmt.Sprintf("svc-%d: HTTP 503 from ingress", i),
			CreatedAt: trigger0, Service: nova.Ref{ID: fmt.Sprint("S", i)}})
	}
	b.ReportAllocs()
	for b.Loop() {
		Analyze(in, Options{}, now0)
	}
}

// BenchmarkAnalyzeWorstCase is random text in which nearly every signature
// matches every alert.
func BenchmarkAnalyzeWorstCase(b *testing.B) {
	r := rand.New(rand.NewPCG(3, 4))
	in := randInput(r)
	for len(in.Changes) < 50 {
		in.Changes = append(in.Changes, changeOn(fmt.Sprint("C", len(in.Changes)), randText(r, 8), svcBilling, time.Duration(r.IntN(240))*time.Minute))
	}
	for len(in.Alerts) < 30 {
		in.Alerts = append(in.Alerts, alertAt(fmt.Sprint("A", len(in.Alerts)), randText(r, 10), map[string]string{"k": randText(r, 20)}))
	}
	for len(in.Past) < 20 {
		in.Past = append(in.Past, nova.PastIncident{ID: fmt.Sprint("P", len(in.Past)), Title: randText(r, 6), Score: 40})
	}
	b.ReportAllocs()
	for b.Loop() {
		Analyze(in, Options{}, now0)
	}
}
