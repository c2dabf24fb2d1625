package triage

import (
	"fmt"
	"testing"
	"time"

	"github.com/novasre/nova"
)

func stormInput(n, services int, title string) Input {
	in := Input{Incident: incidentOn(title), Alerts: []nova.Alert{alertAt("A1", title, nil)}, Service: checkoutService()}
	for i := 0; i < n; i++ {
		in.Related = append(in.Related, nova.RelatedIncident{
			ID: fmt.Sprintf("QR%d", i), Title: fmt.Sprintf("svc-%d: %s", i, title), CreatedAt: trigger0.Add(time.Duration(i) * time.Minute),
			Service: nova.Ref{ID: fmt.Sprintf("PSVC%d", i%services)},
		})
	}
	return in
}

func TestStorm(t *testing.T) {
	tests := []struct {
		name          string
		in            Input
		wantStorm     int
		wantCategory  nova.Category
		wantCitations int
	}{
		{"below threshold", stormInput(2, 2, "lookup api.internal: no such host"), 0, nova.CategoryInfrastructure, 0},
		{"one other service only is still a storm", stormInput(4, 1, "lookup api.internal: no such host"), 4, nova.CategoryInfrastructure, 4},
		{"shared DNS failures", stormInput(5, 5, "lookup api.internal: no such host"), 5, nova.CategoryInfrastructure, 5},
		{"shared certificate expiry", stormInput(4, 3, "x509: certificate has expired"), 4, nova.CategoryCertificate, 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := Analyze(tt.in, Options{}, now0)
			if len(res.Storm) != tt.wantStorm {
				t.Fatalf("storm = %v, want %d ids", res.Storm, tt.wantStorm)
			}
			top := res.Top()
			if top == nil || top.Category != tt.wantCategory {
				t.Fatalf("top = %v, want %s", describeTop(res), tt.wantCategory)
			}
			cited := 0
			for _, e := range top.Evidence {
				if e.Kind == nova.EvidenceRelatedIncident && e.ID != "" {
					cited++
				}
			}
			if cited != tt.wantCitations {
				t.Errorf("top cites %d related incidents, want %d", cited, tt.wantCitations)
			}
		})
	}
}

func TestStormIgnoresOldAndOwnIncidents(t *testing.T) {
	in := stormInput(3, 3, "lookup api.internal: no such host")
	in.Related[0].CreatedAt = trigger0.Add(-2 * time.Hour) // long before: not concurrent
	in.Concurrent = []nova.Incident{{ID: in.Incident.ID, Title: "itself"}, {ID: "QR1", Title: "duplicate of a related one"}}
	if res := Analyze(in, Options{}, now0); len(res.Storm) != 0 {
		t.Errorf("storm = %v, want none (2 concurrent others)", res.Storm)
	}
	in.Concurrent = append(in.Concurrent, nova.Incident{ID: "QC9", Title: "payments: no such host", CreatedAt: trigger0, Service: nova.Ref{ID: "PX"}})
	if res := Analyze(in, Options{}, now0); len(res.Storm) != 3 {
		t.Errorf("storm = %v, want 3 with a concurrent incident added", res.Storm)
	}
}

func TestStormAfterSharedChangeBlamesTheChange(t *testing.T) {
	in := stormInput(4, 4, "HTTP 503 from ingress")
	in.Changes = []nova.ChangeEvent{changeOn("C1", "terraform apply: replace load balancer listener rules", svcPayments, 6*time.Minute)}
	res := Analyze(in, Options{}, now0)
	if top := res.Top(); top == nil || top.Category != nova.CategoryChange {
		t.Fatalf("top = %v, want change", describeTop(res))
	}
	if len(res.Storm) != 4 {
		t.Errorf("storm = %v, want the 4 others listed", res.Storm)
	}
}
