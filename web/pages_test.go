package web

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/mux"

	"github.com/novasre/nova"
	"github.com/novasre/nova/slack/slackemu"
)

// fakeData is PageData over fixed records.
type fakeData struct {
	mu       sync.Mutex
	recs     map[string]nova.IncidentRecord
	reqs     []nova.ApprovalRequest
	audit    []nova.AuditEntry
	services []ServiceStatus
	actions  map[string]nova.Action
}

func (d *fakeData) Incident(_ context.Context, id string) (nova.IncidentRecord, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	rec, ok := d.recs[id]
	if !ok {
		return rec, nova.Errorf(nova.ENOTFOUND, "Nova has no record of incident %s", id)
	}
	return rec, nil
}

func (d *fakeData) Incidents(_ context.Context, f IncidentFilter) ([]nova.IncidentRecord, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	var out []nova.IncidentRecord
	for _, r := range d.recs {
		if (f.Service == "" || r.ServiceID == f.Service) && (f.Status == "" || r.Status == f.Status) && (f.Environment == "" || r.Environment == f.Environment) {
			out = append(out, r)
		}
	}
	slices.SortFunc(out, func(a, b nova.IncidentRecord) int { return b.TriggeredAt.Compare(a.TriggeredAt) })
	return out, nil
}

func (d *fakeData) Requests(_ context.Context, id string) ([]nova.ApprovalRequest, error) {
	var out []nova.ApprovalRequest
	for _, r := range d.reqs {
		if r.IncidentID == id {
			out = append(out, r)
		}
	}
	return out, nil
}

func (d *fakeData) IncidentAudit(_ context.Context, id string) ([]nova.AuditEntry, error) {
	var out []nova.AuditEntry
	for _, e := range d.audit {
		if e.Incident == id {
			out = append(out, e)
		}
	}
	return out, nil
}

func (d *fakeData) Overview(context.Context) (Overview, error) {
	return Overview{Services: d.services}, nil
}

func (d *fakeData) Audit(_ context.Context, f AuditFilter) (AuditWindow, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	w := AuditWindow{Checked: int64(len(d.audit)), FirstSeq: 1, LastSeq: int64(len(d.audit))}
	for i := len(d.audit) - 1; i >= 0; i-- {
		e := d.audit[i]
		if (f.Incident == "" || e.Incident == f.Incident) && (f.Actor == "" || e.Actor == f.Actor) && (f.Action == "" || strings.HasPrefix(e.Action, f.Action)) {
			w.Entries = append(w.Entries, e)
		}
	}
	return w, nil
}

func (d *fakeData) Service(id string) (nova.Service, bool) {
	for _, s := range d.services {
		if s.Service.ID == id {
			return s.Service, true
		}
	}
	return nova.Service{}, false
}

func (d *fakeData) Action(name string) (nova.Action, bool) {
	a, ok := d.actions[name]
	return a, ok
}

func (d *fakeData) Environments() []string { return []string{"prod"} }

func (d *fakeData) Approvers(string) ([]string, int) { return []string{"U0ALICE", "S0ONCALL"}, 1 }

var fixtureTime = time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)

