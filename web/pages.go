package web

import (
	"bytes"
	"context"
	"embed"
	"errors"
	"html/template"
	"io/fs"
	"net/http"
	"time"

	"github.com/gorilla/mux"
	"github.com/sirupsen/logrus"

	"github.com/novasre/nova"
)

//go:embed templates/*.html static/*
var assets embed.FS

// IncidentFilter narrows the incident list; empty fields match everything.
type IncidentFilter struct {
	Service     string
	Status      string
	Environment string
	// Limit is how many incidents to return, newest first.
	Limit int
}

// ServiceStatus is one service as the services page shows it.
type ServiceStatus struct {
	Service nova.Service
	State   nova.ServiceState
}

// Overview is what the services page shows.
type Overview struct {
	Services []ServiceStatus
	Paused   bool
	PausedBy string
	PausedAt time.Time
}

// PageData is where the pages read Nova's state. cmd/nova wires it to the
// store and the configuration; web never imports either.
type PageData interface {
	Incident(ctx context.Context, id string) (nova.IncidentRecord, error)
	// Incidents returns recent incidents matching f, newest first.
	Incidents(ctx context.Context, f IncidentFilter) ([]nova.IncidentRecord, error)
	// Requests returns the action requests proposed on an incident.
	Requests(ctx context.Context, incidentID string) ([]nova.ApprovalRequest, error)
	// IncidentAudit returns the incident's recent audit entries, oldest first.
	IncidentAudit(ctx context.Context, incidentID string) ([]nova.AuditEntry, error)
	Overview(ctx context.Context) (Overview, error)
	// Audit returns the entries matching f among the latest, newest first,
	// with the chain check over the latest.
	Audit(ctx context.Context, f AuditFilter) (AuditWindow, error)
	// Service and Action read the configuration.
	Service(id string) (nova.Service, bool)
	Action(name string) (nova.Action, bool)
	// Environments names the configured environments, for the filter.
	Environments() []string
	// Approvers returns the policy for requests in env: who may decide
	// (Slack user and user-group ids) and how many approvals it takes.
	Approvers(env string) ([]string, int)
}

// PagesConfig configures the web pages.
type PagesConfig struct {
	Data PageData
	// SignIn returns the current Sign in with Slack settings.
	SignIn func() SignInConfig
	// HTTPClient talks to the OpenID Connect issuer.
	HTTPClient *http.Client
	Log        logrus.FieldLogger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Postmortems serves the postmortem page's drafts; nil: no such page.
	Postmortems Postmortems
	// Decider takes decisions from the suggestion page; nil: decisions are
	// taken in Slack only.
	Decider Decider
	// Backtests serves the backtest pages; nil: no such page.
	Backtests Backtests
	// Reviews serves the rollout review page to those who may read it;
	// nil: no such page.
	Reviews Reviews
	// OnRefused is told of refused sign-ins and forged or expired forms,
	// for the audit log: what was refused, why, and the client address.
	OnRefused func(what, reason, client string)
}

// Pages serves Nova's web pages for people signed in with Slack.
type Pages struct {
	cfg       PagesConfig
	log       logrus.FieldLogger
	providers *providers
	tmpl      map[string]*template.Template
	static    http.Handler
}

// NewPages parses the embedded templates and returns the pages.
func NewPages(cfg PagesConfig) (*Pages, error) {
	if cfg.Data == nil || cfg.SignIn == nil {
		return nil, errors.New("web: pages need Data and SignIn")
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	}
	if cfg.Log == nil {
		l := logrus.New()
		l.SetOutput(nopWriter{})
		cfg.Log = l
	}
	pg := &Pages{cfg: cfg, log: cfg.Log, providers: newProviders(cfg.HTTPClient)}
	tm, err := parseTemplates()
	if err != nil {
		return nil, err
	}
	pg.tmpl = tm
	sub, err := fs.Sub(assets, "static")
	if err != nil {
		return nil, err
	}
	pg.static = http.StripPrefix("/static/", http.FileServerFS(sub))
	return pg, nil
}

type nopWriter struct{}

func (nopWriter) Write(p []byte) (int, error) { return len(p), nil }

func (pg *Pages) now() time.Time {
	if pg.cfg.Now != nil {
		return pg.cfg.Now()
	}
	return time.Now()
}

