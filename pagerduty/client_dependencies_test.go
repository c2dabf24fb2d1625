package pagerduty

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/sirupsen/logrus"

	"github.com/novasre/nova"
	"github.com/novasre/nova/pagerduty/pdemu"
)

func TestClientReadsSupportingServices(t *testing.T) {
	rig := newClientRig(t, pdemu.Options{})
	emu := rig.emu
	for _, id := range []string{"PDB0001", "PPAYMNT", "PEDGE01", "PNODEPS"} {
		emu.AddService("prod", pdemu.Service{ID: id})
	}
	emu.AddBusinessService("prod", pdemu.Service{ID: "PBIZ001", Name: "online shop"})
	emu.AddServiceDependency("PCHKOUT", "PPAYMNT")
	emu.AddServiceDependency("PEDGE01", "PCHKOUT") // edge depends on checkout: not checkout's dependency
	emu.AddServiceDependency("PBIZ001", "PCHKOUT") // a business service on top
	emu.AddServiceDependency("PCHKOUT", "PDB0001")
	emu.AddServiceDependency("PCHKOUT", "PPAYMNT") // recorded twice
	c := rig.client(t, "prod", nil)
	ctx := context.Background()

	refs, err := c.SupportingServices(ctx, "PCHKOUT")
	if err != nil {
		t.Fatal(err)
	}
	ids := []string{}
	for _, r := range refs {
		ids = append(ids, r.ID)
	}
	if !slices.Equal(ids, []string{"PPAYMNT", "PDB0001"}) {
		t.Errorf("checkout depends on %v, want [PPAYMNT PDB0001]", ids)
	}
	if refs, err := c.SupportingServices(ctx, "PNODEPS"); err != nil || refs == nil || len(refs) != 0 {
		t.Errorf("a service without dependencies: %v, %v (want an empty list)", refs, err)
	}

	// No such service, and an account or key without the feature: final
	// answers, not retried, logged by the client at debug level only.
	if _, err := c.SupportingServices(ctx, "PNOSUCH"); !nova.IsCode(err, nova.ENOTFOUND) {
		t.Errorf("unknown service: %v, want ENOTFOUND", err)
	}
	emu.WithoutServiceDependencies("prod")
	if _, err := c.SupportingServices(ctx, "PCHKOUT"); !nova.IsCode(err, nova.EFORBIDDEN) {
		t.Errorf("without the feature: %v, want EFORBIDDEN", err)
	}
	if _, err := c.SupportingServices(ctx, "../users"); !nova.IsCode(err, nova.EINVALID) {
		t.Errorf("a path in place of an id: %v, want EINVALID", err)
	}
	n := 0
	for _, r := range emu.Requests() {
		if strings.HasPrefix(r.Path, "/service_dependencies/") {
			n++
		}
	}
	if n != 4 || len(emu.Unexpected()) != 0 {
		t.Errorf("%d dependency requests (want 4, none retried), unexpected %+v", n, emu.Unexpected())
	}
	for _, e := range rig.logs.AllEntries() {
		if e.Level <= logrus.InfoLevel {
			t.Errorf("logged at %s: %s %v", e.Level, e.Message, e.Data)
		}
	}
}

func TestDecodeSupportingServices(t *testing.T) {
	rel := func(sup, supType, dep, depType string) string {
		return `{"id":"D1","type":"service_dependency","supporting_service":{"id":"` + sup + `","type":"` + supType +
			`"},"dependent_service":{"id":"` + dep + `","type":"` + depType + `"}}`
	}
	const tech, biz = "technical_service_reference", "business_service_reference"
	ok := []struct {
		name, body string
		want       []string
	}{
		{"empty", `{"relationships":[]}`, nil},
		{"both directions", `{"relationships":[` + rel("PSUP", tech, "PX", tech) + `,` + rel("PX", tech, "PDEP", tech) + `]}`, []string{"PSUP"}},
		{"business services skipped", `{"relationships":[` + rel("PX", tech, "PBIZ", biz) + `,` + rel("PBIZ2", biz, "PX", tech) + `]}`, nil},
		{"extra fields tolerated", `{"relationships":[{"id":"D1","type":"service_dependency","self":"x","supporting_service":{"id":"PSUP","type":"technical_service_reference","summary":"db"},"dependent_service":{"id":"PX","type":"technical_service_reference"}}],"more":false}`, []string{"PSUP"}},
		{"other relationship types skipped", `{"relationships":[{"type":"something_else","supporting_service":{"id":"PSUP","type":"technical_service_reference"},"dependent_service":{"id":"PX","type":"technical_service_reference"}}]}`, nil},
		{"duplicates once, self never", `{"relationships":[` + rel("PSUP", tech, "PX", tech) + `,` + rel("PSUP", tech, "PX", tech) + `,` + rel("PX", tech, "PX", tech) + `]}`, []string{"PSUP"}},
	}
	for _, c := range ok {
		refs, err := decodeSupportingServices([]byte(c.body), "PX")
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		var ids []string
		for _, r := range refs {
			ids = append(ids, r.ID)
		}
		if !slices.Equal(ids, c.want) {
			t.Errorf("%s: %v, want %v", c.name, ids, c.want)
		}
	}
	bad := map[string]string{
		"not JSON":               `relationships`,
		"null":                   `null`,
		"no list":                `{}`,
		"list is null":           `{"relationships":null}`,
		"list of the wrong type": `{"relationships":{}}`,
		"trailing data":          `{"relationships":[]} {}`,
		"a side missing":         `{"relationships":[{"supporting_service":{"id":"PSUP","type":"technical_service_reference"}}]}`,
		"an id that is a path":   `{"relationships":[` + rel("../users", tech, "PX", tech) + `]}`,
		"an empty id":            `{"relationships":[` + rel("", tech, "PX", tech) + `]}`,
		"no type":                `{"relationships":[` + rel("PSUP", "", "PX", tech) + `]}`,
		"an id of another type":  `{"relationships":[{"supporting_service":{"id":7,"type":"technical_service_reference"},"dependent_service":{"id":"PX","type":"technical_service_reference"}}]}`,
	}
	for name, body := range bad {
		refs, err := decodeSupportingServices([]byte(body), "PX")
		if err == nil {
			t.Errorf("%s: accepted as %v", name, refs)
			continue
		}
		if !isDecodeError(err) {
			t.Errorf("%s: %v is not classified as an unreadable answer (it would be retried)", name, err)
		}
		var re *responseError
		if errors.As(err, &re) && strings.Contains(err.Error(), "../users") {
			t.Errorf("%s: the refusal quotes the answer: %v", name, err)
		}
	}
}