// fixture is one incident with a hypothesis, evidence, a destructive
// suggestion with its pending request, and audit entries; texts are
// filled from text (so the hostile corpus can be poured in).
func fixture(text string) *fakeData {
	rec := nova.IncidentRecord{ID: "Q1", Environment: "prod", ServiceID: "PCHECKOUT", Title: "checkout-api 5xx " + text,
		Number: 42, Status: nova.StatusTriggered, HTMLURL: "https://acme.pagerduty.com/incidents/Q1", Mode: nova.ModeAction,
		TriggeredAt: fixtureTime, HypothesisAt: fixtureTime.Add(20 * time.Second), SlackChannel: "C0CHECKOUT",
		Triage: &nova.TriageResult{Hypotheses: []nova.Hypothesis{
			{Rank: 1, Summary: "Deploy 981 of checkout-api " + text, Category: nova.CategoryChange, Confidence: 0.82,
				Evidence: []nova.Evidence{
					{Kind: nova.EvidenceChange, Summary: "Deploy checkout " + text, URL: "https://ci.example.com/deploys/981", At: fixtureTime.Add(-8 * time.Minute)},
					{Kind: nova.EvidenceAlert, Summary: "HTTP 5xx 9% " + text},
				},
				Suggestions: []nova.Suggestion{{ID: "s1", Title: "Roll back checkout-api " + text, Action: "rollback", Destructive: true, RunbookURL: "https://runbooks.example.com/rollback"}}},
			{Rank: 2, Summary: "Database saturation " + text, Category: nova.CategoryResource, Confidence: 0.1},
		}, Checked: []string{"alerts", "changes " + text}, NotChecked: []string{"past incidents: timeout " + text}},
	}
	return &fakeData{
		recs: map[string]nova.IncidentRecord{"Q1": rec},
		reqs: []nova.ApprovalRequest{{ID: "apr-1", Environment: "prod", ServiceID: "PCHECKOUT", IncidentID: "Q1", Action: "rollback",
			Title: "Roll back checkout-api " + text, Destructive: true, Params: map[string]string{"service": "checkout " + text},
			Reason: text, Approvers: []string{"U0ALICE"}, RequiredApprovals: 1, State: nova.ApprovalPending,
			CreatedAt: fixtureTime, ExpiresAt: fixtureTime.Add(time.Hour), Result: text}},
		audit: []nova.AuditEntry{{Seq: 1, Time: fixtureTime, Incident: "Q1", Actor: "nova", Action: "note.hypothesis", Outcome: nova.OutcomeOK, Detail: text}},
		services: []ServiceStatus{{Service: nova.Service{ID: "PCHECKOUT", Name: "checkout " + text, Environment: "prod", WatchDays: 14},
			State: nova.ServiceState{ServiceID: "PCHECKOUT", Mode: nova.ModeReadOnly, Since: fixtureTime, ReadOnlySince: fixtureTime,
				ChangedBy: text, IncidentsSeen: 3, Hypotheses: 3, HypothesisSeconds: 60, Helpful: 2, Wrong: 1, NovaAcks: 1, NovaAckSeconds: 30, PersonAcks: 1, PersonAckSeconds: 300}}},
		actions: map[string]nova.Action{"rollback": {Name: "rollback", Title: "Roll back " + text, Description: text, Destructive: true}},
	}
}

// rig is the pages behind an httptest server, with the Slack emulator as
// the OpenID Connect issuer.
type rig struct {
	t      *testing.T
	srv    *httptest.Server
	sl     *slackemu.Emulator
	data   *fakeData
	now    time.Time
	mu     sync.Mutex
	cfg    SignInConfig
	refuse []string
	pages  *Pages
}

func (r *rig) clock() time.Time {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.now
}

func (r *rig) advance(d time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.now = r.now.Add(d)
}

const testTeam = "T0SLACKEMU"

func newRig(t *testing.T, data *fakeData) *rig { return newRigWith(t, data, nil) }

func newRigWith(t *testing.T, data *fakeData, decider Decider) *rig {
	t.Helper()
	sl := slackemu.New(slackemu.Options{})
	if _, err := sl.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sl.Close() })
	for _, u := range []string{"U0ALICE", "U0BOB", "U0MALLORY"} {
		sl.AddUser(u, strings.ToLower(u[2:]))
	}
	rg := &rig{t: t, sl: sl, data: data, now: time.Now()}
	r := mux.NewRouter()
	rg.srv = httptest.NewServer(r)
	t.Cleanup(rg.srv.Close)
	sl.AddOIDCClient(slackemu.OIDCClient{ID: "123.456", Secret: "oidc-secret-0123456789", RedirectURIs: []string{rg.srv.URL + CallbackPath}})
	rg.cfg = SignInConfig{Issuer: sl.Issuer(), ClientID: "123.456", ClientSecret: "oidc-secret-0123456789", TeamID: testTeam,
		RedirectURL: rg.srv.URL + CallbackPath, SessionKey: []byte("session-key-0123456789-0123456789-abcdef"), SessionTTL: 12 * time.Hour}
	pg, err := NewPages(PagesConfig{Data: data, SignIn: func() SignInConfig { rg.mu.Lock(); defer rg.mu.Unlock(); return rg.cfg },
		Log: quiet(), Now: rg.clock, Decider: decider, OnRefused: func(what, reason, _ string) {
			rg.mu.Lock()
			defer rg.mu.Unlock()
			rg.refuse = append(rg.refuse, what+": "+reason)
		}})
	if err != nil {
		t.Fatal(err)
	}
	pg.Register(r)
	rg.pages = pg
	return rg
}

