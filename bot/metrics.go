package bot

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/novasre/nova/store"
)

type metrics struct {
	acks           *prometheus.CounterVec
	commands       *prometheus.CounterVec
	stormSummaries prometheus.Counter
}

func newMetrics(reg prometheus.Registerer, st store.Store) (*metrics, error) {
	m := &metrics{
		acks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "nova_acks_total", Help: "First acknowledgements of incidents on enabled services, by who made them (nova or person).",
		}, []string{"by"}),
		commands: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "nova_commands_total", Help: "Slash commands and clicks, by command and result.",
		}, []string{"command", "result"}),
		stormSummaries: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "nova_slack_storm_summaries_total", Help: "Storm summary messages started: a channel's backlog of hypothesis messages summarised in one message.",
		}),
	}
	for _, c := range []prometheus.Collector{m.acks, m.commands, m.stormSummaries} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}
