package pdemu_test

import (
	"net/http"
	"testing"

	"github.com/novasre/nova/pagerduty/pdemu"
)

func TestEmuServiceDependencies(t *testing.T) {
	w := newWorld(t, pdemu.Options{})
	w.emu.AddService("prod", pdemu.Service{ID: "PDB0001", Name: "orders-db"})
	w.emu.AddService("prod", pdemu.Service{ID: "PEDGE01", Name: "edge"})
	w.emu.AddBusinessService("prod", pdemu.Service{ID: "PBIZ001", Name: "online shop"})
	d1 := w.emu.AddServiceDependency("PSVCPRD", "PDB0001") // checkout needs the database
	w.emu.AddServiceDependency("PEDGE01", "PSVCPRD")       // edge needs checkout
	w.emu.AddServiceDependency("PBIZ001", "PSVCPRD")       // the shop needs checkout

	r := w.call(t, "GET", "/service_dependencies/technical_services/PSVCPRD", prodToken, "", nil)
	if r.status != http.StatusOK {
		t.Fatalf("GET dependencies: %d %s", r.status, r.raw)
	}
	rels, _ := r.body["relationships"].([]any)
	if len(rels) != 3 {
		t.Fatalf("want the service's 3 relationships in both directions, got %s", r.raw)
	}
	first := rels[0].(map[string]any)
	want := map[string]any{"id": d1, "type": "service_dependency",
		"supporting_service": map[string]any{"id": "PDB0001", "type": "technical_service_reference"},
		"dependent_service":  map[string]any{"id": "PSVCPRD", "type": "technical_service_reference"}}
	if !jsonEqual(first, want) {
		t.Errorf("first relationship %v, want %v", first, want)
	}
	if dep := rels[2].(map[string]any)["dependent_service"].(map[string]any); dep["type"] != "business_service_reference" {
		t.Errorf("a business service is named as one: %v", dep)
	}
	if r := w.call(t, "GET", "/service_dependencies/technical_services/PDB0001", prodToken, "", nil); len(r.body["relationships"].([]any)) != 1 {
		t.Errorf("the database's relationships: %s", r.raw)
	}

	// Unknown, business and other environments' services are 404, as
	// PagerDuty answers for another account's; the latter is recorded.
	for _, c := range []struct{ id, token string }{{"PNOSUCH", prodToken}, {"PBIZ001", prodToken}, {"PSVCPRD", stagingToken}} {
		if r := w.call(t, "GET", "/service_dependencies/technical_services/"+c.id, c.token, "", nil); r.status != http.StatusNotFound || r.errorCode() != 2100 {
			t.Errorf("GET dependencies of %s: %d %s, want 404", c.id, r.status, r.raw)
		}
	}
	if cross := w.emu.CrossEnvironment(); len(cross) != 1 {
		t.Errorf("cross-environment requests %+v, want 1", cross)
	}
	if r := w.call(t, "GET", "/service_dependencies/technical_services/PSVCPRD?include[]=x", prodToken, "", nil); r.status != http.StatusBadRequest {
		t.Errorf("an unmodelled query parameter: %d", r.status)
	}
	if r := w.call(t, "GET", "/service_dependencies/business_services/PBIZ001", prodToken, "", nil); r.status != http.StatusNotFound {
		t.Errorf("business service dependencies are not modelled: %d", r.status)
	}

	// An account without the feature refuses, with PagerDuty's error body.
	w.emu.WithoutServiceDependencies("prod")
	if r := w.call(t, "GET", "/service_dependencies/technical_services/PSVCPRD", prodToken, "", nil); r.status != http.StatusForbidden || r.errorCode() != 2010 {
		t.Errorf("without the feature: %d %s, want 403", r.status, r.raw)
	}
	if r := w.call(t, "GET", "/service_dependencies/technical_services/PSVCSTG", stagingToken, "", nil); r.status != http.StatusOK {
		t.Errorf("another environment keeps the feature: %d", r.status)
	}
	if n := len(w.emu.Unexpected()); n != 2 {
		t.Errorf("%d unexpected requests, want 2 (the query parameter, the business endpoint)", n)
	}
}