// browser is an HTTP client with a cookie jar that follows redirects.
func (r *rig) browser() *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, Timeout: 10 * time.Second}
}

// signIn signs c in to the emulated Slack as user and then to Nova.
func (r *rig) signIn(c *http.Client, user string) {
	r.t.Helper()
	get(r.t, c, r.sl.SignInURL(user), 200)
	body := get(r.t, c, r.srv.URL+"/", 200)
	if !strings.Contains(body, "Sign out") {
		r.t.Fatalf("not signed in after the flow:\n%s", body)
	}
}

func get(t *testing.T, c *http.Client, u string, want int) string {
	t.Helper()
	resp, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		t.Fatalf("GET %s: status %d, want %d\n%s", u, resp.StatusCode, want, b)
	}
	return string(b)
}

func noRedirect(c *http.Client) *http.Client {
	cc := *c
	cc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &cc
}

func TestPagesSendBrowsersToSignIn(t *testing.T) {
	rg := newRig(t, fixture("x"))
	c := noRedirect(rg.browser())
	resp, err := c.Get(rg.srv.URL + "/incidents/Q1?x=1")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/auth/login?next=%2Fincidents%2FQ1%3Fx%3D1" {
		t.Fatalf("status %d location %q, want 303 to the sign-in", resp.StatusCode, resp.Header.Get("Location"))
	}
	// The sign-in goes to Slack's authorize endpoint with state, nonce and PKCE.
	resp, err = c.Get(rg.srv.URL + resp.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, _ := url.Parse(resp.Header.Get("Location"))
	q := loc.Query()
	if !strings.HasPrefix(loc.String(), rg.sl.Issuer()+"/openid/connect/authorize") || q.Get("state") == "" || q.Get("nonce") == "" ||
		q.Get("code_challenge_method") != "S256" || q.Get("code_challenge") == "" || q.Get("scope") != "openid profile email" ||
		q.Get("redirect_uri") != rg.srv.URL+CallbackPath || q.Get("client_id") != "123.456" {
		t.Fatalf("authorize URL %s", loc)
	}
	if strings.Contains(loc.String(), "oidc-secret") {
		t.Fatal("the client secret is in the authorize URL")
	}
	var sc *http.Cookie
	for _, ck := range resp.Cookies() {
		if ck.Name == signInCookie {
			sc = ck
		}
	}
	if sc == nil || !sc.HttpOnly || sc.SameSite != http.SameSiteLaxMode {
		t.Fatalf("sign-in cookie %+v: want HttpOnly, SameSite=Lax", sc)
	}
}

func TestSignInWithSlackShowsTheIncident(t *testing.T) {
	rg := newRig(t, fixture("x"))
	c := rg.browser()
	get(t, c, rg.sl.SignInURL("U0ALICE"), 200)
	body := get(t, c, rg.srv.URL+"/incidents/Q1", 200)
	for _, want := range []string{"Deploy 981 of checkout-api x", "82%", `href="https://ci.example.com/deploys/981"`,
		"Database saturation x", "Open in PagerDuty", "/incidents/Q1/suggestions/s1", "note.hypothesis", "alice", "Not checked:"} {
		if !strings.Contains(body, want) {
			t.Errorf("incident page lacks %q", want)
		}
	}
	u, _ := url.Parse(rg.srv.URL)
	var sess *http.Cookie
	for _, ck := range c.Jar.Cookies(u) {
		if ck.Name == sessionCookie {
			sess = ck
		}
	}
	if sess == nil {
		t.Fatal("no session cookie after signing in")
	}
	if strings.Contains(sess.Value, "oidc-secret") || strings.Contains(body, "oidc-secret") {
		t.Fatal("the client secret leaked")
	}
	// The other pages.
	if b := get(t, c, rg.srv.URL+"/", 200); !strings.Contains(b, "67% helpful (2 of 3 incidents judged)") || !strings.Contains(b, "50% (1 of 2)") || !strings.Contains(b, "4m30s per ack") {
		t.Errorf("services page:\n%s", b)
	}
	if b := get(t, c, rg.srv.URL+"/incidents?service=PCHECKOUT&status=triggered", 200); !strings.Contains(b, "#42 checkout-api 5xx x") {
		t.Errorf("incident list:\n%s", b)
	}
	if b := get(t, c, rg.srv.URL+"/incidents?status=resolved", 200); strings.Contains(b, "#42") {
		t.Error("the status filter let a triggered incident through")
	}
	get(t, c, rg.srv.URL+"/incidents?status=<script>", 400)
	b := get(t, c, rg.srv.URL+"/incidents/Q1/suggestions/s1", 200)
	for _, want := range []string{"Roll back checkout-api x", "rollback", "https://runbooks.example.com/rollback",
		"U0ALICE", "0 of 1 approvals", "pending", "Nova is not paused.", `<dt>Destructive</dt><dd><span class="tag danger">yes</span>`} {
		if !strings.Contains(b, want) {
			t.Errorf("suggestion page lacks %q", want)
		}
	}
	get(t, c, rg.srv.URL+"/incidents/Q1/suggestions/nope", 404)
	get(t, c, rg.srv.URL+"/incidents/Q2", 404)
}

