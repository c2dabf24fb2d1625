package bot

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/novasre/nova/store"
)

type metrics struct {
	events         *prometheus.CounterVec
	deadLetters    prometheus.Counter
	acks           *prometheus.CounterVec
	approvals      *prometheus.CounterVec
	commands       *prometheus.CounterVec
	stormSummaries prometheus.Counter
}

func newMetrics(reg prometheus.Registerer, st store.Store) (*metrics, error) {
	m := &metrics{
		events: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "nova_events_processed_total", Help: "Inbox events processed, by type and result.",
		}, []string{"type", "result"}),
		deadLetters: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "nova_dead_letters_total", Help: "Events set aside after too many failed attempts.",
		}),
		acks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "nova_acks_total", Help: "First acknowledgements of incidents on enabled services, by who made them (nova or person).",
		}, []string{"by"}),
		approvals: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "nova_approvals_total", Help: "Approval request transitions, by outcome.",
		}, []string{"outcome"}),
		commands: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "nova_commands_total", Help: "Slash commands and clicks, by command and result.",
		}, []string{"command", "result"}),
		stormSummaries: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "nova_slack_storm_summaries_total", Help: "Storm summary messages started: a channel's backlog of hypothesis messages summarised in one message.",
		}),
	}
	depth := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "nova_inbox_depth", Help: "Events stored in the inbox (ready, leased or delayed); -1 when the store is unreachable.",
	}, func() float64 {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		n, err := st.InboxDepth(ctx)
		if err != nil {
			return -1
		}
		return float64(n)
	})
	for _, c := range []prometheus.Collector{m.events, m.deadLetters, m.acks, m.approvals, m.commands, m.stormSummaries, depth} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}
