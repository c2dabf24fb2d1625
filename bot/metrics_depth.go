package bot

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// inboxDepth reports the inbox's depth at every scrape, and whether the
// store answered: when it does not, there is no depth sample (never a
// sentinel value) and nova_store_up is 0.
type inboxDepth struct {
	st interface {
		InboxDepth(ctx context.Context) (int64, error)
	}
}

var (
	inboxDepthDesc = prometheus.NewDesc("nova_inbox_depth",
		"Events stored in the inbox (ready, leased or delayed); absent while the store is unreachable.", nil, nil)
	storeUpDesc = prometheus.NewDesc("nova_store_up",
		"1 when the store answered the last scrape's inbox depth query, 0 when it did not.", nil, nil)
)

func (d inboxDepth) Describe(ch chan<- *prometheus.Desc) {
	ch <- inboxDepthDesc
	ch <- storeUpDesc
}

func (d inboxDepth) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	n, err := d.st.InboxDepth(ctx)
	if err != nil {
		ch <- prometheus.MustNewConstMetric(storeUpDesc, prometheus.GaugeValue, 0)
		return
	}
	ch <- prometheus.MustNewConstMetric(storeUpDesc, prometheus.GaugeValue, 1)
	ch <- prometheus.MustNewConstMetric(inboxDepthDesc, prometheus.GaugeValue, float64(n))
}
