package slackemu

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// ackDeadline is how long Slack waits for an envelope's ack.
const ackDeadline = 3 * time.Second

// socketHub holds the Socket Mode connections and the envelopes awaiting
// their acks.
type socketHub struct {
	mu      sync.Mutex
	tickets map[string]bool
	conns   []*socketConn
	waiting map[string]chan json.RawMessage
}

type socketConn struct {
	ws      *websocket.Conn
	writeMu sync.Mutex // gorilla allows one writer at a time
	done    chan struct{}
	// draining is set once the connection was asked to reconnect; like
	// Slack, the emulator sends it no more envelopes. Guarded by the hub's mu.
	draining bool
}

func newSocketHub() socketHub {
	return socketHub{tickets: map[string]bool{}, waiting: map[string]chan json.RawMessage{}}
}

func randomID() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// openConnection is apps.connections.open: an app-level token buys a
// one-use websocket URL.
func (e *Emulator) openConnection(r *http.Request) apiResult {
	auth := r.Header.Get("Authorization")
	switch {
	case auth == "":
		return fail("not_authed")
	case auth != "Bearer "+e.opts.AppToken:
		return fail("invalid_auth")
	}
	ticket := randomID()
	e.socket.mu.Lock()
	e.socket.tickets[ticket] = true
	e.socket.mu.Unlock()
	return ok(map[string]any{"url": "ws" + strings.TrimPrefix(e.base, "http") + "/_slackemu/socket?ticket=" + ticket})
}

var upgrader = websocket.Upgrader{CheckOrigin: func(*http.Request) bool { return true }}

func (e *Emulator) serveSocket(w http.ResponseWriter, r *http.Request) {
	ticket := r.URL.Query().Get("ticket")
	e.socket.mu.Lock()
	valid := e.socket.tickets[ticket]
	delete(e.socket.tickets, ticket)
	e.socket.mu.Unlock()
	if !valid {
		e.recordUnexpected("websocket with unknown ticket")
		http.Error(w, "unknown ticket", http.StatusUnauthorized)
		return
	}
	ws, err := upgrader.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	c := &socketConn{ws: ws, done: make(chan struct{})}
	e.socket.mu.Lock()
	e.socket.conns = append(e.socket.conns, c)
	n := len(e.socket.conns)
	e.socket.mu.Unlock()
	_ = c.write(map[string]any{"type": "hello", "num_connections": n,
		"connection_info": map[string]any{"app_id": e.opts.AppID},
		"debug_info":      map[string]any{"host": "slackemu", "approximate_connection_time": 18060}})
	go e.ping(c)
	e.readAcks(c)
}

func (c *socketConn) write(v any) error {
	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	_ = c.ws.SetWriteDeadline(time.Now().Add(5 * time.Second))
	return c.ws.WriteJSON(v)
}

// ping keeps slack-go's dead-connection timer satisfied, as Slack does.
func (e *Emulator) ping(c *socketConn) {
	t := time.NewTicker(e.opts.PingInterval)
	defer t.Stop()
	for {
		if err := c.ws.WriteControl(websocket.PingMessage, []byte("slackemu"), time.Now().Add(time.Second)); err != nil {
			return
		}
		select {
		case <-c.done:
			return
		case <-t.C:
		}
	}
}

func (e *Emulator) readAcks(c *socketConn) {
	defer e.dropConn(c)
	for {
		_, data, err := c.ws.ReadMessage()
		if err != nil {
			return
		}
		var ack struct {
			EnvelopeID string          `json:"envelope_id"`
			Payload    json.RawMessage `json:"payload"`
		}
		if json.Unmarshal(data, &ack) != nil || ack.EnvelopeID == "" {
			e.recordUnexpected("malformed Socket Mode frame")
			continue
		}
		e.socket.mu.Lock()
		ch, waiting := e.socket.waiting[ack.EnvelopeID]
		delete(e.socket.waiting, ack.EnvelopeID)
		e.socket.mu.Unlock()
		if !waiting {
			e.recordUnexpected("ack for unknown or expired envelope")
			continue
		}
		ch <- ack.Payload
	}
}