// Register adds the pages and the sign-in routes to r.
func (pg *Pages) Register(r *mux.Router) {
	r.Handle("/", pg.page(pg.overview)).Methods(http.MethodGet)
	r.Handle("/incidents", pg.page(pg.incidents)).Methods(http.MethodGet)
	r.Handle("/incidents/{id}", pg.page(pg.incident)).Methods(http.MethodGet)
	r.Handle("/incidents/{id}/suggestions/{suggestion}", pg.page(pg.suggestion)).Methods(http.MethodGet)
	r.HandleFunc("/incidents/{id}/suggestions/{suggestion}", pg.secured(pg.decide)).Methods(http.MethodPost)
	r.Handle("/incidents/{id}/postmortem", pg.postmortemPage()).Methods(http.MethodGet)
	r.Handle("/audit", pg.auditPage()).Methods(http.MethodGet)
	r.Handle("/backtest/{service}", pg.page(pg.backtest)).Methods(http.MethodGet)
	r.HandleFunc("/backtest/{service}", pg.secured(pg.markBacktest)).Methods(http.MethodPost)
	r.Handle("/review", pg.reviewPage()).Methods(http.MethodGet)
	r.Handle("/static/{file}", pg.assets()).Methods(http.MethodGet)
	r.HandleFunc(LoginPath, pg.secured(pg.login)).Methods(http.MethodGet)
	r.HandleFunc(CallbackPath, pg.secured(pg.callback)).Methods(http.MethodGet)
	r.HandleFunc(LogoutPath, pg.secured(pg.logout)).Methods(http.MethodPost)
	r.HandleFunc("/signed-out", pg.secured(pg.signedOut)).Methods(http.MethodGet)
}

// contentSecurityPolicy allows the page's own stylesheet and nothing else:
// no script at all, no inline style, no frames, forms only to Nova.
const contentSecurityPolicy = "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

func securityHeaders(h http.Header) {
	h.Set("Content-Security-Policy", contentSecurityPolicy)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "same-origin") // no referrer to other sites; a form post still names its origin
	h.Set("Cache-Control", "no-store")
}

func (pg *Pages) secured(fn http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		securityHeaders(w.Header())
		fn(w, r)
	}
}

func (pg *Pages) assets() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Header().Set("Cache-Control", "public, max-age=3600")
		pg.static.ServeHTTP(w, r)
	})
}

// view is what a page handler hands its template.
type view struct {
	Title   string
	Session *Session
	// Nav marks the current section.
	Nav  string
	Data any
	// Flash is the outcome of the person's last decision.
	Flash string
}

type pageFunc func(r *http.Request, s Session) (string, view, error)

// page wraps a page handler: security headers, a session (else the
// sign-in), the template, and errors as pages.
func (pg *Pages) page(fn pageFunc) http.Handler {
	return pg.secured(func(w http.ResponseWriter, r *http.Request) {
		cfg := pg.cfg.SignIn()
		s, ok := sessionFrom(r, cfg, pg.now())
		if !ok {
			if !cfg.Enabled() {
				pg.errorPage(w, r, nil, nova.Errorf(nova.EUNAVAILABLE, "Sign in with Slack is not configured (web.oidc in Nova's configuration), so the pages cannot be shown"))
				return
			}
			http.Redirect(w, r, loginURL(r.URL.RequestURI()), http.StatusSeeOther)
			return
		}
		name, v, err := fn(r, s)
		if err != nil {
			pg.errorPage(w, r, &s, err)
			return
		}
		v.Session = &s
		v.Flash = pg.takeFlash(w, r)
		pg.render(w, http.StatusOK, name, v)
	})
}

func (pg *Pages) render(w http.ResponseWriter, status int, name string, v view) {
	var buf bytes.Buffer
	if err := pg.tmpl[name].ExecuteTemplate(&buf, "layout", v); err != nil {
		pg.log.WithError(err).WithField("template", name).Error("page template failed")
		buf.Reset()
		status = http.StatusInternalServerError
		_ = pg.tmpl["error"].ExecuteTemplate(&buf, "layout", view{Title: "Error", Data: errorView{Status: status, Message: "The page could not be shown; the error is in Nova's log."}})
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

type errorView struct {
	Status  int
	Message string
	SignIn  bool
}

// errorPage answers err as a page, with its status and its message (Nova
// error messages hold no secrets).
func (pg *Pages) errorPage(w http.ResponseWriter, r *http.Request, s *Session, err error) {
	securityHeaders(w.Header())
	code := nova.ErrorCode(err)
	status := StatusCode(code)
	if status >= 500 && code != nova.EUNAVAILABLE {
		pg.log.WithError(err).WithField("path", r.URL.Path).Error("page failed")
	}
	pg.render(w, status, "error", view{Title: http.StatusText(status), Session: s,
		Data: errorView{Status: status, Message: nova.ErrorMessage(err), SignIn: code == nova.EUNAUTHORIZED}})
}

func (pg *Pages) signedOut(w http.ResponseWriter, r *http.Request) {
	pg.render(w, http.StatusOK, "signedout", view{Title: "Signed out"})
}

// WantsHTML reports whether a request comes from a browser rather than an
// API client: it sends no credentials and prefers text/html.
func WantsHTML(r *http.Request) bool {
	if r.Header.Get("Authorization") != "" {
		return false
	}
	for _, part := range splitComma(r.Header.Get("Accept")) {
		if part == "text/html" || part == "application/xhtml+xml" {
			return true
		}
	}
	return false
}

// BrowserRedirect sends browsers (WantsHTML) to the page target(r) names
// and everything else to api: the links Nova wrote before the pages
// existed open the page in a browser and keep answering JSON to machines.
func BrowserRedirect(target func(r *http.Request) string, api http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if WantsHTML(r) {
			if t := target(r); t != "" {
				http.Redirect(w, r, t, http.StatusSeeOther)
				return
			}
		}
		api.ServeHTTP(w, r)
	})
}
