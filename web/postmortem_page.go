package web

import (
	"net/http"
	"net/url"
	"strconv"

	"github.com/novasre/nova"
	"github.com/novasre/nova/postmortem"
)

type postmortemView struct {
	Rec      nova.IncidentRecord
	Draft    postmortem.Draft
	Markdown string
	IncHref  string
	Download string
}

// postmortemPage serves /incidents/{id}/postmortem: the latest version of
// the incident's draft as its Markdown text (escaped, shown as written),
// and ?format=md to download it.
func (pg *Pages) postmortemPage() http.Handler {
	return pg.pageOrDownload(pg.postmortem, func(r *http.Request) bool { return r.URL.Query().Get("format") == "md" },
		func(w http.ResponseWriter, _ *http.Request, v view) {
			pv := v.Data.(postmortemView)
			w.Header().Set("Content-Type", "text/markdown; charset=utf-8")
			w.Header().Set("X-Content-Type-Options", "nosniff")
			// The id matched incidentIDPattern: letters and digits only.
			w.Header().Set("Content-Disposition", `attachment; filename="postmortem-`+pv.Rec.ID+`-v`+strconv.Itoa(pv.Draft.Version)+`.md"`)
			_, _ = w.Write([]byte(pv.Markdown))
		})
}

func (pg *Pages) postmortem(r *http.Request, _ Session) (string, view, error) {
	if pg.cfg.Postmortems == nil {
		return "", view{}, nova.Errorf(nova.ENOTFOUND, "postmortem drafts are not available")
	}
	rec, err := pg.loadIncident(r)
	if err != nil {
		return "", view{}, err
	}
	d, err := pg.cfg.Postmortems.Postmortem(r.Context(), rec.ID)
	if err != nil {
		return "", view{}, err
	}
	inc := "/incidents/" + url.PathEscape(rec.ID)
	v := postmortemView{Rec: rec, Draft: d, Markdown: postmortem.Markdown(d), IncHref: inc, Download: inc + "/postmortem?format=md"}
	return "postmortem", view{Title: "Postmortem draft · " + incidentName(rec), Nav: "incidents", Data: v}, nil
}
