package web

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/mux"

	"github.com/novasre/nova"
	"github.com/novasre/nova/postmortem"
)

type drafts map[string]postmortem.Draft

func (d drafts) Postmortem(_ context.Context, id string) (postmortem.Draft, error) {
	if v, ok := d[id]; ok {
		return v, nil
	}
	return postmortem.Draft{}, nova.Errorf(nova.ENOTFOUND, "no postmortem draft for incident %s", id)
}

func TestPostmortemHandlerServesJSONAndMarkdown(t *testing.T) {
	at := time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)
	d, _, err := postmortem.Build(postmortem.Input{Record: nova.IncidentRecord{ID: "Q1", Environment: "prod", ServiceID: "P1",
		Title: "checkout <b>down</b>", TriggeredAt: at, ResolvedAt: at.Add(time.Hour)}}, nil, at.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	r := mux.NewRouter()
	r.Handle("/api/v1/incidents/{id}/postmortem", PostmortemHandler(drafts{"Q1": d}))
	get := func(path string) *httptest.ResponseRecorder {
		w := httptest.NewRecorder()
		r.ServeHTTP(w, httptest.NewRequest(http.MethodGet, path, nil))
		return w
	}
	w := get("/api/v1/incidents/Q1/postmortem")
	var body map[string]any
	if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil || w.Code != 200 || body["id"] != "pm-prod-Q1" || body["version"] != float64(1) {
		t.Fatalf("json: %d %v %s", w.Code, err, w.Body)
	}
	w = get("/api/v1/incidents/Q1/postmortem?format=md")
	if w.Code != 200 || !strings.HasPrefix(w.Header().Get("Content-Type"), "text/markdown") ||
		!strings.Contains(w.Header().Get("Content-Disposition"), `filename="postmortem-Q1.md"`) ||
		!strings.HasPrefix(w.Body.String(), "# Postmortem draft: Incident Q1 checkout &lt;b&gt;down&lt;/b&gt;") {
		t.Fatalf("md: %d %v\n%s", w.Code, w.Header(), w.Body)
	}
	if w = get("/api/v1/incidents/Q1/postmortem?format=pdf"); w.Code != 400 || !strings.Contains(w.Body.String(), "use md or json") {
		t.Errorf("unknown format: %d %s", w.Code, w.Body)
	}
	if w = get("/api/v1/incidents/Q404/postmortem"); w.Code != 404 || !strings.Contains(w.Body.String(), "no postmortem draft") {
		t.Errorf("no draft: %d %s", w.Code, w.Body)
	}
	if w = get("/api/v1/incidents/Q-1;x/postmortem"); w.Code != 400 {
		t.Errorf("malformed id: %d", w.Code)
	}
}
