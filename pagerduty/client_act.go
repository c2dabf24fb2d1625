package pagerduty

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"time"

	gopd "github.com/PagerDuty/go-pagerduty"

	"github.com/novasre/nova"
)

// ackBody is the only PUT body the allow-list lets through.
const ackBody = `{"incident":{"type":"incident_reference","status":"acknowledged"}}`

// maxResponse bounds a response body Nova reads.
const maxResponse = 8 << 20

// AddNote adds a note to an incident as the bot user (From).
//
// A note POST is not idempotent. When an attempt gets no answer or a 5xx,
// PagerDuty may have stored the note anyway, so before posting again the
// client lists the notes and returns one with the same content created
// since the call began. Nova's notes carry a unique audit id, so equal
// content means the same note.
func (c *Client) AddNote(ctx context.Context, incidentID, content string) (nova.Note, error) {
	if err := checkID("incident", incidentID); err != nil {
		return nova.Note{}, err
	}
	if content == "" {
		return nova.Note{}, nova.Errorf(nova.EINVALID, "a PagerDuty note needs content")
	}
	began := time.Now().Add(-time.Minute) // PagerDuty's clock may lag ours
	name := "add note to incident " + incidentID
	var out nova.Note
	err := c.do(ctx, apiCall{name: name, method: http.MethodPost,
		run: func(ctx context.Context, pd *gopd.Client) error {
			// go-pagerduty takes the From header from the note's user summary.
			n, err := pd.CreateIncidentNoteWithContext(ctx, incidentID,
				gopd.IncidentNote{Content: content, User: gopd.APIObject{Summary: c.cfg.From}})
			if err == nil {
				out = noteFrom(*n)
			}
			return err
		},
		reconcile: func(ctx context.Context, pd *gopd.Client) (bool, error) {
			notes, err := pd.ListIncidentNotesWithContext(ctx, incidentID)
			if err != nil {
				return false, err
			}
			for i := len(notes) - 1; i >= 0; i-- {
				n := noteFrom(notes[i])
				if n.Content == content && !n.CreatedAt.Before(began) {
					c.log.WithField("op", name).WithField("note", n.ID).
						Info("PagerDuty had stored the note although the attempt failed; not posting it again")
					out = n
					return true, nil
				}
			}
			return false, nil
		}})
	return out, err
}

// Acknowledge acknowledges an incident as the bot user. Acknowledging an
// acknowledged incident is fine; a resolved one gives ECONFLICT.
func (c *Client) Acknowledge(ctx context.Context, incidentID string) error {
	if err := checkID("incident", incidentID); err != nil {
		return err
	}
	return c.do(ctx, apiCall{name: "acknowledge incident " + incidentID, method: http.MethodPut,
		run: func(ctx context.Context, pd *gopd.Client) error {
			// A fresh body per attempt: a retried request never goes out empty.
			req, err := http.NewRequestWithContext(ctx, http.MethodPut, c.endpoint+"/incidents/"+incidentID,
				bytes.NewReader([]byte(ackBody)))
			if err != nil {
				return err
			}
			req.Header.Set("From", c.cfg.From)
			resp, err := pd.Do(req, true)
			if err != nil {
				return err
			}
			defer resp.Body.Close()
			if resp.StatusCode/100 != 2 {
				return apiErrorOf(resp)
			}
			_, err = io.Copy(io.Discard, io.LimitReader(resp.Body, maxResponse))
			return err
		}})
}

// getJSON GETs an endpoint go-pagerduty lacks, through its Do (which adds
// the auth and version headers), and decodes the answer into out.
func (c *Client) getJSON(ctx context.Context, pd *gopd.Client, path string, q url.Values, out any) error {
	u := c.endpoint + path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	resp, err := pd.Do(req, true)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return apiErrorOf(resp)
	}
	return json.NewDecoder(io.LimitReader(resp.Body, maxResponse)).Decode(out)
}

// apiErrorOf reads PagerDuty's error body into go-pagerduty's APIError, so
// that both paths (typed methods and Do) fail the same way.
func apiErrorOf(resp *http.Response) error {
	var ae gopd.APIError
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	_ = json.Unmarshal(b, &ae)
	ae.StatusCode = resp.StatusCode
	return ae
}