func TestSignInRefusals(t *testing.T) {
	rg := newRig(t, fixture("x"))
	t.Run("another workspace", func(t *testing.T) {
		rg.sl.AddUser("U0OTHER", "other")
		rg.sl.SetUserTeam("U0OTHER", "T0ELSEWHERE")
		c := rg.browser()
		get(t, c, rg.sl.SignInURL("U0OTHER"), 200)
		b := get(t, c, rg.srv.URL+"/incidents/Q1", 401)
		if !strings.Contains(b, "another workspace") || strings.Contains(b, "Deploy 981") {
			t.Fatalf("page:\n%s", b)
		}
		get(t, noRedirect(c), rg.srv.URL+"/incidents/Q1", 303)
	})
	t.Run("forged callback", func(t *testing.T) {
		c := rg.browser()
		get(t, c, rg.sl.SignInURL("U0ALICE"), 200)
		nr := noRedirect(c)
		resp, err := nr.Get(rg.srv.URL + LoginPath)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		// A code minted for this browser, returned with another state.
		resp, err = nr.Get(resp.Header.Get("Location"))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		cb, _ := url.Parse(resp.Header.Get("Location"))
		q := cb.Query()
		q.Set("state", "attacker")
		cb.RawQuery = q.Encode()
		get(t, c, cb.String(), 401)
		get(t, nr, rg.srv.URL+"/", 303)
	})
	t.Run("callback without the sign-in cookie", func(t *testing.T) {
		get(t, rg.browser(), rg.srv.URL+CallbackPath+"?code=x&state=y", 401)
	})
	t.Run("tampered session", func(t *testing.T) {
		c := rg.browser()
		rg.signIn(c, "U0BOB")
		u, _ := url.Parse(rg.srv.URL)
		for _, ck := range c.Jar.Cookies(u) {
			if ck.Name == sessionCookie {
				payload, sig, _ := strings.Cut(ck.Value, ".")
				forged := Session{UserID: "U0ALICE", TeamID: testTeam, CSRF: "x", Expires: time.Now().Add(time.Hour).Unix()}
				fp, _ := newSigner([]byte("not-the-key-0123456789-0123456789-abc"), "session").seal(forged)
				fpayload, _, _ := strings.Cut(fp, ".")
				_ = payload
				c.Jar.SetCookies(u, []*http.Cookie{{Name: sessionCookie, Value: fpayload + "." + sig, Path: "/"}})
			}
		}
		get(t, noRedirect(c), rg.srv.URL+"/", 303)
	})
	t.Run("expired session", func(t *testing.T) {
		c := rg.browser()
		rg.signIn(c, "U0BOB")
		rg.advance(13 * time.Hour)
		defer rg.advance(-13 * time.Hour)
		get(t, noRedirect(c), rg.srv.URL+"/", 303)
	})
	t.Run("rotated session key", func(t *testing.T) {
		c := rg.browser()
		rg.signIn(c, "U0BOB")
		rg.mu.Lock()
		old := rg.cfg.SessionKey
		rg.cfg.SessionKey = []byte("rotated-key-0123456789-0123456789-abcdef")
		rg.mu.Unlock()
		defer func() { rg.mu.Lock(); rg.cfg.SessionKey = old; rg.mu.Unlock() }()
		get(t, noRedirect(c), rg.srv.URL+"/", 303)
	})
	rg.mu.Lock()
	defer rg.mu.Unlock()
	if len(rg.refuse) < 3 {
		t.Fatalf("refusals reported for the audit: %q", rg.refuse)
	}
}

