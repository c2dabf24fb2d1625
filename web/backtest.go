package web

import (
	"context"
	"net/http"
	"net/url"
	"time"

	"github.com/gorilla/mux"

	"github.com/novasre/nova"
)

// Marks an admin can give an undecided backtest row.
const (
	MarkRight  = "right"
	MarkPartly = "partly"
	MarkWrong  = "wrong"
)

// BacktestRow is one incident of a service's latest backtest as its page
// shows it: Nova's hypothesis as of the trigger beside what happened.
type BacktestRow struct {
	IncidentID  string
	Number      int
	Title       string
	URL         string
	TriggeredAt time.Time
	// Hypothesis is Nova's answer as of the trigger ("" when it abstained).
	Hypothesis string
	// Happened is the resolution, reason or last note.
	Happened string
	// Verdict is right, wrong, undecided or abstained; Why explains it.
	Verdict, Why string
	// Mark is a person's mark of an undecided row (latest wins), by whom.
	Mark, MarkedBy string
	MarkedAt       time.Time
}

// Backtests serves the backtest page: the rows of a service's latest
// backtest, and marks on its undecided rows. cmd/nova wires it to bot,
// which decides who may mark (admins of the service's environment), keeps
// the service's feedback counters and audits every mark and refusal.
type Backtests interface {
	// BacktestRows returns the rows and whether user may mark them.
	BacktestRows(ctx context.Context, user string, svc nova.Service) ([]BacktestRow, bool, error)
	// MarkBacktest records user's mark on the incident's row and returns
	// what happened in plain text; refusals are Nova errors.
	MarkBacktest(ctx context.Context, user string, svc nova.Service, incidentID, mark string) (string, error)
}

type backtestView struct {
	Service nova.Service
	Rows    []BacktestRow
	// Admin may mark undecided rows.
	Admin  bool
	CSRF   string
	Action string
	Marks  []string
}

// BacktestPath is the page of a service's latest backtest.
func BacktestPath(serviceID string) string { return "/backtest/" + url.PathEscape(serviceID) }

func (pg *Pages) backtestService(r *http.Request) (nova.Service, error) {
	id := mux.Vars(r)["service"]
	if !incidentIDPattern.MatchString(id) {
		return nova.Service{}, nova.Errorf(nova.EINVALID, "%q is not a service id", truncateForError(id))
	}
	svc, ok := pg.cfg.Data.Service(id)
	if !ok {
		return nova.Service{}, nova.Errorf(nova.ENOTFOUND, "Nova's configuration declares no service %s", id)
	}
	return svc, nil
}

// backtest serves GET /backtest/{service}.
func (pg *Pages) backtest(r *http.Request, s Session) (string, view, error) {
	if pg.cfg.Backtests == nil {
		return "", view{}, nova.Errorf(nova.ENOTFOUND, "backtests are not available in this deployment")
	}
	svc, err := pg.backtestService(r)
	if err != nil {
		return "", view{}, err
	}
	rows, admin, err := pg.cfg.Backtests.BacktestRows(r.Context(), s.UserID, svc)
	if err != nil {
		return "", view{}, err
	}
	return "backtest", view{Title: "Backtest of " + svc.Name, Nav: "services", Data: backtestView{Service: svc, Rows: rows, Admin: admin,
		CSRF: s.CSRF, Action: BacktestPath(svc.ID), Marks: []string{MarkRight, MarkPartly, MarkWrong}}}, nil
}

// markBacktest handles POST /backtest/{service}: a mark on one row.
func (pg *Pages) markBacktest(w http.ResponseWriter, r *http.Request) {
	s, ok := pg.formSession(w, r, "backtest mark")
	if !ok {
		return
	}
	if pg.cfg.Backtests == nil {
		pg.errorPage(w, r, &s, nova.Errorf(nova.ENOTFOUND, "backtests are not available in this deployment"))
		return
	}
	svc, err := pg.backtestService(r)
	if err != nil {
		pg.errorPage(w, r, &s, err)
		return
	}
	incident := r.PostFormValue("incident")
	if !incidentIDPattern.MatchString(incident) {
		pg.errorPage(w, r, &s, nova.Errorf(nova.EINVALID, "%q is not an incident id", truncateForError(incident)))
		return
	}
	msg, err := pg.cfg.Backtests.MarkBacktest(r.Context(), s.UserID, svc, incident, r.PostFormValue("mark"))
	if err != nil {
		pg.errorPage(w, r, &s, err)
		return
	}
	pg.setFlash(w, msg)
	http.Redirect(w, r, r.URL.Path+"#"+url.QueryEscape(incident), http.StatusSeeOther)
}
