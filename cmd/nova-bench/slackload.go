package main

import (
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/novasre/nova/slack/slackemu"
)

// slackResult is what the Slack traffic measured.
type slackResult struct {
	commands, clicks int
	non200, errors   int
	lat              latencies
	firstError       string
}

// slackLoad sends signed Slack requests to Nova at perSecond for duration,
// alternating `/nova status <service>` commands with clicks on the feedback
// buttons of hypothesis messages already posted (a command while none is).
// Each request goes in its own goroutine, so a slow answer does not delay
// the schedule; the number of requests is fixed up front.
func (r *rig) slackLoad(perSecond int, duration time.Duration, stop <-chan struct{}) slackResult {
	total := int(duration.Seconds() * float64(perSecond))
	interval := time.Second / time.Duration(perSecond)
	var mu sync.Mutex
	var res slackResult
	var sample []time.Duration
	var wg sync.WaitGroup
	tick := time.NewTicker(interval)
	defer tick.Stop()
	record := func(click bool, d time.Duration, status int, err error) {
		mu.Lock()
		defer mu.Unlock()
		if click {
			res.clicks++
		} else {
			res.commands++
		}
		sample = append(sample, d)
		switch {
		case err != nil:
			res.errors++
			res.non200++
			if res.firstError == "" {
				res.firstError = err.Error()
			}
		case status != http.StatusOK:
			res.non200++
		}
	}
loop:
	for i := 0; i < total; i++ {
		select {
		case <-tick.C:
		case <-stop:
			break loop
		case <-r.b.ctx.Done():
			break loop
		}
		svc := r.services[i%len(r.services)]
		req, click := r.slackRequest(i, svc)
		if req == nil {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			t0 := time.Now()
			resp, _, err := req.Send()
			status := 0
			if resp != nil {
				status = resp.StatusCode
			}
			record(click, time.Since(t0), status, err)
		}()
	}
	wg.Wait()
	res.lat = summarise(sample)
	return res
}

// slackRequest builds request i: a click on odd i when a message with a
// feedback button exists in svc's channel, otherwise a status command.
// Signing happens here, outside the timed part.
func (r *rig) slackRequest(i int, svc benchService) (*slackemu.SignedRequest, bool) {
	secret := r.signingSecret()
	if i%2 == 1 {
		if msg, action, ok := latestFeedback(r.sl.Messages(svc.Channel)); ok {
			req, err := r.sl.ClickRequest(r.nova.URL+"/slack/interactions", secret, slackUser, msg, action)
			if err == nil {
				return req, true
			}
		}
	}
	req, err := r.sl.SlashCommandRequest(r.nova.URL+"/slack/commands", secret, slackUser, svc.Channel, "status "+svc.Name)
	if err != nil {
		return nil, false
	}
	return req, false
}

// latestFeedback finds the newest message with a feedback button.
func latestFeedback(msgs []slackemu.Message) (slackemu.Message, string, bool) {
	for i := len(msgs) - 1; i >= 0; i-- {
		if msgs[i].Deleted {
			continue
		}
		for _, btn := range msgs[i].Buttons() {
			if strings.Contains(btn.ActionID, "feedback_helpful") {
				return msgs[i], btn.ActionID, true
			}
		}
	}
	return slackemu.Message{}, "", false
}
