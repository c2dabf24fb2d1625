package pagerduty

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/novasre/nova/pagerduty/pdemu"
)

// BenchmarkClientNotesPerMinute measures the notes one credential sustains
// against PagerDuty's limit of 960 requests per minute, scaled to 96 per
// 6 s so a run takes seconds, with the client at its defaults (900/min)
// and the largest burst that fits the window (96 - 90 = 6). Each iteration
// is one note; use a fixed count so the burst does not dominate:
//
//	go test ./pagerduty/ -run '^$' -bench NotesPerMinute -benchtime 300x
func BenchmarkClientNotesPerMinute(b *testing.B) {
	rig := newClientRig(b, pdemu.Options{RateLimit: 96, RateWindow: 6 * time.Second, Logf: func(string, ...any) {}})
	id := rig.incident("benchmark")
	c := rig.client(b, "prod", func(cfg *ClientConfig) {
		cfg.Burst, cfg.MaxElapsed = 6, time.Minute
	})
	rig.emu.ResetRequests()
	jobs := make(chan int)
	var wg sync.WaitGroup
	var failed sync.Map
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				if _, err := c.AddNote(context.Background(), id, fmt.Sprintf("note %d", i)); err != nil {
					failed.Store(i, err)
				}
			}
		}()
	}
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	failed.Range(func(k, v any) bool { b.Errorf("note %v: %v", k, v); return true })
	if got := len(rig.emu.Notes(id)); got != b.N {
		b.Errorf("%d notes stored, want %d", got, b.N)
	}
	// 96 per 6 s is 960 per minute in real time too, so no scaling.
	perMinute := float64(b.N) / elapsed.Minutes()
	b.ReportMetric(perMinute, "notes/min")
	b.ReportMetric(perMinute/960, "of_limit")
	b.ReportMetric(float64(rig.emu.RateLimited()), "429s")
}
