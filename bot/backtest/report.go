package backtest

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/novasre/nova"
)

// IncidentRef is the replayed incident, briefly.
type IncidentRef struct {
	ID          string    `json:"id"`
	Number      int       `json:"number,omitempty"`
	Title       string    `json:"title"`
	URL         string    `json:"url,omitempty"`
	TriggeredAt time.Time `json:"triggered_at"`
	ResolvedAt  time.Time `json:"resolved_at,omitzero"`
}

// Row is one incident: what Nova would have said beside what happened.
type Row struct {
	Incident IncidentRef `json:"incident"`
	// Result is the triage as of the trigger; nil when Error is set.
	Result  *nova.TriageResult `json:"result,omitempty"`
	Outcome Outcome            `json:"outcome"`
	Verdict string             `json:"verdict,omitempty"`
	Why     string             `json:"why,omitempty"`
	// Leaks lists cited evidence from after the trigger; always empty.
	Leaks []string `json:"leaks,omitempty"`
	// Error says why the incident could not be replayed (it is tried
	// again on the next run).
	Error  string `json:"error,omitempty"`
	Cached bool   `json:"cached,omitempty"`
}

// Lead is how long before the first person acknowledged the incident
// Nova's note would have been in the timeline (negative: after), or 0 when
// unknown.
func (r Row) Lead() time.Duration {
	if r.Result == nil || r.Outcome.TimeToAck <= 0 {
		return 0
	}
	return r.Outcome.TimeToAck - r.Result.Elapsed
}

// Totals sum up a report.
type Totals struct {
	Incidents int `json:"incidents"`
	Answered  int `json:"answered"`
	Abstained int `json:"abstained"`
	Right     int `json:"right"`
	Wrong     int `json:"wrong"`
	Undecided int `json:"undecided"`
	Failed    int `json:"failed"`
	// MedianLead is the median of Row.Lead over the answered incidents
	// with a known acknowledgement.
	MedianLead time.Duration `json:"median_lead_ns"`
	// TopChanges are the changes Nova's top hypotheses blamed most often.
	TopChanges []ChangeCount `json:"top_changes,omitempty"`
	Leaks      int           `json:"leaks"`
}

// ChangeCount is a change and how many top hypotheses cited it.
type ChangeCount struct {
	ID      string `json:"id"`
	Summary string `json:"summary"`
	Count   int    `json:"count"`
}

// Report is a whole backtest.
type Report struct {
	Service     string        `json:"service"`
	ServiceName string        `json:"service_name,omitempty"`
	Environment string        `json:"environment"`
	Since       time.Time     `json:"since"`
	Until       time.Time     `json:"until"`
	Limit       int           `json:"limit"`
	Fingerprint string        `json:"fingerprint,omitempty"`
	Rows        []Row         `json:"rows"`
	Totals      Totals        `json:"totals"`
	Calls       int           `json:"pagerduty_calls"`
	Cached      int           `json:"cached"`
	Elapsed     time.Duration `json:"elapsed_ns"`
	// Partial is set when the run was stopped before the end.
	Partial bool `json:"partial,omitempty"`
	// PageURL is the page where admins mark the undecided rows.
	PageURL string `json:"page_url,omitempty"`
}

const topChanges = 5

func totals(rows []Row) Totals {
	t := Totals{Incidents: len(rows)}
	var leads []time.Duration
	counts := map[string]*ChangeCount{}
	for _, r := range rows {
		t.Leaks += len(r.Leaks)
		if r.Error != "" {
			t.Failed++
			continue
		}
		switch r.Verdict {
		case VerdictAbstained:
			t.Abstained++
			continue
		case VerdictRight:
			t.Right++
		case VerdictWrong:
			t.Wrong++
		default:
			t.Undecided++
		}
		t.Answered++
		if l := r.Lead(); r.Outcome.TimeToAck > 0 {
			leads = append(leads, l)
		}
		for _, e := range r.Result.Top().Evidence {
			if e.Kind != nova.EvidenceChange || e.ID == "" {
				continue
			}
			if counts[e.ID] == nil {
				counts[e.ID] = &ChangeCount{ID: e.ID, Summary: e.Summary}
			}
			counts[e.ID].Count++
		}
	}
	if len(leads) > 0 {
		sort.Slice(leads, func(i, j int) bool { return leads[i] < leads[j] })
		t.MedianLead = leads[len(leads)/2]
	}
	for _, c := range counts {
		t.TopChanges = append(t.TopChanges, *c)
	}
	sort.Slice(t.TopChanges, func(i, j int) bool {
		a, b := t.TopChanges[i], t.TopChanges[j]
		if a.Count != b.Count {
			return a.Count > b.Count
		}
		return a.ID < b.ID
	})
	if len(t.TopChanges) > topChanges {
		t.TopChanges = t.TopChanges[:topChanges]
	}
	return t
}

