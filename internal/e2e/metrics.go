package e2e

import (
	"bufio"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

var metricsClient = &http.Client{Timeout: 10 * time.Second}

// Metric sums the samples of the metric name on base's /metrics whose
// labels contain every filter; ok is false when /metrics could not be read
// or has no such sample.
func Metric(base, name string, filters ...string) (sum float64, ok bool) {
	resp, err := metricsClient.Get(base + "/metrics")
	if err != nil {
		return 0, false
	}
	defer resp.Body.Close()
	return sumMetric(resp.Body, name, filters...)
}

func sumMetric(r io.Reader, name string, filters ...string) (sum float64, ok bool) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, name+" ") && !strings.HasPrefix(line, name+"{") {
			continue
		}
		match := true
		for _, f := range filters {
			match = match && strings.Contains(line, f)
		}
		if !match {
			continue
		}
		if v, err := strconv.ParseFloat(line[strings.LastIndex(line, " ")+1:], 64); err == nil {
			sum += v
			ok = true
		}
	}
	return sum, ok
}
