package pagerduty

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/novasre/nova"
	"github.com/novasre/nova/pagerduty/pdemu"
	"github.com/novasre/nova/store"
)

// exhaust spends token's whole window at the emulator, as another user of
// the same key would.
func exhaust(t *testing.T, rig *clientRig, token string, n int) {
	t.Helper()
	for i := 0; i < n; i++ {
		req, _ := http.NewRequest("GET", rig.url+"/services", nil)
		req.Header.Set("Authorization", "Token token="+token)
		req.Header.Set("Accept", "application/vnd.pagerduty+json;version=2")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
}

func TestRetryRidesOutA429Storm(t *testing.T) {
	// 10 requests per second is PagerDuty's 960/min scaled down; the client
	// keeps 90% of it with a burst of 1 (9/s + 1 never passes 10 in 1 s).
	rig := newClientRig(t, pdemu.Options{RateLimit: 10, RateWindow: time.Second})
	id := rig.incident("storm")
	c := rig.client(t, "prod", func(cfg *ClientConfig) { cfg.RatePerMinute, cfg.Burst = 540, 1 })
	exhaust(t, rig, clientProdToken, 10) // someone else spent the window
	rig.emu.ResetRequests()

	const notes = 20
	var wg sync.WaitGroup
	errs := make(chan error, notes)
	for i := 0; i < notes; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			if _, err := c.AddNote(context.Background(), id, fmt.Sprintf("note %02d", i)); err != nil {
				errs <- err
			}
		}(i)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("AddNote: %v", err)
	}
	got := map[string]int{}
	for _, n := range rig.emu.Notes(id) {
		got[n.Content]++
	}
	if len(got) != notes {
		t.Errorf("%d distinct notes stored, want %d", len(got), notes)
	}
	for content, n := range got {
		if n != 1 {
			t.Errorf("%q stored %d times", content, n)
		}
	}
	// Only the first burst meets the exhausted window; everyone else waits
	// for ratelimit-reset instead of collecting a 429 of their own.
	if n := rig.emu.RateLimited(); n < 1 || n > 1 {
		t.Errorf("%d requests answered 429, want 1 (the first burst)", n)
	}
}

func TestRetryServerErrorsAndTimeouts(t *testing.T) {
	rig := newClientRig(t, pdemu.Options{})
	id := rig.incident("x")
	c := rig.client(t, "prod", func(cfg *ClientConfig) { cfg.Timeout = 200 * time.Millisecond })
	ctx := context.Background()

	rig.emu.InjectFault(pdemu.Fault{Method: "GET", Path: "/incidents/{id}", Status: 503, Count: 2})
	if _, err := c.GetIncident(ctx, id); err != nil {
		t.Errorf("GET after two 503s: %v", err)
	}
	rig.emu.InjectFault(pdemu.Fault{Method: "GET", Path: "/incidents/{id}/notes", Hang: 2 * time.Second, Count: 1})
	start := time.Now()
	if _, err := c.ListNotes(ctx, id); err != nil || time.Since(start) > time.Second {
		t.Errorf("GET after a hang: %v after %s", err, time.Since(start))
	}

	// A 500 on a note POST may or may not have stored it: the client looks
	// before posting again, and here finds nothing, so it posts once more.
	rig.emu.ResetRequests()
	rig.emu.InjectFault(pdemu.Fault{Method: "POST", Path: "/incidents/{id}/notes", Status: 500, Count: 1})
	if _, err := c.AddNote(ctx, id, "after a 500"); err != nil {
		t.Fatal(err)
	}
	var seq, posts []string
	for _, r := range rig.emu.Requests() {
		seq = append(seq, fmt.Sprintf("%s %d", r.Method, r.Status))
		if r.Method == "POST" {
			posts = append(posts, r.Body)
		}
	}
	// The retried POST carries the same, whole body (go-pagerduty's own
	// retry sends an empty one).
	if len(posts) != 2 || posts[0] != posts[1] || !strings.Contains(posts[1], "after a 500") {
		t.Errorf("POST bodies %q", posts)
	}
	if strings.Join(seq, ", ") != "POST 500, GET 200, POST 200" {
		t.Errorf("requests %v", seq)
	}
}

