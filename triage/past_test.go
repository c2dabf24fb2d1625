package triage

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/novasre/nova"
)

func TestPDScore(t *testing.T) {
	tests := []struct{ in, want float64 }{
		{46.8249, 0.468249}, {0.7, 0.7}, {0, 0}, {-3, 0}, {250, 1}, {math.NaN(), 0}, {math.Inf(1), 0},
	}
	for _, tt := range tests {
		if got := pdScore(tt.in); math.Abs(got-tt.want) > 1e-9 {
			t.Errorf("pdScore(%v) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func pastInput(outlier *nova.Outlier) Input {
	alerts := []nova.Alert{alertAt("A1", "Prometheus healthcheck is DOWN", nil),
		alertAt("A2", "Prometheus container terminated: exit code 137", nil)}
	return Input{
		Incident: incidentOn(alerts[0].Summary), Alerts: alerts, Service: checkoutService(), Outlier: outlier,
		Past: []nova.PastIncident{
			{ID: "P-OOM", Title: "Prometheus healthcheck is DOWN", Score: 82, CreatedAt: trigger0.Add(-40 * 24 * time.Hour),
				Resolution: "Raised the Prometheus memory limit after OOMKilled restarts", Category: nova.CategoryResource},
			{ID: "P-NET", Title: "Prometheus healthcheck is DOWN", Score: 84, CreatedAt: trigger0.Add(-90 * 24 * time.Hour),
				Resolution: "The node was retired by AWS (instance stopped); pod moved", Category: nova.CategoryInfrastructure},
			{ID: "P-CAT", Title: "Cart checkout button missing", Score: 12, Category: nova.CategoryChange},
		},
	}
}

func TestRankPastPrefersTheSameSymptoms(t *testing.T) {
	// Both past titles are identical to this one; only the resolution of the
	// first mentions the OOM this incident shows.
	ranked := RankPast(pastInput(nil), Options{}, now0)
	if ranked[0].Past.ID != "P-OOM" || ranked[len(ranked)-1].Past.ID != "P-CAT" {
		t.Fatalf("order = %s, %s, %s", ranked[0].Past.ID, ranked[1].Past.ID, ranked[2].Past.ID)
	}
}

func TestPastIncidentCarriesItsResolution(t *testing.T) {
	res := Analyze(pastInput(nil), Options{}, now0)
	top := res.Top()
	if top == nil || top.Category != nova.CategoryResource {
		t.Fatalf("top = %v, want resource", describeTop(res))
	}
	found := false
	for _, e := range top.Evidence {
		if e.Kind == nova.EvidencePastIncident && e.ID == "P-OOM" && strings.Contains(e.Summary, "Raised the Prometheus memory limit") {
			found = true
		}
	}
	if !found {
		t.Errorf("resource hypothesis does not cite P-OOM with its resolution: %+v", top.Evidence)
	}
}

func TestPastCategoryInferredWhenMissing(t *testing.T) {
	in := pastInput(nil)
	in.Past = []nova.PastIncident{{ID: "P1", Title: "Prometheus healthcheck is DOWN", Score: 90, Resolution: "container OOMKilled; raised memory limit"}}
	ranked := RankPast(in, Options{}, now0)
	if ranked[0].Category != nova.CategoryResource {
		t.Errorf("inferred category = %s, want resource", ranked[0].Category)
	}
}

// TestOutlierScalesPastHypotheses: a frequent incident is probably the usual
// cause; an anomaly probably is not.
func TestOutlierScalesPastHypotheses(t *testing.T) {
	in := pastInput(nil)
	in.Alerts = in.Alerts[:1] // no OOM alert: only the past incidents speak
	in.Past = in.Past[:1]
	conf := func(o *nova.Outlier) float64 {
		in.Outlier = o
		res := Analyze(in, Options{AbstainBelow: -1}, now0)
		for _, h := range res.Hypotheses {
			if h.Category == nova.CategoryResource {
				return h.Confidence
			}
		}
		return 0
	}
	base := conf(nil)
	frequent := conf(&nova.Outlier{Category: "frequent", Count: 12})
	rare := conf(&nova.Outlier{Category: "rare", Count: 1})
	anomaly := conf(&nova.Outlier{Category: "anomaly"})
	if !(frequent > base && base > rare && rare > anomaly && anomaly > 0) {
		t.Errorf("confidence frequent %.3f, none %.3f, rare %.3f, anomaly %.3f: want strictly decreasing", frequent, base, rare, anomaly)
	}
}

func TestPastChangeCategoryWithoutAChangeIsWeak(t *testing.T) {
	in := Input{Incident: incidentOn("checkout 5xx after deploy"), Service: checkoutService(),
		Past: []nova.PastIncident{{ID: "P1", Title: "checkout 5xx after deploy", Score: 95, Category: nova.CategoryChange}}}
	without := Analyze(in, Options{AbstainBelow: -1}, now0)
	in.Changes = []nova.ChangeEvent{changeOn("C1", "Deploy checkout 2.4.0", svcCheckout, 10*time.Minute)}
	with := Analyze(in, Options{AbstainBelow: -1}, now0)
	if without.Top().Confidence >= with.Top().Confidence {
		t.Errorf("change confidence without a change %.3f, with one %.3f", without.Top().Confidence, with.Top().Confidence)
	}
}
