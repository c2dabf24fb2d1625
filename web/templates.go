package web

import (
	"fmt"
	"html/template"
	"net/http"
	"strings"

	"github.com/novasre/nova"
)

// pageNames are the templates under templates/, each rendered inside layout.
var pageNames = []string{"overview", "incidents", "incident", "suggestion", "audit", "postmortem", "backtest", "review", "error", "signedout"}

var evidenceKinds = map[string]string{
	nova.EvidenceAlert: "alert", nova.EvidenceChange: "change", nova.EvidencePastIncident: "past incident",
	nova.EvidenceRelatedIncident: "related incident", nova.EvidenceOutlier: "outlier",
	nova.EvidenceSignature: "signature", nova.EvidenceRunbook: "runbook",
}

// funcs are the template helpers. Every value they return is plain text
// that html/template escapes, except safeURL's, which is an http(s) URL
// that nova.SafeURL accepted (and html/template still escapes as a URL).
var funcs = template.FuncMap{
	"stamp": stamp,
	"pct":   func(f float64) string { return fmt.Sprintf("%.0f%%", 100*f) },
	"join":  strings.Join,
	"safeURL": func(s string) string {
		if u, ok := nova.SafeURL(s); ok {
			return u
		}
		return ""
	},
	"evidenceKind": func(k string) string {
		if s, ok := evidenceKinds[k]; ok {
			return s
		}
		return k
	},
	"statusText": http.StatusText,
}

func parseTemplates() (map[string]*template.Template, error) {
	base, err := template.New("layout.html").Funcs(funcs).ParseFS(assets, "templates/layout.html")
	if err != nil {
		return nil, fmt.Errorf("web: parse layout: %w", err)
	}
	out := map[string]*template.Template{}
	for _, name := range pageNames {
		t, err := template.Must(base.Clone()).ParseFS(assets, "templates/"+name+".html")
		if err != nil {
			return nil, fmt.Errorf("web: parse %s: %w", name, err)
		}
		out[name] = t
	}
	return out, nil
}
