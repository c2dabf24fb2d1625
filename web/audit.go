package web

import (
	"encoding/csv"
	"encoding/json"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/novasre/nova"
)

// AuditFilter narrows the audit page; empty fields match everything.
type AuditFilter struct {
	Incident string
	Actor    string
	// Action is an action name or its prefix ("approval." for all of them).
	Action   string
	From, To time.Time
	// Limit is how many matching entries to return, newest first.
	Limit int
}

// AuditWindow is what the audit page shows: the matching entries among the
// latest ones, and the hash-chain check over all of those latest ones.
type AuditWindow struct {
	Entries []nova.AuditEntry
	// Checked entries FirstSeq..LastSeq (the latest of the log).
	Checked           int64
	FirstSeq, LastSeq int64
	// Problem is the chain check's first problem, "" when intact.
	Problem string
	// Keyed: the entries are sealed with an audit key (HMAC), not only
	// chained with SHA-256.
	Keyed bool
}

var (
	auditActionRule = regexp.MustCompile(`^[a-z0-9_.-]{0,64}$`)
	auditActorRule  = regexp.MustCompile(`^[A-Za-z0-9_.:@-]{0,80}$`)
)

// maxAuditShown bounds the entries one page or export holds.
const maxAuditShown = 1000

func parseWhen(s string, endOfDay bool) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	t, err := time.Parse("2006-01-02", s)
	if err != nil {
		return t, err
	}
	if endOfDay {
		t = t.Add(24*time.Hour - time.Nanosecond)
	}
	return t, nil
}

type auditView struct {
	Filter   AuditFilter
	From, To string
	Window   AuditWindow
	// Export links: the same filters as a download.
	JSONL, CSV string
}

// audit serves /audit: entries filterable by incident, actor, action and
// time, the chain check, and ?format=jsonl or csv to export them.
func (pg *Pages) audit(r *http.Request, _ Session) (string, view, error) {
	q := r.URL.Query()
	f := AuditFilter{Incident: q.Get("incident"), Actor: q.Get("actor"), Action: q.Get("action"), Limit: 200}
	if f.Incident != "" && !incidentIDPattern.MatchString(f.Incident) {
		return "", view{}, nova.Errorf(nova.EINVALID, "incident must be a PagerDuty incident id")
	}
	if !auditActorRule.MatchString(f.Actor) || !auditActionRule.MatchString(f.Action) {
		return "", view{}, nova.Errorf(nova.EINVALID, "actor is like slack:U0ALICE or nova; action like approval.approve or approval.")
	}
	var err error
	if f.From, err = parseWhen(q.Get("from"), false); err != nil {
		return "", view{}, nova.Errorf(nova.EINVALID, "from must be a date (2026-12-01) or an RFC 3339 time")
	}
	if f.To, err = parseWhen(q.Get("to"), true); err != nil {
		return "", view{}, nova.Errorf(nova.EINVALID, "to must be a date (2026-12-01) or an RFC 3339 time")
	}
	if format := q.Get("format"); format != "" {
		if format != "jsonl" && format != "csv" {
			return "", view{}, nova.Errorf(nova.EINVALID, "format is jsonl or csv")
		}
		f.Limit = maxAuditShown
	}
	w, err := pg.cfg.Data.Audit(r.Context(), f)
	if err != nil {
		return "", view{}, err
	}
	v := auditView{Filter: f, Window: w, From: q.Get("from"), To: q.Get("to")}
	for _, format := range []string{"jsonl", "csv"} {
		e := r.URL.Query()
		e.Set("format", format)
		if format == "jsonl" {
			v.JSONL = "/audit?" + e.Encode()
		} else {
			v.CSV = "/audit?" + e.Encode()
		}
	}
	return "audit", view{Title: "Audit", Nav: "audit", Data: v}, nil
}

// auditPage serves /audit as a page, or with ?format= as a download.
func (pg *Pages) auditPage() http.Handler {
	return pg.pageOrDownload(pg.audit, func(r *http.Request) bool { return r.URL.Query().Get("format") != "" },
		func(w http.ResponseWriter, r *http.Request, v view) {
			exportAudit(w, r.URL.Query().Get("format"), v.Data.(auditView).Window.Entries)
		})
}

// pageOrDownload serves fn's page, or, when the request asks for a
// download, the same view (same sign-in, same access) through download.
func (pg *Pages) pageOrDownload(fn pageFunc, wantsDownload func(*http.Request) bool, download func(http.ResponseWriter, *http.Request, view)) http.Handler {
	page := pg.page(fn)
	return pg.secured(func(w http.ResponseWriter, r *http.Request) {
		if !wantsDownload(r) {
			page.ServeHTTP(w, r)
			return
		}
		s, ok := sessionFrom(r, pg.cfg.SignIn(), pg.now())
		if !ok {
			http.Redirect(w, r, loginURL(r.URL.RequestURI()), http.StatusSeeOther)
			return
		}
		_, v, err := fn(r, s)
		if err != nil {
			pg.errorPage(w, r, &s, err)
			return
		}
		download(w, r, v)
	})
}

// exportAudit writes entries as JSON lines or CSV, for download.
func exportAudit(w http.ResponseWriter, format string, entries []nova.AuditEntry) {
	name := "nova-audit." + format
	w.Header().Set("Content-Disposition", `attachment; filename="`+name+`"`)
	w.Header().Set("X-Content-Type-Options", "nosniff")
	if format == "jsonl" {
		w.Header().Set("Content-Type", "application/jsonl; charset=utf-8")
		enc := json.NewEncoder(w)
		for _, e := range entries {
			_ = enc.Encode(e)
		}
		return
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	cw := csv.NewWriter(w)
	_ = cw.Write([]string{"seq", "time", "environment", "service", "incident", "actor", "action", "outcome", "detail", "pagerduty_ref", "key_id", "hash"})
	for _, e := range entries {
		_ = cw.Write([]string{strconv.FormatInt(e.Seq, 10), e.Time.UTC().Format(time.RFC3339Nano), cell(e.Environment), cell(e.Service),
			cell(e.Incident), cell(e.Actor), cell(e.Action), cell(e.Outcome), cell(e.Detail), cell(e.PagerDutyRef), cell(e.KeyID), e.Hash})
	}
	cw.Flush()
}

// cell keeps outside text a value in a spreadsheet: a cell that starts
// like a formula gets a leading apostrophe.
func cell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}