func TestRetryNeverDuplicatesACommittedNote(t *testing.T) {
	for name, f := range map[string]pdemu.Fault{
		"connection dropped after the write": {Method: "POST", Path: "/incidents/", AfterCommit: true, Count: 1},
		"answer too late after the write":    {Method: "POST", Path: "/incidents/", AfterCommit: true, Status: 200, Hang: time.Second, Count: 1},
		"503 after the write":                {Method: "POST", Path: "/incidents/", AfterCommit: true, Status: 503, Count: 1},
	} {
		t.Run(name, func(t *testing.T) {
			rig := newClientRig(t, pdemu.Options{})
			id := rig.incident("x")
			c := rig.client(t, "prod", func(cfg *ClientConfig) { cfg.Timeout = 200 * time.Millisecond })
			rig.emu.InjectFault(f)
			n, err := c.AddNote(context.Background(), id, "hypothesis nova-01JABC")
			if err != nil {
				t.Fatal(err)
			}
			stored := rig.emu.Notes(id)
			if len(stored) != 1 || stored[0].ID != n.ID {
				t.Errorf("stored %+v, returned %+v: want the one note", stored, n)
			}
		})
	}
}

func TestRetryFailsFastOnClientErrors(t *testing.T) {
	rig := newClientRig(t, pdemu.Options{})
	id := rig.incident("x")
	c := rig.client(t, "prod", func(cfg *ClientConfig) { cfg.From = "ghost@example.com" })
	ctx := context.Background()
	start := time.Now()
	_, err := c.AddNote(ctx, id, "x")
	if !nova.IsCode(err, nova.EINVALID) || len(rig.emu.Requests()) != 1 || time.Since(start) > 500*time.Millisecond {
		t.Fatalf("400: %v after %d requests", err, len(rig.emu.Requests()))
	}
	var logged *logrus.Entry
	for _, e := range rig.logs.AllEntries() {
		if e.Data["pd_code"] == 2001 {
			logged = e
		}
	}
	if logged == nil || logged.Data["status"] != 400 || logged.Data["pd_message"] != "Invalid Input Provided" ||
		!strings.Contains(fmt.Sprint(logged.Data["pd_errors"]), "From") {
		t.Errorf("PagerDuty's error code not logged: %+v", rig.logs.AllEntries())
	}

	good := rig.client(t, "prod", nil)
	if _, err := good.GetIncident(ctx, "QNOSUCH"); !nova.IsCode(err, nova.ENOTFOUND) {
		t.Errorf("unknown incident: %v", err)
	}
	rig.emu.RevokeToken(clientProdToken)
	rig.emu.ResetRequests()
	if _, err := good.GetIncident(ctx, id); !nova.IsCode(err, nova.EUNAUTHORIZED) || len(rig.emu.Requests()) != 1 {
		t.Errorf("revoked key: %v after %d requests", err, len(rig.emu.Requests()))
	}
}