// WriteJSON writes the report as indented JSON.
func (r Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// WriteMarkdown writes the report for a terminal or a CI summary. Text from
// PagerDuty (titles, notes) is escaped: it cannot break the table or add
// links.
func (r Report) WriteMarkdown(w io.Writer) error {
	var b strings.Builder
	name := r.Service
	if r.ServiceName != "" {
		name = r.ServiceName + " (" + r.Service + ")"
	}
	fmt.Fprintf(&b, "# Backtest: %s, %s\n\n", md(name), md(r.Environment))
	fmt.Fprintf(&b, "Resolved incidents from %s to %s (newest %d at most), each triaged as of its trigger time with what PagerDuty held then.\n\n",
		r.Since.Format(time.DateOnly), r.Until.Format(time.DateOnly), r.Limit)
	if r.Partial {
		b.WriteString("**Partial:** the run was stopped; run it again to finish (finished incidents are cached).\n\n")
	}
	t := r.Totals
	if t.Leaks > 0 {
		fmt.Fprintf(&b, "**WARNING:** %d cited evidence items postdate their trigger; these rows are not a fair replay. Please report this.\n\n", t.Leaks)
	}
	fmt.Fprintf(&b, "| incidents | answered | abstained | right | wrong | undecided | failed |\n|---|---|---|---|---|---|---|\n")
	fmt.Fprintf(&b, "| %d | %d | %d | %d | %d | %d | %d |\n\n", t.Incidents, t.Answered, t.Abstained, t.Right, t.Wrong, t.Undecided, t.Failed)
	if decided := t.Right + t.Wrong; decided > 0 {
		fmt.Fprintf(&b, "Automatic verdicts: %d of %d decided rows right (%.0f%%); %d rows need a person to judge.\n\n",
			t.Right, decided, 100*float64(t.Right)/float64(decided), t.Undecided)
	}
	if r.PageURL != "" && t.Undecided > 0 {
		fmt.Fprintf(&b, "Admins of %s can mark the undecided rows right, partly or wrong at %s; marks count as feedback for the service.\n\n", md(r.Environment), r.PageURL)
	}
	if t.MedianLead != 0 {
		fmt.Fprintf(&b, "A note would have been in the timeline a median %s before the first person acknowledged.\n\n", round(t.MedianLead))
	}
	if len(t.TopChanges) > 0 {
		b.WriteString("Changes most often blamed:\n\n")
		for _, c := range t.TopChanges {
			fmt.Fprintf(&b, "- %s (%s): %d incidents\n", md(c.Summary), md(c.ID), c.Count)
		}
		b.WriteString("\n")
	}
	b.WriteString("| incident | triggered | Nova would have said | what happened | verdict |\n|---|---|---|---|---|\n")
	for _, row := range r.Rows {
		inc := fmt.Sprintf("#%d %s", row.Incident.Number, md(clip(row.Incident.Title, 80)))
		said := ""
		switch {
		case row.Error != "":
			said = "not replayed: " + md(row.Error)
		case row.Result.Top() == nil || row.Result.Abstained:
			said = "no confident answer"
		default:
			top := row.Result.Top()
			said = fmt.Sprintf("%s (%s, %.0f%%)", md(clip(top.Summary, 160)), top.Category, 100*top.Confidence)
		}
		happened := md(clip(row.Outcome.Resolution, 160))
		if happened == "" {
			happened = "no resolution recorded"
		}
		if row.Outcome.AckedBy != "" {
			happened += fmt.Sprintf("; acked by %s after %s", md(row.Outcome.AckedBy), round(row.Outcome.TimeToAck))
		}
		if row.Outcome.TimeToSolve > 0 {
			happened += fmt.Sprintf("; resolved after %s", round(row.Outcome.TimeToSolve))
		}
		verdict := row.Verdict
		if row.Why != "" && row.Verdict != VerdictAbstained {
			verdict += ": " + md(row.Why)
		}
		if len(row.Leaks) > 0 {
			verdict += " (LEAK)"
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s |\n", inc, row.Incident.TriggeredAt.UTC().Format("2006-01-02 15:04"), said, happened, verdict)
	}
	fmt.Fprintf(&b, "\n%d PagerDuty requests, %d incidents from the cache, %s.\n", r.Calls, r.Cached, round(r.Elapsed))
	_, err := io.WriteString(w, b.String())
	return err
}

// md makes outside text safe in a Markdown table cell: one line, no pipes,
// no markup that could link or format.
func md(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	var b strings.Builder
	for _, r := range s {
		switch r {
		case '|', '\\', '`', '*', '_', '[', ']', '<', '>', '#', '!', '~':
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

func round(d time.Duration) string {
	switch {
	case d < 0:
		return "-" + round(-d)
	case d < 10*time.Minute:
		return d.Round(time.Second).String()
	default:
		return d.Round(time.Minute).String()
	}
}
