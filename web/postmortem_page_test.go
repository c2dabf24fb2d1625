package web

import (
	"context"
	"strings"
	"testing"

	"github.com/novasre/nova"
	"github.com/novasre/nova/postmortem"
)

type fakePostmortems map[string]postmortem.Draft

func (f fakePostmortems) Postmortem(_ context.Context, id string) (postmortem.Draft, error) {
	d, ok := f[id]
	if !ok {
		return d, nova.Errorf(nova.ENOTFOUND, "incident %s has no postmortem draft yet", id)
	}
	return d, nil
}

func TestPostmortemPage(t *testing.T) {
	rg := newRig(t, fixture("x"))
	rg.pages.cfg.Postmortems = fakePostmortems{"Q1": {ID: "pm-1", Version: 2, IncidentID: "Q1", GeneratedAt: fixtureTime,
		Header: postmortem.Header{Title: "checkout <script>alert(1)</script> down", ServiceID: "PCHECKOUT", Environment: "prod"}}}
	c := rg.browser()
	rg.signIn(c, "U0ALICE")
	b := get(t, c, rg.srv.URL+"/incidents/Q1/postmortem", 200)
	if !strings.Contains(b, "Version 2") || !strings.Contains(b, "checkout &amp;lt;script&amp;gt;alert(1)&amp;lt;/script&amp;gt; down") || strings.Contains(b, "<script>") {
		t.Fatalf("postmortem page:\n%s", b)
	}
	md := get(t, c, rg.srv.URL+"/incidents/Q1/postmortem?format=md", 200)
	// The page shows the Markdown as downloaded (which escapes HTML itself).
	if !strings.Contains(md, "# Postmortem draft: Incident Q1 checkout &lt;script&gt;alert(1)&lt;/script&gt; down") {
		t.Fatalf("markdown download:\n%s", md)
	}
	get(t, c, rg.srv.URL+"/incidents/Q2/postmortem", 404)
	get(t, noRedirect(rg.browser()), rg.srv.URL+"/incidents/Q1/postmortem?format=md", 303)
}
