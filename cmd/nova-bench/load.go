package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// loadResult is what one load run measured.
type loadResult struct {
	sent     int // requests that got an answer or an error
	non202   int // answers other than 202, and transport errors
	errors   int // transport errors (no answer at all)
	accepted int // 202 answers whose body says the event was stored
	elapsed  time.Duration
	lat      latencies
	// firstError is one example for the report.
	firstError string
}

// perSecond is the throughput of the run.
func (r loadResult) perSecond() float64 {
	if r.elapsed <= 0 {
		return 0
	}
	return float64(r.sent) / r.elapsed.Seconds()
}

// sendLoad posts deliveries to url from clients concurrent keep-alive
// connections, each delivery once, and measures each request from send to
// the last byte of the answer. It stops when all are sent or limit passes.
func sendLoad(ctx context.Context, url string, deliveries []delivery, clients int, limit time.Duration) loadResult {
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	// One connection per client, kept alive: PagerDuty reuses connections
	// too, and a fresh TCP handshake per request would measure the kernel.
	tr := &http.Transport{
		MaxIdleConns: clients, MaxIdleConnsPerHost: clients, MaxConnsPerHost: clients,
		IdleConnTimeout: time.Minute, DisableCompression: true,
	}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 10 * time.Second}

	lat := make([]time.Duration, len(deliveries))
	status := make([]int, len(deliveries))
	stored := make([]bool, len(deliveries))
	var next atomic.Int64
	var errMu sync.Mutex
	var firstErr string
	var wg sync.WaitGroup
	start := time.Now()
	for range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			buf := make([]byte, 0, 256)
			for ctx.Err() == nil {
				i := int(next.Add(1) - 1)
				if i >= len(deliveries) {
					return
				}
				d := deliveries[i]
				req, _ := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(d.body))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("User-Agent", "PagerDuty-Webhook/V3.0")
				req.Header.Set("X-Webhook-Id", d.webhookID)
				req.Header.Set("X-Webhook-Subscription", "PBENCHSUB")
				req.Header.Set("X-PagerDuty-Signature", d.signature)
				t0 := time.Now()
				resp, err := client.Do(req)
				if err != nil {
					lat[i], status[i] = time.Since(t0), -1
					errMu.Lock()
					if firstErr == "" {
						firstErr = err.Error()
					}
					errMu.Unlock()
					continue
				}
				buf = buf[:0]
				b := bytes.NewBuffer(buf)
				_, _ = io.Copy(b, io.LimitReader(resp.Body, 4096))
				_ = resp.Body.Close()
				lat[i], status[i] = time.Since(t0), resp.StatusCode
				stored[i] = bytes.Contains(b.Bytes(), []byte(`"accepted"`))
			}
		}()
	}
	wg.Wait()
	r := loadResult{elapsed: time.Since(start), firstError: firstErr}
	var sample []time.Duration
	for i, s := range status {
		if s == 0 {
			continue // never sent: the time limit passed first
		}
		r.sent++
		sample = append(sample, lat[i])
		switch {
		case s < 0:
			r.errors++
			r.non202++
		case s != http.StatusAccepted:
			r.non202++
		case stored[i]:
			r.accepted++
		}
	}
	r.lat = summarise(sample)
	return r
}
