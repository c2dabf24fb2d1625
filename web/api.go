package web

import (
	"context"
	"net/http"
	"regexp"
	"strconv"
	"time"

	"github.com/gorilla/mux"

	"github.com/novasre/nova"
)

// Incidents is where the API reads incident records.
type Incidents interface {
	Incident(ctx context.Context, id string) (nova.IncidentRecord, error)
}

// AuditLog is where the API reads audit entries.
type AuditLog interface {
	ListAudit(ctx context.Context, afterSeq int64, limit int) ([]nova.AuditEntry, error)
}

var incidentIDPattern = regexp.MustCompile(`^[A-Za-z0-9]{1,40}$`)

// IncidentResponse is the JSON of GET /api/v1/incidents/{id}: the record
// with its triage result's fields at the top level.
type IncidentResponse struct {
	nova.IncidentRecord
	TriageStatus string `json:"triage_status"` // pending or done
	nova.TriageResult
	TimeToHypothesisMS int64 `json:"time_to_hypothesis_ms,omitempty"`
	TimeToAckMS        int64 `json:"time_to_ack_ms,omitempty"`
}

// MarshalJSON merges the record and the triage result into one object.
func (r IncidentResponse) MarshalJSON() ([]byte, error) {
	return mergeJSON(r.IncidentRecord, r.TriageResult, map[string]any{
		"triage_status":         r.TriageStatus,
		"time_to_hypothesis_ms": r.TimeToHypothesisMS,
		"time_to_ack_ms":        r.TimeToAckMS,
	})
}

// IncidentHandler serves GET /api/v1/incidents/{id}.
func IncidentHandler(src Incidents) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := mux.Vars(r)["id"]
		if !incidentIDPattern.MatchString(id) {
			WriteError(w, nova.Errorf(nova.EINVALID, "%q is not a PagerDuty incident id", truncateForError(id)))
			return
		}
		rec, err := src.Incident(r.Context(), id)
		if err != nil {
			WriteError(w, err)
			return
		}
		resp := IncidentResponse{IncidentRecord: rec, TriageStatus: "pending"}
		if rec.Triage != nil {
			resp.TriageResult, resp.TriageStatus = *rec.Triage, "done"
		}
		resp.IncidentRecord.Triage = nil
		resp.TimeToHypothesisMS = rec.TimeToHypothesis().Milliseconds()
		resp.TimeToAckMS = rec.TimeToAck().Milliseconds()
		WriteJSON(w, http.StatusOK, resp)
	})
}

// MaxAuditSeq is the largest audit sequence number the API accepts in
// after: far beyond any log's length, and small enough that after+1 cannot
// overflow in a backend (nor lose precision in JSON clients).
const MaxAuditSeq = 1<<53 - 1

// AuditHandler serves GET /api/v1/audit?after=SEQ&limit=N, in order.
func AuditHandler(src AuditLog) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		after, err := parseInt(q.Get("after"), 0)
		if err != nil || after < 0 || after > MaxAuditSeq {
			WriteError(w, nova.Errorf(nova.EINVALID, "after must be an audit sequence number between 0 and %d", MaxAuditSeq))
			return
		}
		limit, err := parseInt(q.Get("limit"), 100)
		if err != nil || limit < 1 || limit > 1000 {
			WriteError(w, nova.Errorf(nova.EINVALID, "limit must be between 1 and 1000"))
			return
		}
		entries, err := src.ListAudit(r.Context(), after, int(limit))
		if err != nil {
			WriteError(w, err)
			return
		}
		if entries == nil {
			entries = []nova.AuditEntry{}
		}
		WriteJSON(w, http.StatusOK, map[string]any{"entries": entries})
	})
}

func parseInt(s string, def int64) (int64, error) {
	if s == "" {
		return def, nil
	}
	return strconv.ParseInt(s, 10, 64)
}

func truncateForError(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}

// Health serves /healthz: the process is up.
func Health() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		WriteJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
}

// Pinger reports whether a dependency is reachable.
type Pinger interface {
	Ping(ctx context.Context) error
}

// ReadyCheck is one more condition of readiness; its error (with a Nova
// code and a message without secrets) is the answer when it fails.
type ReadyCheck func(ctx context.Context) error

// Ready serves /readyz: the store is reachable and every check passes (such
// as enough free disk for the store), so deliveries can be accepted.
func Ready(p Pinger, checks ...ReadyCheck) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		if err := p.Ping(ctx); err != nil {
			WriteError(w, nova.WrapError(nova.EUNAVAILABLE, err, "store unreachable"))
			return
		}
		for _, check := range checks {
			if err := check(ctx); err != nil {
				WriteError(w, err)
				return
			}
		}
		WriteJSON(w, http.StatusOK, map[string]string{"status": "ready"})
	})
}
