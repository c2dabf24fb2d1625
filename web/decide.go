package web

import (
	"context"
	"net/http"
	"time"

	"github.com/novasre/nova"
)

// Decisions a person can take on an action request from its page.
const (
	VerbApprove = "approve"
	VerbDeny    = "deny"
	VerbApply   = "apply"
)

// Decider takes Apply / Approve / Deny for a signed-in person through the
// same entry point as Slack's buttons: the same approvals policy, the same
// compare-and-set on the stored request, the same audit entries and the
// same PagerDuty status note. cmd/nova wires it to bot.
type Decider interface {
	// MayDecide reports whether user may decide req under the approvals
	// policy in force now (it decides only whether the buttons show; Decide
	// enforces the policy again).
	MayDecide(ctx context.Context, user string, req nova.ApprovalRequest) (bool, error)
	// Decide records verb by user on the request and returns what happened,
	// in plain text. Refusals are Nova errors (EFORBIDDEN, ECONFLICT, ...).
	Decide(ctx context.Context, user string, req nova.ApprovalRequest, verb string) (string, error)
}

// flashCookie carries the outcome of a decision to the page shown next.
const flashCookie = "nova_flash"

type flash struct {
	Text    string `json:"t"`
	Expires int64  `json:"e"`
}

// decisionButtons says which buttons the suggestion page shows.
type decisionButtons struct {
	Approve, Deny, Apply bool
	// Confirm is set on the confirmation step of a destructive approval.
	Confirm bool
	// Reason explains why a signed-in person sees no buttons.
	Reason string
	Action string
	CSRF   string
	ReqID  string
}

// buttons decides what the signed-in person may click on req.
func (pg *Pages) buttons(ctx context.Context, s Session, req nova.ApprovalRequest, confirm bool, action string) (decisionButtons, error) {
	b := decisionButtons{CSRF: s.CSRF, Action: action, ReqID: req.ID}
	if pg.cfg.Decider == nil {
		b.Reason = "Decisions are taken in Slack."
		return b, nil
	}
	if req.State != nova.ApprovalPending {
		return b, nil
	}
	ok, err := pg.cfg.Decider.MayDecide(ctx, s.UserID, req)
	if err != nil {
		return b, err
	}
	if !ok {
		b.Reason = "You are not among the approvers of this request, so you cannot decide it."
		return b, nil
	}
	if req.Destructive {
		b.Approve, b.Deny, b.Confirm = true, !confirm, confirm
	} else {
		b.Apply = true
	}
	return b, nil
}

// decide handles POST /incidents/{id}/suggestions/{suggestion}: Apply,
// Approve (confirmed) or Deny by the signed-in person.
func (pg *Pages) decide(w http.ResponseWriter, r *http.Request) {
	s, ok := pg.formSession(w, r, "decision")
	if !ok {
		return
	}
	if pg.cfg.Decider == nil {
		pg.errorPage(w, r, &s, nova.Errorf(nova.EFORBIDDEN, "decisions are taken in Slack"))
		return
	}
	_, v, err := pg.suggestion(r, s)
	if err != nil {
		pg.errorPage(w, r, &s, err)
		return
	}
	sv := v.Data.(suggestionView)
	verb := r.PostFormValue("verb")
	if sv.Request == nil || sv.Request.Req.ID != r.PostFormValue("request") {
		pg.errorPage(w, r, &s, nova.Errorf(nova.ECONFLICT, "this request is no longer the suggestion's current one; reload the page"))
		return
	}
	req := sv.Request.Req
	switch {
	case verb == VerbApply && !req.Destructive, verb == VerbDeny && req.Destructive:
	case verb == VerbApprove && req.Destructive:
		if r.PostFormValue("confirm") != "yes" {
			http.Redirect(w, r, r.URL.Path+"?confirm=approve#confirm", http.StatusSeeOther)
			return
		}
	default:
		pg.errorPage(w, r, &s, nova.Errorf(nova.EINVALID, "%s is not a decision on this request", truncateForError(verb)))
		return
	}
	msg, err := pg.cfg.Decider.Decide(r.Context(), s.UserID, req, verb)
	if err != nil {
		pg.errorPage(w, r, &s, err)
		return
	}
	pg.setFlash(w, msg)
	http.Redirect(w, r, r.URL.Path, http.StatusSeeOther)
}

// setFlash keeps the outcome of a form for the page the browser is sent
// back to (a signed cookie, one minute).
func (pg *Pages) setFlash(w http.ResponseWriter, msg string) {
	cfg := pg.cfg.SignIn()
	if sealed, err := newSigner(cfg.SessionKey, "flash").seal(flash{Text: msg, Expires: pg.now().Add(time.Minute).Unix()}); err == nil {
		setCookie(w, cfg, flashCookie, sealed, time.Minute)
	}
}

// takeFlash reads and clears the outcome of the last decision.
func (pg *Pages) takeFlash(w http.ResponseWriter, r *http.Request) string {
	c, err := r.Cookie(flashCookie)
	if err != nil {
		return ""
	}
	cfg := pg.cfg.SignIn()
	clearCookie(w, cfg, flashCookie)
	var f flash
	if !newSigner(cfg.SessionKey, "flash").open(c.Value, &f) || pg.now().Unix() >= f.Expires {
		return ""
	}
	return f.Text
}

// formSession starts every form POST of the pages: the body is bounded,
// the person must be signed in, and the form must carry the session's CSRF
// token (a refusal is reported as what by the user). It has answered the
// request when ok is false.
func (pg *Pages) formSession(w http.ResponseWriter, r *http.Request, what string) (Session, bool) {
	cfg := pg.cfg.SignIn()
	s, ok := sessionFrom(r, cfg, pg.now())
	r.Body = http.MaxBytesReader(w, r.Body, 8<<10)
	if !ok {
		pg.errorPage(w, r, nil, nova.Errorf(nova.EUNAUTHORIZED, "you are not signed in (or your session expired): sign in and try again"))
		return s, false
	}
	if !validCSRF(r, s, cfg) {
		if pg.cfg.OnRefused != nil {
			pg.cfg.OnRefused(what+" by "+s.UserID, "no valid CSRF token", ClientAddress(r))
		}
		pg.errorPage(w, r, &s, nova.Errorf(nova.EFORBIDDEN, "the form expired or did not come from Nova's page; reload the page and try again"))
		return s, false
	}
	return s, true
}
