// Package llm phrases Nova's deterministic triage result as a short
// paragraph through any OpenAI-compatible chat endpoint.
//
// It is optional and untrusted. The prompt holds only the gathered evidence
// and the deterministic result; the answer is text and nothing else, under a
// strict timeout. Any failure (timeout, HTTP error, malformed, empty or
// oversized answer) is an error, and so is an answer that says what the
// result does not (a catalog action it did not suggest, a cause outside its
// candidates, an id, URL or number not in the evidence, markup; see
// ground.go), which wraps nova.ErrUngrounded. The caller then posts the
// deterministic summary instead. The model never chooses actions:
// suggestions always come from the triage result, which this package does
// not change.
package llm

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/novasre/nova"
	"github.com/novasre/nova/triage"
)

// Config points at an OpenAI-compatible endpoint.
type Config struct {
	// BaseURL is the API root, e.g. https://api.openai.com/v1; requests go
	// to BaseURL + "/chat/completions".
	BaseURL string
	Model   string
	// APIKey is sent as a bearer token when set. It never appears in errors.
	APIKey string
	// Timeout bounds one Summarise call. Zero means DefaultTimeout.
	Timeout time.Duration
}

// DefaultTimeout keeps the LLM inside the 60-second budget for posting a
// hypothesis, with room for the deterministic fallback.
const DefaultTimeout = nova.DefaultLLMTimeout

// Limits on what the endpoint may send back.
const (
	// maxBody bounds the HTTP response read, whatever the server sends.
	maxBody = 1 << 20
	// MaxSummary is the longest summary accepted, in bytes: a paragraph,
	// not an essay.
	MaxSummary = 1200
)

// Summariser rewrites triage results through a chat-completions endpoint.
type Summariser struct {
	cfg      Config
	client   *http.Client
	endpoint string
}

// New validates cfg and returns a Summariser. A nil httpClient means a new
// default client; the timeout comes from cfg, through the request context.
func New(cfg Config, httpClient *http.Client) (*Summariser, error) {
	u, err := url.Parse(cfg.BaseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, nova.Errorf(nova.EINVALID, "llm base URL must be an http(s) URL with a host")
	}
	if u.User != nil || u.RawQuery != "" {
		// Credentials belong in APIKey, where they are kept out of errors.
		return nil, nova.Errorf(nova.EINVALID, "llm base URL must not carry credentials or a query; set the API key instead")
	}
	if strings.TrimSpace(cfg.Model) == "" {
		return nil, nova.Errorf(nova.EINVALID, "llm model is required")
	}
	if cfg.Timeout < 0 {
		return nil, nova.Errorf(nova.EINVALID, "llm timeout must not be negative")
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = DefaultTimeout
	}
	if httpClient == nil {
		httpClient = &http.Client{}
	}
	return &Summariser{cfg: cfg, client: httpClient, endpoint: strings.TrimRight(cfg.BaseURL, "/") + "/chat/completions"}, nil
}

type chatMessage struct {
	Role    string `json:"role"`
	Content string `json:"content"`
}

type chatRequest struct {
	Model       string        `json:"model"`
	Messages    []chatMessage `json:"messages"`
	Temperature float64       `json:"temperature"`
	MaxTokens   int           `json:"max_tokens"`
}

type chatResponse struct {
	Choices []struct {
		Message chatMessage `json:"message"`
	} `json:"choices"`
}

