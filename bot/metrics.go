package bot

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/novasre/nova/store"
)

type metrics struct {
	acks     *prometheus.CounterVec
	commands *prometheus.CounterVec
}

func newMetrics(reg prometheus.Registerer, st store.Store) (*metrics, error) {
	m := &metrics{
		acks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "nova_acks_total", Help: "First acknowledgements of incidents on enabled services, by who made them (nova or person).",
		}, []string{"by"}),
		commands: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "nova_commands_total", Help: "Slash commands and clicks, by command and result.",
		}, []string{"command", "result"}),
	}
	for _, c := range []prometheus.Collector{m.acks, m.commands} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}
