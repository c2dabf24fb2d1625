package web

import (
	"context"
	"net/http"
	"time"

	"github.com/novasre/nova"
	"github.com/novasre/nova/review"
)

// ReviewSource builds the rollout review of the period that ends now.
type ReviewSource interface {
	Review(ctx context.Context, period time.Duration) (review.Report, error)
}

// reviewBudget bounds building a review for an HTTP request (it reads
// PagerDuty), inside the server's write timeout.
const reviewBudget = 25 * time.Second

// ReviewHandler serves GET /api/v1/review?since=90d&format=json|md: the
// rollout review as JSON (default) or Markdown. It answers 200 whether or
// not something needs action; needs_action says which.
func ReviewHandler(src ReviewSource) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		period := 90 * 24 * time.Hour
		if s := q.Get("since"); s != "" {
			d, err := review.ParsePeriod(s)
			if err != nil {
				WriteError(w, nova.Errorf(nova.EINVALID, "since: %v", err))
				return
			}
			period = d
		}
		format := q.Get("format")
		if format != "" && format != "json" && format != "md" {
			WriteError(w, nova.Errorf(nova.EINVALID, "format must be json or md"))
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), reviewBudget)
		defer cancel()
		rep, err := src.Review(ctx, period)
		if err != nil {
			WriteError(w, err)
			return
		}
		if format == "md" {
			w.Header().Set("Content-Type", "text/markdown; charset=utf-8")
			w.Header().Set("X-Content-Type-Options", "nosniff")
			w.WriteHeader(http.StatusOK)
			_, _ = w.Write([]byte(rep.Markdown()))
			return
		}
		WriteJSON(w, http.StatusOK, rep)
	})
}
