package pagerduty

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"

	"github.com/sirupsen/logrus"

	"github.com/novasre/nova"
)

// allowRule is one method and path the client may send. Paths are
// segments; "{id}" matches one PagerDuty id.
type allowRule struct {
	method string
	path   string
	// body checks a request body; nil means the request must have none.
	body func([]byte) error
}

// allowRules is the whole of what Nova may do in PagerDuty (DESIGN §4):
// view incidents and their evidence (and list webhook subscriptions), add
// notes, acknowledge. Anything else
// is refused before it leaves the process, whatever code asks for it.
var allowRules = []allowRule{
	{method: http.MethodGet, path: "/incidents/{id}"},
	{method: http.MethodGet, path: "/incidents/{id}/alerts"},
	{method: http.MethodGet, path: "/incidents/{id}/notes"},
	{method: http.MethodGet, path: "/incidents/{id}/log_entries"},
	{method: http.MethodGet, path: "/incidents/{id}/related_change_events"},
	{method: http.MethodGet, path: "/incidents/{id}/past_incidents"},
	{method: http.MethodGet, path: "/incidents/{id}/related_incidents"},
	{method: http.MethodGet, path: "/incidents/{id}/outlier_incident"},
	{method: http.MethodGet, path: "/services/{id}"},
	{method: http.MethodGet, path: "/services/{id}/change_events"},
	// Read only, for the rollout review's coverage check; the scoped client
	// can never create, change or delete a subscription.
	{method: http.MethodGet, path: "/webhook_subscriptions"},
	{method: http.MethodPost, path: "/incidents/{id}/notes", body: checkNoteBody},
	{method: http.MethodPut, path: "/incidents/{id}", body: checkAckBody},
}

// idSegment is what a PagerDuty id (or incident number) looks like; it
// also keeps escaped slashes and dot segments out of the path.
var idSegment = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// allowList is an http.RoundTripper that lets through only allowRules, to
// the configured API host only.
type allowList struct {
	base      http.RoundTripper
	scheme    string
	host      string
	prefix    string // the API URL's own path, e.g. "/pd" behind a proxy
	onRefused func(method, path string)
	log       logrus.FieldLogger
}

func newAllowList(base http.RoundTripper, api *url.URL, onRefused func(string, string), log logrus.FieldLogger) *allowList {
	return &allowList{
		base: base, scheme: api.Scheme, host: strings.ToLower(api.Host),
		prefix: strings.TrimSuffix(api.EscapedPath(), "/"), onRefused: onRefused, log: log,
	}
}

// RoundTrip implements http.RoundTripper.
func (t *allowList) RoundTrip(req *http.Request) (*http.Response, error) {
	a := attemptOf(req.Context())
	body, err := readRequestBody(req)
	if err != nil {
		return nil, err
	}
	if reason := t.check(req, body); reason != "" {
		path := req.URL.EscapedPath()
		e := nova.Errorf(nova.EFORBIDDEN, "refused by the PagerDuty allow-list: %s %s", req.Method, path)
		t.log.WithFields(logrus.Fields{"method": req.Method, "path": path, "host": req.URL.Host, "reason": reason}).
			Warn("PagerDuty request refused by the allow-list")
		if t.onRefused != nil {
			t.onRefused(req.Method, path)
		}
		if a != nil {
			a.refused = e
		}
		return nil, e
	}
	if body != nil {
		// The body was read to check it; send a copy that can be re-read.
		req = req.Clone(req.Context())
		req.Body = io.NopCloser(bytes.NewReader(body))
		req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
		req.ContentLength = int64(len(body))
	}
	resp, err := t.base.RoundTrip(req)
	if a != nil && resp != nil {
		a.status, a.header = resp.StatusCode, resp.Header.Clone()
	}
	return resp, err
}

// check returns why req is refused, or "" when it is allowed.
func (t *allowList) check(req *http.Request, body []byte) string {
	if req.URL.Scheme != t.scheme || strings.ToLower(req.URL.Host) != t.host {
		return "host is not the configured PagerDuty API"
	}
	path, ok := strings.CutPrefix(req.URL.EscapedPath(), t.prefix)
	if !ok {
		return "path is outside the API URL"
	}
	for _, r := range allowRules {
		if r.method != req.Method || !matchPath(r.path, path) {
			continue
		}
		if r.body == nil {
			if len(body) > 0 {
				return "unexpected request body"
			}
			return ""
		}
		if err := r.body(body); err != nil {
			return err.Error()
		}
		return ""
	}
	return "method and path not in the allow-list"
}

func matchPath(pattern, path string) bool {
	ps, xs := strings.Split(pattern, "/"), strings.Split(path, "/")
	if len(ps) != len(xs) {
		return false
	}
	for i := range ps {
		if ps[i] == "{id}" {
			if !idSegment.MatchString(xs[i]) {
				return false
			}
		} else if ps[i] != xs[i] {
			return false
		}
	}
	return true
}

// checkAckBody accepts exactly an acknowledgement: PUT /incidents/{id} can
// also resolve, reassign or re-prioritise, none of which Nova may do.
func checkAckBody(b []byte) error {
	var v struct {
		Incident *struct {
			Type   string `json:"type"`
			Status string `json:"status"`
		} `json:"incident"`
	}
	if err := decodeExact(b, &v); err != nil {
		return fmt.Errorf("body is not an acknowledgement: %w", err)
	}
	if v.Incident == nil || v.Incident.Type != "incident_reference" || v.Incident.Status != "acknowledged" {
		return errors.New("body is not an acknowledgement")
	}
	return nil
}

// checkNoteBody accepts a note: content, and the user go-pagerduty adds.
func checkNoteBody(b []byte) error {
	var v struct {
		Note *struct {
			Content string `json:"content"`
			User    *struct {
				Summary string `json:"summary"`
			} `json:"user"`
		} `json:"note"`
	}
	if err := decodeExact(b, &v); err != nil {
		return fmt.Errorf("body is not a note: %w", err)
	}
	if v.Note == nil || v.Note.Content == "" {
		return errors.New("body is not a note")
	}
	return nil
}

// decodeExact decodes one JSON value with no unknown fields and nothing
// after it.
func decodeExact(b []byte, v any) error {
	d := json.NewDecoder(bytes.NewReader(b))
	d.DisallowUnknownFields()
	if err := d.Decode(v); err != nil {
		return err
	}
	if d.More() {
		return errors.New("trailing data")
	}
	return nil
}

// readRequestBody consumes and returns req's body (nil when there is none), which
// the RoundTripper contract allows.
func readRequestBody(req *http.Request) ([]byte, error) {
	if req.Body == nil || req.Body == http.NoBody {
		return nil, nil
	}
	defer req.Body.Close()
	b, err := io.ReadAll(io.LimitReader(req.Body, 1<<20))
	if err != nil {
		return nil, fmt.Errorf("read request body: %w", err)
	}
	if len(b) == 0 {
		return nil, nil
	}
	return b, nil
}
