package bot

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/novasre/nova/store"
)

type metrics struct {
	events           *prometheus.CounterVec
	deadLetters      prometheus.Counter
	timeToHypothesis prometheus.Histogram
	triageDuration   prometheus.Histogram
	acks             *prometheus.CounterVec
	writes           *prometheus.CounterVec
	approvals        *prometheus.CounterVec
	commands         *prometheus.CounterVec
	llmSummaries     *prometheus.CounterVec
	unaudited        *prometheus.CounterVec
	stormSummaries   prometheus.Counter
}

func newMetrics(reg prometheus.Registerer, st store.Store) (*metrics, error) {
	m := &metrics{
		events: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "nova_events_processed_total", Help: "Inbox events processed, by type and result.",
		}, []string{"type", "result"}),
		deadLetters: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "nova_dead_letters_total", Help: "Events set aside after too many failed attempts.",
		}),
		timeToHypothesis: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "nova_time_to_hypothesis_seconds", Help: "From incident trigger to Nova's first posted hypothesis.",
			Buckets: []float64{1, 2, 5, 10, 15, 20, 30, 45, 60, 90, 120, 300},
		}),
		triageDuration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "nova_triage_duration_seconds", Help: "Evidence gathering and analysis per incident.",
			Buckets: prometheus.DefBuckets,
		}),
		acks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "nova_acks_total", Help: "First acknowledgements of incidents on enabled services, by who made them (nova or person).",
		}, []string{"by"}),
		writes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "nova_writes_total", Help: "External writes, by target and result.",
		}, []string{"target", "result"}),
		approvals: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "nova_approvals_total", Help: "Approval request transitions, by outcome.",
		}, []string{"outcome"}),
		commands: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "nova_commands_total", Help: "Slash commands and clicks, by command and result.",
		}, []string{"command", "result"}),
		llmSummaries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "nova_llm_summaries_total",
			Help: "Language-model summaries: used, refused (said something the evidence does not) or failed (timeout, error); refused and failed ones were replaced by the deterministic summary.",
		}, []string{"result"}),
		unaudited: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "nova_refusals_unaudited_total", Help: "Refusals beyond the audit log's per-minute budget, counted into the next entry of their kind.",
		}, []string{"kind"}),
		stormSummaries: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "nova_slack_storm_summaries_total", Help: "Storm summary messages started: a channel's backlog of hypothesis messages summarised in one message.",
		}),
	}
	for _, r := range []string{"used", "refused", "failed"} {
		m.llmSummaries.WithLabelValues(r)
	}
	depth := inboxDepth{st: st}
	for _, c := range []prometheus.Collector{m.events, m.deadLetters, m.timeToHypothesis, m.triageDuration, m.acks, m.writes, m.approvals, m.commands, m.llmSummaries, m.unaudited, m.stormSummaries, depth} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}
