package main

import (
	"net/http"
	"strconv"
	"time"

	"github.com/gorilla/mux"
	"github.com/prometheus/client_golang/prometheus"
)

// registerOpsMetrics adds the metrics about Nova itself: what build runs,
// and when each credential was issued.
func registerOpsMetrics(reg prometheus.Registerer, rt *runtime) {
	bi := readBuildInfo()
	build := prometheus.NewGauge(prometheus.GaugeOpts{
		Name:        "nova_build_info",
		Help:        "Always 1; the labels say which build of Nova runs.",
		ConstLabels: prometheus.Labels{"version": bi.Version, "commit": bi.Commit, "goversion": bi.GoVersion},
	})
	build.Set(1)
	reg.MustRegister(build, credentialCreated{rt: rt})
}

// credentialCreated exports, from the current configuration at every
// scrape (so a reload shows at once), when each credential was issued, as
// a Unix timestamp: its age is time() - value, and an alert compares that
// with the rotation period. A credential without a created date has no
// timestamp series; nova_credential_undated names it instead.
type credentialCreated struct{ rt *runtime }

var (
	credentialCreatedDesc = prometheus.NewDesc("nova_credential_created_timestamp_seconds",
		"When each configured credential was issued (Unix time); rotate 90 days after.",
		[]string{"environment", "kind", "name"}, nil)
	credentialUndatedDesc = prometheus.NewDesc("nova_credential_undated",
		"1 for each configured credential whose created date the configuration does not give.",
		[]string{"environment", "kind", "name"}, nil)
)

func (c credentialCreated) Describe(ch chan<- *prometheus.Desc) {
	ch <- credentialCreatedDesc
	ch <- credentialUndatedDesc
}

func (c credentialCreated) Collect(ch chan<- prometheus.Metric) {
	for _, cr := range c.rt.config().Credentials(time.Now()) {
		if cr.Created.IsZero() {
			ch <- prometheus.MustNewConstMetric(credentialUndatedDesc, prometheus.GaugeValue, 1, cr.Environment, cr.Kind, cr.Name)
			continue
		}
		ch <- prometheus.MustNewConstMetric(credentialCreatedDesc, prometheus.GaugeValue, float64(cr.Created.Unix()), cr.Environment, cr.Kind, cr.Name)
	}
}

// instrumentRoutes returns middleware that observes every routed request's
// duration by route template (never the raw path: ids stay out of labels),
// method and status code.
func instrumentRoutes(reg prometheus.Registerer) mux.MiddlewareFunc {
	hist := prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "nova_http_request_duration_seconds",
		Help:    "Time to answer HTTP requests, by route template, method and status code.",
		Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
	}, []string{"route", "method", "code"})
	reg.MustRegister(hist)
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			route := "unknown"
			if cur := mux.CurrentRoute(r); cur != nil {
				if tpl, err := cur.GetPathTemplate(); err == nil {
					route = tpl
				}
			}
			start := time.Now()
			sw := &codeWriter{ResponseWriter: w, code: http.StatusOK}
			next.ServeHTTP(sw, r)
			hist.WithLabelValues(route, r.Method, strconv.Itoa(sw.code)).Observe(time.Since(start).Seconds())
		})
	}
}

// codeWriter remembers the status code written.
type codeWriter struct {
	http.ResponseWriter
	code    int
	written bool
}

func (c *codeWriter) WriteHeader(code int) {
	if !c.written {
		c.code, c.written = code, true
	}
	c.ResponseWriter.WriteHeader(code)
}

func (c *codeWriter) Write(b []byte) (int, error) {
	c.written = true
	return c.ResponseWriter.Write(b)
}

// Flush keeps streaming responses working through the wrapper.
func (c *codeWriter) Flush() {
	if f, ok := c.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (c *codeWriter) Unwrap() http.ResponseWriter { return c.ResponseWriter }
