package web

import (
	"context"
	"net/http"
	"net/url"

	"github.com/novasre/nova"
	"github.com/novasre/nova/review"
)

// Reviews serves the review page: who may open it, and the review itself.
// cmd/nova wires MayReview to the rule /nova review uses (bot/rollout):
// the review covers every environment's keys, access and audit log, so
// only global admins (or admins of every environment) may read it.
type Reviews interface {
	ReviewSource
	MayReview(ctx context.Context, user string) (bool, error)
}

// defaultReviewSince is what /review covers without ?since=.
const defaultReviewSince = "90d"

type reviewView struct {
	Report   review.Report
	Since    string
	Markdown string
	JSON     string
	// Urgent are the recommendations someone must act on; Promote the
	// services ready for promotion.
	Urgent, Promote int
}

// reviewPage serves /review: the rollout review as a page, and with
// ?format=md or ?format=json as a download.
func (pg *Pages) reviewPage() http.Handler {
	return pg.pageOrDownload(pg.review, func(r *http.Request) bool { return r.URL.Query().Get("format") != "" },
		func(w http.ResponseWriter, r *http.Request, v view) {
			rv := v.Data.(reviewView)
			name := "nova-review-" + rv.Report.GeneratedAt.UTC().Format("2006-01-02")
			w.Header().Set("X-Content-Type-Options", "nosniff")
			if r.URL.Query().Get("format") == "md" {
				w.Header().Set("Content-Disposition", `attachment; filename="`+name+`.md"`)
				w.Header().Set("Content-Type", "text/markdown; charset=utf-8")
				_, _ = w.Write([]byte(rv.Report.Markdown()))
				return
			}
			w.Header().Set("Content-Disposition", `attachment; filename="`+name+`.json"`)
			WriteJSON(w, http.StatusOK, rv.Report)
		})
}

func (pg *Pages) mayReview(ctx context.Context, s Session) (bool, error) {
	if pg.cfg.Reviews == nil {
		return false, nil
	}
	return pg.cfg.Reviews.MayReview(ctx, s.UserID)
}

func (pg *Pages) review(r *http.Request, s Session) (string, view, error) {
	if pg.cfg.Reviews == nil {
		return "", view{}, nova.Errorf(nova.ENOTFOUND, "the rollout review is not available on this Nova")
	}
	q := r.URL.Query()
	if f := q.Get("format"); f != "" && f != "md" && f != "json" {
		return "", view{}, nova.Errorf(nova.EINVALID, "format must be md or json")
	}
	since := q.Get("since")
	if since == "" {
		since = defaultReviewSince
	}
	period, err := review.ParsePeriod(since)
	if err != nil {
		return "", view{}, nova.Errorf(nova.EINVALID, "since: %v", err)
	}
	ok, err := pg.cfg.Reviews.MayReview(r.Context(), s.UserID)
	if err != nil {
		return "", view{}, err
	}
	if !ok {
		return "", view{}, nova.Errorf(nova.EFORBIDDEN, "only Nova admins of every environment (or global admins) can read the rollout review: it covers every environment's keys, access and audit log")
	}
	ctx, cancel := context.WithTimeout(r.Context(), reviewBudget)
	defer cancel()
	rep, err := pg.cfg.Reviews.Review(ctx, period)
	if err != nil {
		return "", view{}, err
	}
	v := reviewView{Report: rep, Since: since}
	for _, it := range rep.Recommendations {
		if review.NeedsAction(it.Recommendation) {
			v.Urgent++
		} else if it.Recommendation == review.RecPromote {
			v.Promote++
		}
	}
	e := url.Values{"since": {since}}
	e.Set("format", "md")
	v.Markdown = "/review?" + e.Encode()
	e.Set("format", "json")
	v.JSON = "/review?" + e.Encode()
	return "review", view{Title: "Rollout review", Nav: "review", Data: v}, nil
}