func (e *Emulator) dropConn(c *socketConn) {
	close(c.done)
	_ = c.ws.Close()
	e.socket.mu.Lock()
	defer e.socket.mu.Unlock()
	for i, x := range e.socket.conns {
		if x == c {
			e.socket.conns = append(e.socket.conns[:i], e.socket.conns[i+1:]...)
			break
		}
	}
}

func (h *socketHub) closeAll() {
	h.mu.Lock()
	conns := append([]*socketConn(nil), h.conns...)
	h.mu.Unlock()
	for _, c := range conns {
		_ = c.ws.Close()
	}
}

// SocketConnections is the number of open Socket Mode connections that
// have not been asked to reconnect.
func (e *Emulator) SocketConnections() int {
	e.socket.mu.Lock()
	defer e.socket.mu.Unlock()
	n := 0
	for _, c := range e.socket.conns {
		if !c.draining {
			n++
		}
	}
	return n
}

// WaitSocket waits until Nova has a Socket Mode connection open.
func (e *Emulator) WaitSocket(timeout time.Duration) error {
	for end := time.Now().Add(timeout); time.Now().Before(end); time.Sleep(10 * time.Millisecond) {
		if e.SocketConnections() > 0 {
			return nil
		}
	}
	return errors.New("slackemu: no Socket Mode connection")
}

// RefreshSockets asks every connection to reconnect, as Slack does every
// few hours ("refresh_requested").
func (e *Emulator) RefreshSockets() {
	e.socket.mu.Lock()
	conns := append([]*socketConn(nil), e.socket.conns...)
	e.socket.mu.Unlock()
	for _, c := range conns {
		e.socket.mu.Lock()
		c.draining = true
		e.socket.mu.Unlock()
		_ = c.write(map[string]any{"type": "disconnect", "reason": "refresh_requested"})
	}
}

// send delivers an envelope over one connection and returns the ack's
// payload, or an error if Nova does not ack within Slack's 3 seconds.
func (e *Emulator) send(kind string, payload json.RawMessage) (json.RawMessage, error) {
	id := randomID()
	ack := make(chan json.RawMessage, 1)
	e.socket.mu.Lock()
	var c *socketConn
	for _, x := range e.socket.conns {
		if !x.draining {
			c = x // the newest live connection
		}
	}
	if c == nil {
		e.socket.mu.Unlock()
		return nil, errors.New("slackemu: no Socket Mode connection")
	}
	e.socket.waiting[id] = ack
	e.socket.mu.Unlock()
	err := c.write(map[string]any{"envelope_id": id, "type": kind, "payload": payload,
		"accepts_response_payload": kind == "slash_commands"})
	if err == nil {
		select {
		case p := <-ack:
			return p, nil
		case <-time.After(ackDeadline):
			err = fmt.Errorf("slackemu: %s envelope not acknowledged within %s", kind, ackDeadline)
		}
	}
	e.socket.mu.Lock()
	delete(e.socket.waiting, id)
	e.socket.mu.Unlock()
	return nil, err
}

// SocketSlashCommand sends "/nova text" over Socket Mode and returns the
// ack's payload (the immediate reply, or null).
func (e *Emulator) SocketSlashCommand(user, channel, text string) (json.RawMessage, error) {
	form, err := e.commandFields(user, channel, text)
	if err != nil {
		return nil, err
	}
	fields := map[string]string{}
	for k, v := range form {
		fields[k] = v[0]
	}
	payload, _ := json.Marshal(fields)
	return e.send("slash_commands", payload)
}

// SocketClick clicks the button actionID of msg over Socket Mode and
// returns the ack's payload.
func (e *Emulator) SocketClick(user string, msg Message, actionID string) (json.RawMessage, error) {
	payload, err := e.clickPayload(user, msg, actionID)
	if err != nil {
		return nil, err
	}
	return e.send("interactive", payload)
}
