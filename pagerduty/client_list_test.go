package pagerduty

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/novasre/nova"
	"github.com/novasre/nova/pagerduty/pdemu"
)

func TestListIncidentsFiltersPagesAndSortsNewestFirst(t *testing.T) {
	rig := newClientRig(t, pdemu.Options{})
	emu := rig.emu
	base := time.Now().UTC().Add(-30 * 24 * time.Hour).Truncate(time.Second)
	var resolved []string
	for i := 0; i < 130; i++ { // more than one page of 100
		inc := emu.CreateIncident(pdemu.IncidentSpec{ServiceID: "PCHKOUT", Title: fmt.Sprintf("checkout %d", i),
			CreatedAt: base.Add(time.Duration(i) * time.Hour)})
		if i%10 != 0 {
			emu.ResolveAt(inc.ID, "PALICE1", "", base.Add(time.Duration(i)*time.Hour+20*time.Minute))
			resolved = append(resolved, inc.ID)
		}
	}
	emu.CreateIncident(pdemu.IncidentSpec{ServiceID: "SCHKOUT", Title: "staging", CreatedAt: base.Add(time.Hour)})
	old := emu.CreateIncident(pdemu.IncidentSpec{ServiceID: "PCHKOUT", Title: "too old", CreatedAt: base.Add(-48 * time.Hour)})
	emu.ResolveAt(old.ID, "PALICE1", "", base.Add(-47*time.Hour))
	emu.ResetRequests()

	c := rig.client(t, "prod", nil)
	ctx := context.Background()
	got, err := c.ListIncidents(ctx, nova.IncidentFilter{ServiceIDs: []string{"PCHKOUT"},
		Statuses: []string{nova.StatusResolved}, Since: base.Add(-time.Hour), Until: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(resolved) {
		t.Fatalf("listed %d incidents, want the %d resolved ones in range", len(got), len(resolved))
	}
	for i, inc := range got {
		if want := resolved[len(resolved)-1-i]; inc.ID != want {
			t.Fatalf("incident %d is %s, want %s (newest first)", i, inc.ID, want)
		}
		if inc.Status != nova.StatusResolved || inc.ResolvedAt.Sub(inc.CreatedAt) != 20*time.Minute || inc.Service.ID != "PCHKOUT" {
			t.Fatalf("incident %d decoded as %+v", i, inc)
		}
	}
	reqs := emu.Requests()
	if len(reqs) != 2 {
		t.Errorf("%d requests, want 2 pages", len(reqs))
	}
	for _, r := range reqs {
		if r.Method != http.MethodGet || r.Path != "/incidents" || !strings.Contains(r.Query, "service_ids%5B%5D=PCHKOUT") ||
			!strings.Contains(r.Query, "statuses%5B%5D=resolved") || !strings.Contains(r.Query, "sort_by=created_at%3Adesc") {
			t.Errorf("request %s %s?%s", r.Method, r.Path, r.Query)
		}
	}
	if u := emu.Unexpected(); len(u) != 0 {
		t.Errorf("emulator saw requests it does not model: %+v", u)
	}

	emu.ResetRequests()
	few, err := c.ListIncidents(ctx, nova.IncidentFilter{ServiceIDs: []string{"PCHKOUT"}, Since: base, Limit: 5})
	if err != nil {
		t.Fatal(err)
	}
	if len(few) != 5 || len(emu.Requests()) != 1 || few[0].Title != "checkout 129" {
		t.Errorf("limit 5: %d incidents in %d requests, first %q", len(few), len(emu.Requests()), few[0].Title)
	}
}

func TestListIncidentsRefusesUnboundedQueries(t *testing.T) {
	rig := newClientRig(t, pdemu.Options{})
	c := rig.client(t, "prod", nil)
	now := time.Now()
	cases := map[string]nova.IncidentFilter{
		"no service":        {Since: now.Add(-time.Hour)},
		"bad service id":    {ServiceIDs: []string{"../users"}, Since: now.Add(-time.Hour)},
		"bad status":        {ServiceIDs: []string{"PCHKOUT"}, Statuses: []string{"open"}, Since: now.Add(-time.Hour)},
		"no since":          {ServiceIDs: []string{"PCHKOUT"}},
		"over six months":   {ServiceIDs: []string{"PCHKOUT"}, Since: now.AddDate(0, -7, 0)},
		"since after until": {ServiceIDs: []string{"PCHKOUT"}, Since: now, Until: now.Add(-time.Hour)},
		"negative limit":    {ServiceIDs: []string{"PCHKOUT"}, Since: now.Add(-time.Hour), Limit: -1},
	}
	for name, f := range cases {
		if _, err := c.ListIncidents(context.Background(), f); nova.ErrorCode(err) != nova.EINVALID {
			t.Errorf("%s: got %v, want EINVALID", name, err)
		}
	}
	if n := len(rig.emu.Requests()); n != 0 {
		t.Errorf("%d requests sent for refused queries", n)
	}
}

func TestBackgroundReadsLeaveHalfTheBurst(t *testing.T) {
	rig := newClientRig(t, pdemu.Options{})
	id := rig.incident("x")
	rec := &reserveRecorder{}
	c := rig.client(t, "prod", func(cfg *ClientConfig) { cfg.Limiter, cfg.Burst = rec, 30 })
	ctx := context.Background()
	if _, err := c.GetIncident(Background(ctx), id); err != nil {
		t.Fatal(err)
	}
	if _, err := c.GetIncident(ctx, id); err != nil {
		t.Fatal(err)
	}
	if _, err := c.AddNote(ctx, id, "x"); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(rec.reserves) != "[15 3 0]" {
		t.Errorf("reserves %v, want background reads to keep 15 (half the burst), live reads 3, writes none", rec.reserves)
	}
	for _, burst := range []int{1, 2, 3} {
		c := rig.client(t, "prod", func(cfg *ClientConfig) { cfg.Burst, cfg.ReadReserve = burst, -1 })
		if r := c.backgroundReserve(); r >= burst {
			t.Errorf("burst %d: background reserve %d would never be granted", burst, r)
		}
	}
}

func TestListIncidentsIsAllowedOnlyAsGET(t *testing.T) {
	rig := newClientRig(t, pdemu.Options{})
	c := rig.client(t, "prod", nil)
	for _, m := range []string{http.MethodPost, http.MethodPut, http.MethodDelete} {
		req, _ := http.NewRequest(m, rig.url+"/incidents", strings.NewReader(`{"incident":{"type":"incident","title":"x"}}`))
		if _, err := c.http.Do(req); nova.ErrorCode(err) != nova.EFORBIDDEN {
			t.Errorf("%s /incidents: got %v, want EFORBIDDEN from the allow-list", m, err)
		}
	}
	if n := len(rig.emu.Requests()); n != 0 {
		t.Errorf("%d requests reached PagerDuty", n)
	}
}
