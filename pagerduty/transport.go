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
	"slices"
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
// view incidents and their evidence (services and their dependencies, and
// list webhook subscriptions), add notes, acknowledge. Anything else
// is refused before it leaves the process, whatever code asks for it.
var allowRules = []allowRule{
	{method: http.MethodGet, path: "/incidents"},
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
	// A service's dependencies, read for triage (services.read); the
	// scoped client can never associate or disassociate services.
	{method: http.MethodGet, path: "/service_dependencies/technical_services/{id}"},
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
// also resolve, reassign or re-prioritise, none of which Nova may do. The
// body is parsed strictly (see strictJSON): {"status":"resolved",
// "Status":"acknowledged"} reads as an acknowledgement to Go's decoder but
// as a resolve to PagerDuty.
func checkAckBody(b []byte) error {
	v, err := strictJSON(b)
	if err != nil {
		return fmt.Errorf("body is not an acknowledgement: %w", err)
	}
	top, err := object(v, []string{"incident"}, nil)
	if err != nil {
		return fmt.Errorf("body is not an acknowledgement: %w", err)
	}
	inc, err := object(top["incident"], []string{"type", "status"}, nil)
	if err != nil {
		return fmt.Errorf("body is not an acknowledgement: incident: %w", err)
	}
	if inc["type"] != "incident_reference" || inc["status"] != "acknowledged" {
		return errors.New("body is not an acknowledgement")
	}
	return nil
}

// checkNoteBody accepts a note: content, and the user go-pagerduty adds,
// parsed as strictly as an acknowledgement.
func checkNoteBody(b []byte) error {
	v, err := strictJSON(b)
	if err != nil {
		return fmt.Errorf("body is not a note: %w", err)
	}
	top, err := object(v, []string{"note"}, nil)
	if err != nil {
		return fmt.Errorf("body is not a note: %w", err)
	}
	note, err := object(top["note"], []string{"content"}, []string{"user"})
	if err != nil {
		return fmt.Errorf("body is not a note: note: %w", err)
	}
	if c, ok := note["content"].(string); !ok || c == "" {
		return errors.New("body is not a note: content must be a non-empty string")
	}
	if u, ok := note["user"]; ok {
		user, err := object(u, nil, []string{"summary"})
		if err != nil {
			return fmt.Errorf("body is not a note: user: %w", err)
		}
		if s, ok := user["summary"]; ok {
			if _, isString := s.(string); !isString {
				return errors.New("body is not a note: user summary must be a string")
			}
		}
	}
	return nil
}

// maxJSONDepth bounds nesting in a checked body; Nova's own are two deep.
const maxJSONDepth = 8

// strictJSON decodes exactly one JSON value into plain values (objects as
// map[string]any, arrays, strings, json.Number, bools, nil) and refuses
// an object with a repeated key and anything after the value. Together
// with object, which compares keys byte for byte, this closes the gap
// between encoding/json (case-insensitive keys, the last duplicate wins)
// and whatever PagerDuty's parser does with the same bytes.
func strictJSON(b []byte) (any, error) {
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	v, err := strictValue(d, 0)
	if err != nil {
		return nil, err
	}
	if _, err := d.Token(); !errors.Is(err, io.EOF) {
		return nil, errors.New("trailing data after the JSON value")
	}
	return v, nil
}

func strictValue(d *json.Decoder, depth int) (any, error) {
	if depth > maxJSONDepth {
		return nil, errors.New("JSON nested too deeply")
	}
	tok, err := d.Token()
	if err != nil {
		return nil, err
	}
	switch tok {
	case json.Delim('{'):
		obj := map[string]any{}
		for d.More() {
			kt, err := d.Token()
			if err != nil {
				return nil, err
			}
			key := kt.(string) // inside an object the decoder only yields string keys
			if _, dup := obj[key]; dup {
				return nil, fmt.Errorf("duplicate key %q", clipKey(key))
			}
			if obj[key], err = strictValue(d, depth+1); err != nil {
				return nil, err
			}
		}
		if _, err := d.Token(); err != nil { // the closing }
			return nil, err
		}
		return obj, nil
	case json.Delim('['):
		var arr []any
		for d.More() {
			v, err := strictValue(d, depth+1)
			if err != nil {
				return nil, err
			}
			arr = append(arr, v)
		}
		if _, err := d.Token(); err != nil { // the closing ]
			return nil, err
		}
		return arr, nil
	}
	return tok, nil
}

// object checks that v is a JSON object whose keys are exactly the
// required ones plus any of the optional ones, compared byte for byte
// ("Status" is not "status").
func object(v any, required, optional []string) (map[string]any, error) {
	obj, ok := v.(map[string]any)
	if !ok {
		return nil, errors.New("not a JSON object")
	}
	for _, k := range required {
		if _, ok := obj[k]; !ok {
			return nil, fmt.Errorf("missing key %q", k)
		}
	}
	for k := range obj {
		if !slices.Contains(required, k) && !slices.Contains(optional, k) {
			return nil, fmt.Errorf("unexpected key %q", clipKey(k))
		}
	}
	return obj, nil
}

// clipKey keeps a key quoted in a refusal (which is logged) short.
func clipKey(k string) string {
	if len(k) > 40 {
		return strings.ToValidUTF8(k[:40], "") + "…"
	}
	return k
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
