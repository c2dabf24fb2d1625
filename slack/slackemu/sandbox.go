package slackemu

import (
	"net/http"
)

// NovaEndpoints tell the sandbox where Nova listens and which signing
// secret it expects.
type NovaEndpoints struct {
	CommandsURL     string
	InteractionsURL string
	SigningSecret   string
}

// sandboxAnswer is what Nova answered to a request a person triggered.
type sandboxAnswer struct {
	Status int    `json:"status"`
	Body   string `json:"body"`
	Error  string `json:"error,omitempty"`
}

// serveSandboxCommand lets a person type a slash command without Slack:
// POST /_slackemu/command with user, channel and text (form or query).
func (e *Emulator) serveSandboxCommand(w http.ResponseWriter, r *http.Request) {
	if e.opts.Nova == nil {
		writeJSON(w, http.StatusNotFound, sandboxAnswer{Error: "start slackemu with Options.Nova to drive Nova"})
		return
	}
	resp, body, err := e.SlashCommand(e.opts.Nova.CommandsURL, e.opts.Nova.SigningSecret,
		r.FormValue("user"), r.FormValue("channel"), r.FormValue("text"))
	writeSandboxAnswer(w, resp, body, err)
}

// serveSandboxClick clicks a button of a posted message: POST
// /_slackemu/click with user, channel, ts and action_id.
func (e *Emulator) serveSandboxClick(w http.ResponseWriter, r *http.Request) {
	if e.opts.Nova == nil {
		writeJSON(w, http.StatusNotFound, sandboxAnswer{Error: "start slackemu with Options.Nova to drive Nova"})
		return
	}
	msg := Message{Channel: r.FormValue("channel"), TS: r.FormValue("ts")}
	resp, body, err := e.Click(e.opts.Nova.InteractionsURL, e.opts.Nova.SigningSecret,
		r.FormValue("user"), msg, r.FormValue("action_id"))
	writeSandboxAnswer(w, resp, body, err)
}

func writeSandboxAnswer(w http.ResponseWriter, resp *http.Response, body []byte, err error) {
	if err != nil {
		writeJSON(w, http.StatusBadRequest, sandboxAnswer{Error: err.Error()})
		return
	}
	writeJSON(w, http.StatusOK, sandboxAnswer{Status: resp.StatusCode, Body: string(body)})
}
