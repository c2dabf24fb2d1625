package web

import (
	"context"
	"net/http"

	"github.com/gorilla/mux"

	"github.com/novasre/nova"
	"github.com/novasre/nova/postmortem"
)

// Postmortems is where the API reads postmortem drafts.
type Postmortems interface {
	// Postmortem returns the latest version of the incident's draft, or an
	// ENOTFOUND error when there is none (yet).
	Postmortem(ctx context.Context, incidentID string) (postmortem.Draft, error)
}

// PostmortemHandler serves GET /api/v1/incidents/{id}/postmortem: the
// latest version of the incident's draft as JSON (default, or
// ?format=json) or as a Markdown download (?format=md).
func PostmortemHandler(src Postmortems) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := mux.Vars(r)["id"]
		if !incidentIDPattern.MatchString(id) {
			WriteError(w, nova.Errorf(nova.EINVALID, "%q is not a PagerDuty incident id", truncateForError(id)))
			return
		}
		format := r.URL.Query().Get("format")
		if format != "" && format != "json" && format != "md" {
			WriteError(w, nova.Errorf(nova.EINVALID, "format %q: use md or json", truncateForError(format)))
			return
		}
		d, err := src.Postmortem(r.Context(), id)
		if err != nil {
			WriteError(w, err)
			return
		}
		if format != "md" {
			WriteJSON(w, http.StatusOK, d)
			return
		}
		w.Header().Set("Content-Type", "text/markdown; charset=utf-8")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		// id matched incidentIDPattern: letters and digits only.
		w.Header().Set("Content-Disposition", `attachment; filename="postmortem-`+id+`.md"`)
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write([]byte(postmortem.Markdown(d)))
	})
}
