package e2e

import (
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/novasre/nova/executor"
)

// Receiver is the customer's automation: it verifies Nova's signature on
// each action run and records it.
type Receiver struct {
	URL string
	srv *Server

	mu   sync.Mutex
	runs []ReceivedRun
	// hold, when set, blocks requests until closed (to crash Nova mid-run).
	hold chan struct{}
	// onBadSignature is told of a run whose signature does not verify.
	onBadSignature func(error)
}

// ReceivedRun is one run as the automation received it.
type ReceivedRun struct {
	Key  string
	Body string
}

// NewReceiver serves the automation on a loopback port.
func NewReceiver(secret string) (*Receiver, error) {
	r := &Receiver{}
	srv, err := NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(io.LimitReader(req.Body, 1<<20))
		if err := executor.VerifySignature(secret, req.Header, body, time.Now(), executor.DefaultTolerance); err != nil {
			r.mu.Lock()
			bad := r.onBadSignature
			r.mu.Unlock()
			if bad != nil {
				bad(err)
			}
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		r.mu.Lock()
		r.runs = append(r.runs, ReceivedRun{Key: req.Header.Get(executor.HeaderIdempotencyKey), Body: string(body)})
		hold := r.hold
		r.mu.Unlock()
		if hold != nil {
			<-hold
		}
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write([]byte(`{"status":"done"}`))
	}))
	if err != nil {
		return nil, err
	}
	r.srv, r.URL = srv, srv.URL
	return r, nil
}

// OnBadSignature sets what a badly signed run reports to.
func (r *Receiver) OnBadSignature(fn func(error)) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.onBadSignature = fn
}

// Hold makes runs wait until ch is closed (nil: answer at once).
func (r *Receiver) Hold(ch chan struct{}) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.hold = ch
}

// Runs returns the runs received so far.
func (r *Receiver) Runs() []ReceivedRun {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]ReceivedRun(nil), r.runs...)
}

// DistinctKeys counts distinct idempotency keys: actions really run.
func (r *Receiver) DistinctKeys() int {
	seen := map[string]bool{}
	for _, run := range r.Runs() {
		seen[run.Key] = true
	}
	return len(seen)
}

// Close stops the receiver.
func (r *Receiver) Close() { r.srv.Close() }
