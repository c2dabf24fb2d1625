package slackemu

import (
	"net/http"
	"slices"
)

// serveInspect answers GET /_slackemu/messages: everything posted so far,
// as JSON, for a person poking at the local sandbox (?channel=C… narrows
// it to one channel).
func (e *Emulator) serveInspect(w http.ResponseWriter, r *http.Request) {
	only := r.URL.Query().Get("channel")
	e.mu.Lock()
	ids := make([]string, 0, len(e.channels))
	for id := range e.channels {
		if only == "" || only == id {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	channels := make([]map[string]any, 0, len(ids))
	for _, id := range ids {
		ch := e.channels[id]
		msgs := make([]Message, len(ch.messages))
		for i, m := range ch.messages {
			msgs[i] = m.clone()
		}
		channels = append(channels, map[string]any{"id": id, "name": ch.name, "messages": msgs})
	}
	out := map[string]any{
		"channels":     channels,
		"ephemerals":   slices.Clone(e.ephemerals),
		"responses":    slices.Clone(e.responses),
		"rate_limited": e.rateLimited,
		"unexpected":   slices.Clone(e.unexpected),
	}
	e.mu.Unlock()
	writeJSON(w, http.StatusOK, out)
}
