package triage

import (
	"fmt"
	"time"

	"github.com/novasre/nova"
)

// now0 is when the test incidents are triaged, two minutes after trigger0.
var (
	trigger0 = time.Date(2025, 3, 3, 10, 0, 0, 0, time.UTC)
	now0     = trigger0.Add(2 * time.Minute)
)

const (
	svcCheckout = "PCHECKO"
	svcPayments = "PPAYMEN"
	svcBilling  = "PBILLIN"
)

func checkoutService() nova.Service {
	return nova.Service{ID: svcCheckout, Name: "checkout", Related: []string{svcPayments}}
}

func incidentOn(title string) nova.Incident {
	return nova.Incident{ID: "QINC1", Title: title, CreatedAt: trigger0,
		Service: nova.Ref{ID: svcCheckout, Summary: "checkout"}}
}

func alertAt(id, summary string, details map[string]string) nova.Alert {
	return nova.Alert{ID: id, Summary: summary, CreatedAt: trigger0, Details: details}
}

func changeOn(id, summary, service string, before time.Duration) nova.ChangeEvent {
	c := nova.ChangeEvent{ID: id, Summary: summary, Timestamp: trigger0.Add(-before)}
	if service != "" {
		c.Services = []nova.Ref{{ID: service}}
	}
	return c
}

func describeTop(res nova.TriageResult) string {
	top := res.Top()
	if top == nil {
		return fmt.Sprintf("no hypothesis (abstained=%v)", res.Abstained)
	}
	return fmt.Sprintf("%s %.2f %q (abstained=%v)", top.Category, top.Confidence, top.Summary, res.Abstained)
}
