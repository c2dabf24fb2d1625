package metric

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

func TestRegisterSharesOrRefuses(t *testing.T) {
	reg := prometheus.NewRegistry()
	opts := prometheus.CounterOpts{Name: "nova_test_total", Help: "test"}
	first, err := Register(reg, prometheus.NewCounter(opts))
	if err != nil {
		t.Fatal(err)
	}
	second, err := Register(reg, prometheus.NewCounter(opts))
	if err != nil || second != first {
		t.Fatalf("a second registration got %v, %v; want the first collector", second, err)
	}
	// Same name, another shape: an error, not a silent second metric.
	if _, err := Register(reg, prometheus.NewCounterVec(opts, []string{"x"})); err == nil {
		t.Fatal("a conflicting collector was accepted")
	}
	if c, err := Register[prometheus.Counter](nil, first); err != nil || c != first {
		t.Fatal("a nil registerer must leave the collector unexported")
	}
}
