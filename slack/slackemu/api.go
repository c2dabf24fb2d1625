package slackemu

import (
	"encoding/json"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// params are a Web API call's arguments, whichever way they were sent:
// form body, multipart, query string or JSON. JSON values that are not
// strings are kept as their JSON text (blocks, metadata).
type params map[string]string

// apiResult is a method's answer: a JSON body, or an error with a status.
type apiResult struct {
	status     int
	body       map[string]any
	retryAfter int
}

func ok(fields map[string]any) apiResult {
	body := map[string]any{"ok": true}
	for k, v := range fields {
		body[k] = v
	}
	return apiResult{status: http.StatusOK, body: body}
}

func fail(code string) apiResult {
	return apiResult{status: http.StatusOK, body: apiError(code)}
}

func apiError(code string) map[string]any {
	return map[string]any{"ok": false, "error": code}
}

// method is a Web API method; it runs with e.mu held.
type method func(e *Emulator, p params) apiResult

var methods = map[string]method{
	"auth.test":             (*Emulator).authTest,
	"chat.postMessage":      (*Emulator).postMessage,
	"chat.update":           (*Emulator).update,
	"chat.postEphemeral":    (*Emulator).postEphemeral,
	"conversations.history": (*Emulator).history,
	"conversations.replies": (*Emulator).replies,
	"conversations.info":    (*Emulator).conversationInfo,
	"conversations.join":    (*Emulator).join,
	"users.info":            (*Emulator).userInfo,
	"usergroups.users.list": (*Emulator).groupMembers,
}

func (e *Emulator) serveAPI(w http.ResponseWriter, r *http.Request) {
	name := strings.TrimPrefix(r.URL.Path, "/api/")
	rec := Request{HTTPMethod: r.Method, Path: r.URL.Path, Method: name}
	res, p := e.callAPI(r, name)
	rec.Status = res.status
	if errCode, _ := res.body["error"].(string); errCode != "" {
		rec.Error = errCode
	}
	if res.body["ok"] == true && e.loseAnswer(name, p) {
		// The call happened (a post is stored); the answer never arrives.
		rec.Status, rec.Error = 0, "answer lost"
		e.recordRequest(rec)
		dropConnection(w)
		return
	}
	e.recordRequest(rec)
	if res.retryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(res.retryAfter))
	}
	writeJSON(w, res.status, res.body)
}

func (e *Emulator) callAPI(r *http.Request, name string) (apiResult, params) {
	switch name {
	case "apps.connections.open":
		return e.openConnection(r), nil
	case "openid.connect.token":
		return e.openIDToken(r), nil
	case "openid.connect.userInfo":
		return e.openIDUserInfo(r), nil
	}
	m, known := methods[name]
	if !known {
		e.recordUnexpected(r.Method + " " + r.URL.Path)
		return apiResult{status: http.StatusNotFound, body: apiError("unknown_method")}, nil
	}
	p, token, err := readParams(r)
	if err != nil {
		return fail("invalid_form_data"), nil
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if token == "" {
		return fail("not_authed"), p
	}
	if !e.tokens[token] {
		return fail("invalid_auth"), p
	}
	return m(e, p), p
}

// readParams parses the call and returns its arguments and token (the
// Bearer header wins over a token field, as on Slack).
func readParams(r *http.Request) (params, string, error) {
	p := params{}
	for k, v := range r.URL.Query() {
		p[k] = v[0]
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 2<<20))
	if err != nil {
		return nil, "", err
	}
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch ct {
	case "application/json":
		var obj map[string]json.RawMessage
		if len(body) > 0 {
			if err := json.Unmarshal(body, &obj); err != nil {
				return nil, "", err
			}
		}
		for k, raw := range obj {
			var s string
			if json.Unmarshal(raw, &s) == nil {
				p[k] = s
			} else {
				p[k] = string(raw)
			}
		}
	case "multipart/form-data":
		r.Body = io.NopCloser(strings.NewReader(string(body)))
		if err := r.ParseMultipartForm(2 << 20); err != nil {
			return nil, "", err
		}
		for k, v := range r.MultipartForm.Value {
			p[k] = v[0]
		}
	default:
		form, err := url.ParseQuery(string(body))
		if err != nil {
			return nil, "", err
		}
		for k, v := range form {
			p[k] = v[0]
		}
	}
	token := p["token"]
	delete(p, "token")
	if h := r.Header.Get("Authorization"); strings.HasPrefix(h, "Bearer ") {
		token = strings.TrimPrefix(h, "Bearer ")
	}
	return p, token, nil
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// truthy reads Slack's booleans, which arrive as true, "true" or "1".
func truthy(s string) bool { return s == "true" || s == "1" }

// AnswerLoss describes calls that take effect but whose answer never
// reaches the client: Slack accepted the write (the message is stored), and
// then the network path broke or a proxy timed out.
type AnswerLoss struct {
	// Method is the Web API method, such as "chat.postMessage".
	Method string
	// InThread limits the loss to posts into a thread (thread_ts set).
	InThread bool
	// Count is how many successful calls lose their answer.
	Count int
}

// LoseAnswers adds an answer loss; the connection of each affected call is
// closed without an answer after the call took effect.
func (e *Emulator) LoseAnswers(l AnswerLoss) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.lose = append(e.lose, &l)
}

// loseAnswer reports whether this successful call's answer is to be lost.
func (e *Emulator) loseAnswer(method string, p params) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, l := range e.lose {
		if l.Count > 0 && l.Method == method && (!l.InThread || p["thread_ts"] != "") {
			l.Count--
			return true
		}
	}
	return false
}

// dropConnection closes the client's connection without writing a response.
func dropConnection(w http.ResponseWriter) {
	if hj, ok := w.(http.Hijacker); ok {
		if conn, _, err := hj.Hijack(); err == nil {
			_ = conn.Close()
			return
		}
	}
	panic(http.ErrAbortHandler) // net/http closes the connection unanswered
}