// Summarise returns a one-paragraph rewrite of the top hypothesis of r. It
// refuses an abstained or empty result: there is no conclusion to phrase,
// and fluent prose would make a non-answer sound like one. The caller puts
// the text in place of the top summary and sets r.SummarisedBy to "llm";
// on any error it posts r unchanged.
func (s *Summariser) Summarise(ctx context.Context, in triage.Input, r nova.TriageResult) (string, error) {
	top := r.Top()
	if top == nil || r.Abstained {
		return "", nova.Errorf(nova.EINVALID, "nothing to summarise: triage abstained")
	}
	body, err := json.Marshal(chatRequest{
		Model:       s.cfg.Model,
		Messages:    []chatMessage{{Role: "system", Content: systemPrompt}, {Role: "user", Content: userPrompt(in, r)}},
		Temperature: 0,
		MaxTokens:   300,
	})
	if err != nil {
		return "", nova.WrapError(nova.EINTERNAL, err, "encode llm request")
	}
	ctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.endpoint, bytes.NewReader(body))
	if err != nil {
		return "", nova.WrapError(nova.EINTERNAL, s.redact(err), "build llm request")
	}
	req.Header.Set("Content-Type", "application/json")
	if s.cfg.APIKey != "" {
		req.Header.Set("Authorization", "Bearer "+s.cfg.APIKey)
	}
	resp, err := s.client.Do(req)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			return "", nova.Errorf(nova.EUNAVAILABLE, "llm did not answer within %s", s.cfg.Timeout)
		}
		return "", nova.WrapError(nova.EUNAVAILABLE, s.redact(err), "llm request failed")
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
	if err != nil {
		return "", nova.WrapError(nova.EUNAVAILABLE, s.redact(err), "read llm answer")
	}
	if resp.StatusCode/100 != 2 {
		// The body is not quoted: servers echo requests, and requests
		// carry the key.
		code := nova.EUNAVAILABLE
		if resp.StatusCode == http.StatusTooManyRequests {
			code = nova.ERATELIMITED
		}
		return "", nova.Errorf(code, "llm endpoint answered HTTP %d", resp.StatusCode)
	}
	if len(raw) > maxBody {
		return "", nova.Errorf(nova.ETOOLARGE, "llm answer over %d bytes", maxBody)
	}
	var cr chatResponse
	if err := json.Unmarshal(raw, &cr); err != nil {
		return "", nova.Errorf(nova.EINTERNAL, "llm answer is not a chat completion")
	}
	if len(cr.Choices) == 0 {
		return "", nova.Errorf(nova.EINTERNAL, "llm answer has no choices")
	}
	return check(cr.Choices[0].Message.Content, in, r)
}

// check turns the model's text into one paragraph and rejects what the
// deterministic result could not have said: a catalog action triage did
// not suggest, or anything ground refuses.
func check(text string, in triage.Input, r nova.TriageResult) (string, error) {
	top := r.Hypotheses[0]
	text = strings.Join(strings.Fields(text), " ")
	switch {
	case text == "":
		return "", nova.Errorf(nova.EINTERNAL, "llm answer is empty")
	case len(text) > MaxSummary:
		return "", nova.Errorf(nova.ETOOLARGE, "llm summary is %d bytes, over %d", len(text), MaxSummary)
	}
	suggested := map[string]bool{}
	for _, sg := range top.Suggestions {
		suggested[sg.Action] = true
	}
	for _, a := range in.Actions {
		if a.Name == "" || suggested[a.Name] {
			continue
		}
		// Whole words only: an action called "scale" must not reject
		// "scaled"; names are usually identifiers like "restart-pod".
		if regexp.MustCompile(`(?i)\b` + regexp.QuoteMeta(a.Name) + `\b`).MatchString(text) {
			return "", nova.WrapError(nova.EINTERNAL, nova.ErrUngrounded, "llm summary names action %q, which triage did not suggest", a.Name)
		}
	}
	if err := ground(text, in, r); err != nil {
		return "", err
	}
	return text, nil
}

// redact removes the API key from an error's text and drops the URL of a
// *url.Error, in case a misconfigured base URL ever carried a secret.
func (s *Summariser) redact(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = fmt.Errorf("%s %s: %w", ue.Op, hostOf(ue.URL), ue.Err)
	}
	if s.cfg.APIKey == "" || !strings.Contains(err.Error(), s.cfg.APIKey) {
		return err
	}
	return errors.New(strings.ReplaceAll(err.Error(), s.cfg.APIKey, "[redacted]"))
}

func hostOf(raw string) string {
	if u, err := url.Parse(raw); err == nil && u.Host != "" {
		return u.Host
	}
	return "llm endpoint"
}
