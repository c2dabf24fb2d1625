package triage

import (
	"strings"
	"testing"
	"time"

	"github.com/novasre/nova"
)

func TestReadSpread(t *testing.T) {
	tests := []struct {
		name    string
		details map[string]string
		want    []string // failing places, worst first
	}{
		{"fractions by province", map[string]string{"by_province": "ON=171/240, QC=38/101, BC=3/96, AB=0/58, ATL=0/35"}, []string{"ON", "QC"}},
		{"shares by client version", map[string]string{"tag.client_version": "1.22=61%, 1.23=38%, 1.24 (staged 5%)=1%"}, []string{"1.22", "1.23"}},
		{"drops by country as keys", map[string]string{"es": "-87% vs forecast", "pt": "-84% vs forecast", "fr": "-2%", "de": "+1%", "cpu": "97%"}, []string{"es", "pt"}},
		{"counts by zone as keys", map[string]string{"eu-west-1a": "4120", "eu-west-1b": "3", "eu-west-1c": "0"}, []string{"eu-west-1a"}},
		{"everywhere fails: nothing to tell apart", map[string]string{"by_region": "us=40%, eu=38%, ap=41%"}, nil},
		{"two members are not a breakdown", map[string]string{"by_az": "a=10, b=0"}, nil},
		{"prose with colons is not a breakdown", map[string]string{"error": "dial tcp: lookup db: no such host, retrying: 3"}, nil},
	}
	for _, tt := range tests {
		s := readSpread([]nova.Alert{{ID: "A1", Summary: "x", Details: tt.details}})
		var got []string
		for _, p := range s.failing {
			got = append(got, p.name)
		}
		if strings.Join(got, ",") != strings.Join(tt.want, ",") {
			t.Errorf("%s: failing = %v, want %v", tt.name, got, tt.want)
		}
	}
}

// TestChangeThatMissedTheWorstPlaceIsNotTheAnswer: stores go dark mostly
// in Ontario; the freshest change touched only the Quebec stores. It is
// ruled out, and says why.
func TestChangeThatMissedTheWorstPlaceIsNotTheAnswer(t *testing.T) {
	in := Input{
		Incident: nova.Incident{ID: "Q1", Title: "store-connectivity: POS heartbeats missing", CreatedAt: now0.Add(-time.Minute), Service: nova.Ref{ID: "PSTO", Summary: "store-connectivity"}},
		Service:  nova.Service{ID: "PSTO", Name: "store-connectivity"},
		Alerts: []nova.Alert{{ID: "A1", Summary: "[Triggered] Store POS heartbeat missing - 212/530 stores", CreatedAt: now0.Add(-2 * time.Minute),
			Details: map[string]string{"value": "212", "threshold": "25", "by_province": "ON=171/240, QC=38/101, BC=3/96, AB=0/58, ATL=0/35"}}},
		Changes: []nova.ChangeEvent{{ID: "C1", Summary: "store-connectivity: SD-WAN policy tweak in QC stores", Timestamp: now0.Add(-20 * time.Minute),
			Services: []nova.Ref{{ID: "PSTO", Summary: "store-connectivity"}}}},
	}
	ranked := newView(in, Options{}.withDefaults(), now0).rankChanges()
	if len(ranked) != 1 || !strings.Contains(ranked[0].Against, "worst in ON") {
		t.Fatalf("ranked = %+v, want the QC change held against (worst in ON)", ranked)
	}
	res := Analyze(in, Options{}, now0)
	if top := res.Top(); top != nil && !res.Abstained && top.Category == nova.CategoryChange {
		t.Errorf("top = %s; a change to the QC stores does not explain Ontario going dark", describeTop(res))
	}
	// The same change named for Ontario is not held against.
	in.Changes[0].Summary = "store-connectivity: SD-WAN policy tweak in ON and QC stores"
	if r := newView(in, Options{}.withDefaults(), now0).rankChanges(); r[0].Against != "" {
		t.Errorf("a change to both failing provinces is held against: %q", r[0].Against)
	}
}

func TestReadSpreadSpaceSeparated(t *testing.T) {
	s := readSpread([]nova.Alert{{ID: "A1", Details: map[string]string{"by_availability_zone": "us-east-1b 64%, us-east-1a 0.3%, us-east-1c 0.2%"}}})
	if len(s.failing) != 1 || s.failing[0].name != "us-east-1b" {
		t.Fatalf("failing = %+v, want us-east-1b alone", s.failing)
	}
}