func TestRetryGivesUp(t *testing.T) {
	rig := newClientRig(t, pdemu.Options{})
	id := rig.incident("x")
	c := rig.client(t, "prod", func(cfg *ClientConfig) { cfg.MaxElapsed = 300 * time.Millisecond })
	ctx := context.Background()
	rig.emu.InjectFault(pdemu.Fault{Path: "/incidents/{id}", Status: 502})
	start := time.Now()
	if _, err := c.GetIncident(ctx, id); !nova.IsCode(err, nova.EUNAVAILABLE) || time.Since(start) > time.Second {
		t.Errorf("persistent 502: %v after %s", err, time.Since(start))
	}
	rig.emu.ClearFaults()
	// A 429 whose reset lies beyond MaxElapsed is not waited for.
	rig.emu.InjectFault(pdemu.Fault{Path: "/incidents/{id}", Status: 429, Count: 1})
	start = time.Now()
	if _, err := c.GetIncident(ctx, id); !nova.IsCode(err, nova.ERATELIMITED) || time.Since(start) > 200*time.Millisecond {
		t.Errorf("429 with a long reset: %v after %s", err, time.Since(start))
	}
	// The held-off key makes the next call give up without asking PagerDuty.
	before := len(rig.emu.Requests())
	if _, err := c.GetIncident(ctx, id); !nova.IsCode(err, nova.ERATELIMITED) || len(rig.emu.Requests()) != before {
		t.Errorf("call during the hold-off: %v", err)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	other := rig.client(t, "prod", nil)
	if _, err := other.GetIncident(cctx, id); err == nil {
		t.Error("cancelled context: no error")
	}
}

func TestRetryNeverLeaksTheToken(t *testing.T) {
	rig := newClientRig(t, pdemu.Options{})
	var buf bytes.Buffer
	rig.logger.SetOutput(&buf)
	rig.logger.SetFormatter(&logrus.JSONFormatter{})
	id := rig.incident("x")
	c := rig.client(t, "prod", func(cfg *ClientConfig) { cfg.MaxElapsed = 200 * time.Millisecond; cfg.From = "ghost@example.com" })
	ctx := context.Background()
	var errs []error
	rig.emu.InjectFault(pdemu.Fault{Path: "/incidents/{id}/alerts", Status: 500})
	_, err := c.ListAlerts(ctx, id) // 5xx until giving up
	errs = append(errs, err)
	rig.emu.ClearFaults()
	_, err = c.AddNote(ctx, id, "x") // 400
	errs = append(errs, err)
	rig.emu.InjectFault(pdemu.Fault{Path: "/incidents/{id}", Status: 429, Count: 1})
	_, err = c.GetIncident(ctx, id) // 429 with a reset beyond MaxElapsed
	errs = append(errs, err)
	req, _ := http.NewRequest("GET", rig.url+"/users", nil)
	_, err = c.http.Do(req) // refused
	errs = append(errs, err)
	rig.emu.RevokeToken(clientProdToken)
	_, err = rig.client(t, "prod", nil).GetIncident(ctx, id) // 401
	errs = append(errs, err)
	for _, err := range errs {
		if err == nil {
			t.Fatal("want every call to fail")
		}
		if strings.Contains(err.Error(), clientProdToken) || strings.Contains(nova.ErrorMessage(err), clientProdToken) {
			t.Errorf("error holds the token: %v", err)
		}
	}
	if buf.Len() == 0 || strings.Contains(buf.String(), clientProdToken) {
		t.Errorf("logs hold the token (or are empty): %s", buf.String())
	}
	for _, e := range rig.logs.AllEntries() {
		if s, _ := e.String(); strings.Contains(s, clientProdToken) {
			t.Errorf("log entry holds the token: %s", s)
		}
	}
}

// reserveRecorder is a limiter that always allows and records the reserve
// each caller asked for.
type reserveRecorder struct {
	mu       sync.Mutex
	reserves []int
}

func (r *reserveRecorder) Take(_ context.Context, _ string, _ store.Rate, reserve int) (time.Duration, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.reserves = append(r.reserves, reserve)
	return 0, nil
}

func TestRetryReadsLeaveRoomForWrites(t *testing.T) {
	rig := newClientRig(t, pdemu.Options{})
	id := rig.incident("x")
	rec := &reserveRecorder{}
	c := rig.client(t, "prod", func(cfg *ClientConfig) { cfg.Limiter, cfg.Burst = rec, 30 })
	ctx := context.Background()
	if _, err := c.GetIncident(ctx, id); err != nil {
		t.Fatal(err)
	}
	if _, err := c.AddNote(ctx, id, "x"); err != nil {
		t.Fatal(err)
	}
	if err := c.Acknowledge(ctx, id); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(rec.reserves) != "[3 0 0]" {
		t.Errorf("reserves %v, want reads to keep 3 (a tenth of the burst) and writes none", rec.reserves)
	}
}
