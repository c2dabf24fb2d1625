package web

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/novasre/nova"
	"github.com/novasre/nova/review"
)

type fakeReviews struct {
	period time.Duration
	err    error
}

func (f *fakeReviews) Review(_ context.Context, period time.Duration) (review.Report, error) {
	f.period = period
	if f.err != nil {
		return review.Report{}, f.err
	}
	now := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	return review.Build(review.Input{Now: now, Since: now.Add(-period),
		Credentials: []review.Credential{{Kind: "api_key", Name: "dash", Created: now.Add(-100 * 24 * time.Hour), AgeDays: 100, Status: "due"}}}), nil
}

func TestReviewHandler(t *testing.T) {
	src := &fakeReviews{}
	h := ReviewHandler(src)
	get := func(q string) *httptest.ResponseRecorder {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/api/v1/review"+q, nil))
		return rec
	}
	rec := get("")
	var rep review.Report
	if rec.Code != 200 || json.Unmarshal(rec.Body.Bytes(), &rep) != nil || !rep.NeedsAction || src.period != 90*24*time.Hour {
		t.Fatalf("default: %d %s (period %v)", rec.Code, rec.Body, src.period)
	}
	if rec := get("?since=30d&format=md"); rec.Code != 200 || !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/markdown") ||
		!strings.Contains(rec.Body.String(), "## Key age") || src.period != 30*24*time.Hour {
		t.Errorf("markdown: %d %s", rec.Code, rec.Body)
	}
	for _, q := range []string{"?since=forever", "?since=10m", "?format=pdf"} {
		if rec := get(q); rec.Code != 400 {
			t.Errorf("%s: %d, want 400", q, rec.Code)
		}
	}
	src.err = nova.Errorf(nova.EUNAVAILABLE, "store unreachable")
	if rec := get(""); rec.Code != 503 {
		t.Errorf("store down: %d, want 503", rec.Code)
	}
}
