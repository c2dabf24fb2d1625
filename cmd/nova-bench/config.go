package main

import (
	"fmt"

	"github.com/novasre/nova"
	"github.com/novasre/nova/internal/e2e"
	"github.com/novasre/nova/pagerduty/pdemu"
)

// benchEnv is the one environment every installation uses.
const benchEnv = "prod"

// benchService is a service declared to Nova and seeded into the emulators.
type benchService struct {
	ID, Name, Channel, Mode string
	AutoAck                 bool
}

// benchOptions is the installation Nova is measured on: JSON logs at info
// (Nova logs nothing per delivery at info, and "nova listening" carries the
// address), workers and leases at Nova's defaults, one environment, no
// action catalog.
func benchOptions(backend string, services []benchService, pd pdemu.Options) e2e.Options {
	o := e2e.Options{Backend: backend, Envs: []string{benchEnv}, PD: pd, LogLevel: "info",
		PublicURL: "https://nova.bench.example.com", Workers: nova.DefaultWorkers, Visibility: nova.DefaultVisibility.String(),
		RatePerMinute: nova.DefaultRatePerMinute, NoActions: true, Approvers: []string{"U0ALICE", "U0BOB"}, Admins: []string{"U0ALICE"}}
	for _, s := range services {
		o.Services = append(o.Services, e2e.Service{ID: s.ID, Name: s.Name, Env: benchEnv, Mode: s.Mode, Channel: s.Channel, AutoAck: s.AutoAck})
	}
	return o
}

// actionServices returns n action-mode services without auto-ack: Nova
// writes exactly one hypothesis note per incident and nothing else.
func actionServices(n int) []benchService {
	names := []string{"checkout", "payments", "search", "catalog", "shipping", "accounts", "billing", "inventory"}
	out := make([]benchService, n)
	for i := range out {
		name := names[i%len(names)]
		if i >= len(names) {
			name = fmt.Sprintf("%s%d", name, i/len(names))
		}
		out[i] = benchService{ID: fmt.Sprintf("PSVC%03d", i), Name: name,
			Channel: fmt.Sprintf("C0SVC%03d", i), Mode: "action"}
	}
	return out
}
