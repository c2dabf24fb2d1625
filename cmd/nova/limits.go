package main

import (
	"context"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/novasre/nova"
	"github.com/novasre/nova/config"
	"github.com/novasre/nova/web"
)

// Connection limits. Each listener accepts up to max connections for any
// request. Beyond that it accepts `reserved` more, for health checks only:
// such a connection must send its request within reservedHeaderWait, is
// answered 503 (Retry-After) unless it asks for /healthz or /readyz, and is
// closed after one answer. Beyond max+reserved a new connection is closed
// at once, so a flood of slow clients can hold neither every file
// descriptor nor the health checks: slow clients fill the normal slots and
// are cut off by read_header_timeout, and the reserved slots turn over
// every couple of seconds.
const (
	reservedHeaderWait = 2 * time.Second
	// httpReadTimeout and httpWriteTimeout bound a whole request and answer.
	httpReadTimeout  = 15 * time.Second
	httpWriteTimeout = 30 * time.Second
	// opsMaxConnections sizes the separate metrics listener.
	opsMaxConnections = 64
	opsReserved       = 8
)

// healthPaths are what reserved connections may ask for.
var healthPaths = map[string]bool{"/healthz": true, "/readyz": true}

// listenerMetrics count one listener's connections.
type listenerMetrics struct {
	open    *prometheus.GaugeVec
	refused *prometheus.CounterVec
	busy    *prometheus.CounterVec
}

func newListenerMetrics(reg prometheus.Registerer) *listenerMetrics {
	m := &listenerMetrics{
		open: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "nova_http_connections", Help: "Open HTTP connections, by listener and slot (normal, or reserved for health checks).",
		}, []string{"listener", "slot"}),
		refused: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "nova_http_connections_refused_total", Help: "Connections closed at once because the listener was full, reserved slots included.",
		}, []string{"listener"}),
		busy: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "nova_http_busy_total", Help: "Requests answered 503 because they arrived on a reserved (health-check only) connection.",
		}, []string{"listener"}),
	}
	reg.MustRegister(m.open, m.refused, m.busy)
	return m
}

// limitListener caps the connections of one listener.
type limitListener struct {
	net.Listener
	name          string
	max, reserved int64
	normal, spare atomic.Int64
	m             *listenerMetrics
}

func newLimitListener(ln net.Listener, name string, max, reserved int, m *listenerMetrics) *limitListener {
	return &limitListener{Listener: ln, name: name, max: int64(max), reserved: int64(reserved), m: m}
}

// Accept returns the next connection that fits, closing those that do not.
func (l *limitListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		if l.normal.Add(1) <= l.max {
			open := l.m.open.WithLabelValues(l.name, "normal")
			open.Inc()
			return &countedConn{Conn: c, release: func() { l.normal.Add(-1); open.Dec() }}, nil
		}
		l.normal.Add(-1)
		if l.spare.Add(1) <= l.reserved {
			open := l.m.open.WithLabelValues(l.name, "reserved")
			open.Inc()
			rc := &reservedConn{countedConn: countedConn{Conn: c, release: func() { l.spare.Add(-1); open.Dec() }},
				until: time.Now().Add(reservedHeaderWait)}
			_ = c.SetReadDeadline(rc.until)
			return rc, nil
		}
		l.spare.Add(-1)
		l.m.refused.WithLabelValues(l.name).Inc()
		_ = c.Close()
	}
}

// countedConn gives its slot back when closed.
type countedConn struct {
	net.Conn
	once    sync.Once
	release func()
}

func (c *countedConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.release)
	return err
}

// CloseWrite keeps net/http's graceful close (half-close, then linger).
func (c *countedConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}

// reservedConn is a connection beyond the cap: until its request arrives,
// no read deadline may reach past until, whatever the server asks for.
type reservedConn struct {
	countedConn
	until   time.Time
	relaxed atomic.Bool
}

func (c *reservedConn) clamp(t time.Time) time.Time {
	if !c.relaxed.Load() && (t.IsZero() || t.After(c.until)) {
		return c.until
	}
	return t
}

func (c *reservedConn) SetReadDeadline(t time.Time) error { return c.Conn.SetReadDeadline(c.clamp(t)) }

func (c *reservedConn) SetDeadline(t time.Time) error {
	if err := c.Conn.SetReadDeadline(c.clamp(t)); err != nil {
		return err
	}
	return c.Conn.SetWriteDeadline(t)
}

// relax lifts the clamp once a request arrived: the server's own timeouts
// bound answering it.
func (c *reservedConn) relax() { c.relaxed.Store(true) }

type reservedKey struct{}

// connContext marks requests that arrived on a reserved connection.
func connContext(ctx context.Context, c net.Conn) context.Context {
	if rc, ok := c.(*reservedConn); ok {
		return context.WithValue(ctx, reservedKey{}, rc)
	}
	return ctx
}

// guardReserved serves health checks on reserved connections and answers
// everything else there with 503, closing the connection after one answer.
func guardReserved(name string, m *listenerMetrics, next http.Handler) http.Handler {
	busy := m.busy.WithLabelValues(name)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rc, ok := r.Context().Value(reservedKey{}).(*reservedConn)
		if !ok {
			next.ServeHTTP(w, r)
			return
		}
		rc.relax()
		w.Header().Set("Connection", "close")
		if r.Method == http.MethodGet && healthPaths[r.URL.Path] {
			next.ServeHTTP(w, r)
			return
		}
		busy.Inc()
		w.Header().Set("Retry-After", "1")
		web.WriteJSON(w, http.StatusServiceUnavailable, web.ErrorBody{
			Error: "Nova is at its connection limit; retry shortly", Code: nova.EUNAVAILABLE})
	})
}

// newHTTPServer builds a server with the configured header and time limits
// for a listener guarded by newLimitListener.
func newHTTPServer(name string, h http.Handler, hc config.HTTPConfig, m *listenerMetrics) *http.Server {
	return &http.Server{
		Handler:           guardReserved(name, m, h),
		MaxHeaderBytes:    int(hc.MaxHeaderBytes),
		ReadHeaderTimeout: hc.ReadHeaderTimeout.Duration,
		ReadTimeout:       httpReadTimeout,
		WriteTimeout:      httpWriteTimeout,
		IdleTimeout:       hc.IdleTimeout.Duration,
		ConnContext:       connContext,
	}
}
