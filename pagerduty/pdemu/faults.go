package pdemu

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"time"
)

// Fault makes matching requests fail, for testing retries and timeouts.
type Fault struct {
	// Method matches the request method; "" matches any.
	Method string
	// Path matches the request path: a pattern when it holds "{...}"
	// segments (each matches one path segment, e.g. "/incidents/{id}/notes"),
	// otherwise a prefix ("/incidents" matches everything under it).
	Path string
	// Status is the status answered instead of the real response, with
	// PagerDuty's error body. 0 drops the connection without an answer,
	// unless only Hang is set (then the request succeeds, slowly).
	Status int
	// Count is how many requests the fault applies to; 0 means every
	// matching request until ClearFaults.
	Count int
	// AfterCommit performs the request first (a note is stored, an ack
	// happens, webhooks go out), then answers Status or drops the
	// connection: PagerDuty accepted the write but the client never heard.
	AfterCommit bool
	// Hang delays the answer (or, with AfterCommit, the answer after the
	// write), so a client's per-attempt timeout fires.
	Hang time.Duration
}

type faultState struct {
	Fault
	left int // remaining uses; <0 means unlimited
}

// InjectFault adds a fault; faults are tried in the order they were added
// and the first match applies. Faults are checked after authentication and
// the rate limit, so a faulted request still counts against the limit.
func (e *Emulator) InjectFault(f Fault) {
	e.mu.Lock()
	defer e.mu.Unlock()
	left := f.Count
	if left <= 0 {
		left = -1
	}
	e.faults = append(e.faults, &faultState{Fault: f, left: left})
}

// ClearFaults removes every fault.
func (e *Emulator) ClearFaults() {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.faults = nil
}

// SetLatency delays every REST request by d (0 to stop).
func (e *Emulator) SetLatency(d time.Duration) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.latency = d
}

// takeFault returns the first fault matching method and path, using one of
// its Count.
func (e *Emulator) takeFault(method, path string) *Fault {
	e.mu.Lock()
	defer e.mu.Unlock()
	for i, f := range e.faults {
		if f.Method != "" && f.Method != method || !pathMatches(f.Path, path) {
			continue
		}
		if f.left > 0 {
			f.left--
			if f.left == 0 {
				e.faults = append(e.faults[:i:i], e.faults[i+1:]...)
			}
		}
		out := f.Fault
		return &out
	}
	return nil
}

func pathMatches(pattern, path string) bool {
	if !strings.Contains(pattern, "{") {
		return strings.HasPrefix(path, pattern)
	}
	ps, xs := strings.Split(pattern, "/"), strings.Split(path, "/")
	if len(ps) != len(xs) {
		return false
	}
	for i := range ps {
		if strings.HasPrefix(ps[i], "{") && strings.HasSuffix(ps[i], "}") && xs[i] != "" {
			continue
		}
		if ps[i] != xs[i] {
			return false
		}
	}
	return true
}

// serveFault answers r according to f.
func (e *Emulator) serveFault(w http.ResponseWriter, r *http.Request, f *Fault) {
	e.logf("fault on %s %s: status %d, after commit %v, hang %s", r.Method, r.URL.Path, f.Status, f.AfterCommit, f.Hang)
	if f.AfterCommit {
		e.mux.ServeHTTP(httptest.NewRecorder(), r)
		sleepCtx(r.Context(), f.Hang)
	} else {
		sleepCtx(r.Context(), f.Hang)
		if f.Status == 0 && f.Hang > 0 {
			// A slow success. If the client gave up meanwhile, PagerDuty
			// would not have got to the write either.
			if r.Context().Err() == nil {
				e.mux.ServeHTTP(w, r)
			}
			return
		}
	}
	if f.Status == 0 {
		// Closes the connection without a response.
		panic(http.ErrAbortHandler)
	}
	code, msg := errorCodeFor(f.Status)
	writeError(w, f.Status, code, msg)
}

// errorCodeFor returns PagerDuty's error code and message for a status.
func errorCodeFor(status int) (int, string) {
	switch status {
	case http.StatusBadRequest:
		return 2001, "Invalid Input Provided"
	case http.StatusUnauthorized:
		return 2006, "Authentication failed"
	case http.StatusForbidden:
		return 2010, "Access Denied"
	case http.StatusNotFound:
		return 2100, "Not Found"
	case http.StatusTooManyRequests:
		return 2020, "Rate Limit Exceeded"
	}
	return 2000, "Internal Error"
}
