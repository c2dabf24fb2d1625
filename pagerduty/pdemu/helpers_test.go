package pdemu_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/novasre/nova/pagerduty/pdemu"
)

const (
	prodToken    = "prod-token-AAAA1111"
	stagingToken = "staging-token-BBBB2222"
	botEmail     = "nova-bot@example.com"
)

// world is an emulator with two environments, a service and users in each.
type world struct {
	emu *pdemu.Emulator
	url string
}

func newWorld(t *testing.T, opts pdemu.Options) *world {
	t.Helper()
	if opts.Logf == nil {
		opts.Logf = t.Logf
	}
	emu := pdemu.New(opts)
	emu.AddToken(prodToken, "prod")
	emu.AddToken(stagingToken, "staging")
	emu.AddService("prod", pdemu.Service{ID: "PSVCPRD", Name: "checkout"})
	emu.AddService("staging", pdemu.Service{ID: "PSVCSTG", Name: "checkout-staging"})
	emu.AddUser("prod", "PBOT001", botEmail, "Nova")
	emu.AddUser("prod", "PALICE1", "alice@example.com", "Alice")
	emu.AddUser("staging", "PBOT002", botEmail, "Nova (staging)")
	url := emu.Start()
	t.Cleanup(emu.Close)
	return &world{emu: emu, url: url}
}

type reply struct {
	status int
	header http.Header
	body   map[string]any
	raw    []byte
}

// call makes one REST request the way go-pagerduty does.
func (w *world) call(t *testing.T, method, path, token, from string, body any) reply {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, w.url+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Token token="+token)
	}
	req.Header.Set("Accept", "application/vnd.pagerduty+json;version=2")
	req.Header.Set("Content-Type", "application/json")
	if from != "" {
		req.Header.Set("From", from)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	r := reply{status: resp.StatusCode, header: resp.Header, raw: raw}
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &r.body); err != nil {
			t.Fatalf("%s %s: body is not a JSON object: %v: %s", method, path, err, raw)
		}
	}
	return r
}

// errorCode returns PagerDuty's error.code of a reply, or 0.
func (r reply) errorCode() int {
	e, _ := r.body["error"].(map[string]any)
	c, _ := e["code"].(float64)
	return int(c)
}

// fixture loads a PagerDuty fixture: the copy in testdata/fixtures (so the
// shape tests always run), checked against shared/fixtures/pagerduty when
// that folder is beside the repository.
func fixture(t *testing.T, name string) any {
	t.Helper()
	local, err := os.ReadFile(filepath.Join("testdata", "fixtures", name))
	if err != nil {
		t.Fatalf("fixture %s: %v (copy it from shared/fixtures/pagerduty)", name, err)
	}
	var v any
	if err := json.Unmarshal(local, &v); err != nil {
		t.Fatalf("fixture %s: %v", name, err)
	}
	if shared := sharedFixture(name); shared != nil && string(shared) != string(local) {
		t.Errorf("testdata/fixtures/%s differs from shared/fixtures/pagerduty/%s", name, name)
	}
	return v
}

// sharedFixture returns shared/fixtures/pagerduty/name from a folder above
// the package, or nil when shared/ is not beside the repository.
func sharedFixture(name string) []byte {
	dir, _ := filepath.Abs(".")
	for {
		if b, err := os.ReadFile(filepath.Join(dir, "shared", "fixtures", "pagerduty", name)); err == nil {
			return b
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return nil
		}
		dir = parent
	}
}

// sameShape fails unless got has every key of want (recursively, comparing
// the first element of arrays) with the same JSON kind, except where either
// side is null or an array is empty. Paths in optional may be missing.
func sameShape(t *testing.T, path string, want, got any, optional map[string]bool) {
	t.Helper()
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			t.Errorf("%s: want an object, got %T", path, got)
			return
		}
		for k, wv := range w {
			gv, ok := g[k]
			if !ok {
				if !optional[path+"."+k] {
					t.Errorf("%s.%s: missing", path, k)
				}
				continue
			}
			if wv != nil && gv != nil && freeForm[k] {
				if kind(wv) != kind(gv) {
					t.Errorf("%s.%s: want a %s, got %T", path, k, kind(wv), gv)
				}
				continue
			}
			if wv != nil && gv != nil {
				sameShape(t, path+"."+k, wv, gv, optional)
			}
		}
	case []any:
		g, ok := got.([]any)
		if !ok {
			t.Errorf("%s: want an array, got %T", path, got)
			return
		}
		if len(w) > 0 && len(g) > 0 {
			sameShape(t, path+"[]", w[0], g[0], optional)
		}
	default:
		if kind(want) != kind(got) {
			t.Errorf("%s: want a %s, got %T (%v)", path, kind(want), got, got)
		}
	}
}

// freeForm names objects whose keys are the sender's own (custom details).
var freeForm = map[string]bool{"details": true, "custom_details": true, "event_details": true}

func kind(v any) string {
	switch v.(type) {
	case string:
		return "string"
	case float64:
		return "number"
	case bool:
		return "bool"
	case map[string]any:
		return "object"
	case []any:
		return "array"
	}
	return "null"
}

func readAll(r *http.Request) ([]byte, error) { return io.ReadAll(r.Body) }