func TestLogoutNeedsTheFormToken(t *testing.T) {
	rg := newRig(t, fixture("x"))
	c := rg.browser()
	rg.signIn(c, "U0ALICE")
	resp, err := c.PostForm(rg.srv.URL+LogoutPath, url.Values{"csrf": {"forged"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("logout with a forged token: %d, want 403", resp.StatusCode)
	}
	get(t, c, rg.srv.URL+"/", 200) // still signed in
	page := get(t, c, rg.srv.URL+"/", 200)
	m := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(page)
	if m == nil {
		t.Fatal("no CSRF token in the page")
	}
	resp, err = c.PostForm(rg.srv.URL+LogoutPath, url.Values{"csrf": {m[1]}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Request.URL.Path != "/signed-out" {
		t.Fatalf("logout: %d at %s", resp.StatusCode, resp.Request.URL)
	}
	get(t, noRedirect(c), rg.srv.URL+"/", 303)
}

func TestPagesSendSecurityHeaders(t *testing.T) {
	rg := newRig(t, fixture("x"))
	c := rg.browser()
	rg.signIn(c, "U0ALICE")
	resp, err := c.Get(rg.srv.URL + "/incidents/Q1")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	h := resp.Header
	if csp := h.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") || strings.Contains(csp, "unsafe") {
		t.Errorf("CSP %q", csp)
	}
	if h.Get("X-Frame-Options") != "DENY" || h.Get("Cache-Control") != "no-store" || h.Get("Referrer-Policy") != "same-origin" {
		t.Errorf("headers %v", h)
	}
	css := get(t, c, rg.srv.URL+"/static/nova.css", 200)
	if !strings.Contains(css, "max-width") {
		t.Error("stylesheet not served from the binary")
	}
}

func TestSessionCookieIsSecureBehindHTTPS(t *testing.T) {
	w := httptest.NewRecorder()
	setCookie(w, SignInConfig{Secure: true}, sessionCookie, "v", time.Hour)
	ck := w.Result().Cookies()[0]
	if !ck.Secure || !ck.HttpOnly || ck.SameSite != http.SameSiteLaxMode || ck.MaxAge != 3600 {
		t.Fatalf("cookie %+v", ck)
	}
}

func TestSignInOnlyReturnsToNovasOwnPages(t *testing.T) {
	for in, want := range map[string]string{
		"/incidents/Q1": "/incidents/Q1", "//evil.example/x": "/", "https://evil.example": "/", `/\evil.example`: "/",
		"": "/", "/a\r\nSet-Cookie: x": "/",
	} {
		if got := localPath(in); got != want {
			t.Errorf("localPath(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestBrowserRedirect(t *testing.T) {
	api := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusTeapot) })
	h := BrowserRedirect(func(*http.Request) string { return "/incidents/Q1" }, api)
	for _, c := range []struct {
		accept, auth string
		want         int
	}{
		{"text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", "", 303},
		{"text/html", "Bearer k", http.StatusTeapot},
		{"application/json", "", http.StatusTeapot},
		{"", "", http.StatusTeapot},
	} {
		r := httptest.NewRequest(http.MethodGet, "/api/v1/incidents/Q1", nil)
		r.Header.Set("Accept", c.accept)
		if c.auth != "" {
			r.Header.Set("Authorization", c.auth)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != c.want {
			t.Errorf("Accept %q auth %q: %d, want %d", c.accept, c.auth, w.Code, c.want)
		}
	}
}

func TestPagesWithoutSignInConfigured(t *testing.T) {
	pg, err := NewPages(PagesConfig{Data: fixture("x"), SignIn: func() SignInConfig { return SignInConfig{} }, Log: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	r := mux.NewRouter()
	pg.Register(r)
	w := httptest.NewRecorder()
	r.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/incidents/Q1", nil))
	if w.Code != http.StatusServiceUnavailable || !strings.Contains(w.Body.String(), "web.oidc") {
		t.Fatalf("%d %s", w.Code, w.Body)
	}
}

// When Slack's sign-in service cannot be reached, the sign-in says so
// (503) and the next attempt tries discovery again.
func TestSignInWhenSlackIsUnreachable(t *testing.T) {
	rg := newRig(t, fixture("x"))
	rg.mu.Lock()
	good := rg.cfg.Issuer
	rg.cfg.Issuer = "http://127.0.0.1:1"
	rg.mu.Unlock()
	c := rg.browser()
	get(t, c, rg.sl.SignInURL("U0ALICE"), 200)
	if b := get(t, c, rg.srv.URL+"/incidents/Q1", 503); !strings.Contains(b, "could not be reached") {
		t.Fatalf("page:\n%s", b)
	}
	rg.mu.Lock()
	rg.cfg.Issuer = good
	rg.mu.Unlock()
	get(t, c, rg.srv.URL+"/incidents/Q1", 200)
}

// An abstention is shown as one, never as a conclusion; an incident still
// in triage says so.
func TestAbstentionIsNotAConclusion(t *testing.T) {
	data := fixture("x")
	rec := data.recs["Q1"]
	tr := *rec.Triage
	tr.Abstained = true
	rec.Triage = &tr
	pending := rec
	pending.ID, pending.Triage = "Q2", nil
	data.recs["Q1"], data.recs["Q2"] = rec, pending
	rg := newRig(t, data)
	c := rg.browser()
	rg.signIn(c, "U0ALICE")
	b := get(t, c, rg.srv.URL+"/incidents/Q1", 200)
	if !strings.Contains(b, "Nova <strong>abstained</strong>") || strings.Contains(b, `class="summary"`) || strings.Contains(b, "<h2>Suggestions</h2>") {
		t.Errorf("abstained incident page:\n%s", b)
	}
	if !strings.Contains(b, "Other candidates (none confident enough)") || strings.Contains(b, "Runners-up") {
		t.Error("an abstention's other candidates are shown as runners-up")
	}
	if !strings.Contains(b, "Strongest candidate it would not stand behind: Deploy 981") {
		t.Error("the abstention does not say which candidate it would not stand behind")
	}
	if l := get(t, c, rg.srv.URL+"/incidents", 200); !strings.Contains(l, "Nova abstained") || strings.Contains(l, ">Deploy 981") || !strings.Contains(l, "Triage pending") {
		t.Errorf("incident list:\n%s", l)
	}
	if p := get(t, c, rg.srv.URL+"/incidents/Q2", 200); !strings.Contains(p, "Triage is still running") {
		t.Errorf("pending incident page:\n%s", p)
	}
}

// The services page shows the verdicts that calibrate confidence, one per
// incident (a person's, else the resolution's), as /nova status does, and
// the promotion rule's own count of buttons and marks beside it.
func TestServicesPageShowsPerIncidentVerdicts(t *testing.T) {
	data := fixture("x")
	st := &data.services[0].State
	st.Helpful, st.Wrong = 11, 5
	st.VerdictsHelpful, st.VerdictsWrong, st.ResolutionHelpful, st.ResolutionWrong, st.VerdictsSeeded = 18, 7, 5, 2, true
	rg := newRig(t, data)
	c := rg.browser()
	get(t, c, rg.sl.SignInURL("U0ALICE"), 200)
	b := get(t, c, rg.srv.URL+"/", 200)
	for _, want := range []string{"72% helpful (18 of 25 incidents judged; 7 by resolution)",
		"Promotion counts", "11 helpful, 5 wrong (responders&#39; Helpful / Wrong buttons and backtest marks)"} {
		if !strings.Contains(b, want) {
			t.Errorf("services page lacks %q:\n%s", want, b)
		}
	}
	// Before any feedback: nothing judged, and no promotion line.
	data = fixture("x")
	data.services[0].State.Helpful, data.services[0].State.Wrong = 0, 0
	rg = newRig(t, data)
	c = rg.browser()
	get(t, c, rg.sl.SignInURL("U0ALICE"), 200)
	if b := get(t, c, rg.srv.URL+"/", 200); !strings.Contains(b, "no feedback yet") || strings.Contains(b, "Promotion counts") {
		t.Errorf("services page without feedback:\n%s", b)
	}
}
