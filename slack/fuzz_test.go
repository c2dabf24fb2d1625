package slack

import (
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/novasre/nova"
)

// The parsers read bodies that passed signature checks but are still
// Slack's to shape; they must never panic and must always answer.

func FuzzParseCommand(f *testing.F) {
	if raw, err := os.ReadFile(filepath.Join(fixtures, "signing_docs_vector_body.txt")); err == nil {
		f.Add(raw)
	}
	f.Add([]byte("ssl_check=1&token=x"))
	f.Add([]byte("user_id=U1&text=%zz"))
	f.Fuzz(func(t *testing.T, body []byte) {
		req, ssl, err := parseCommand(body)
		if err == nil && !ssl && req.UserID == "" {
			t.Fatal("accepted a command without a user")
		}
	})
}

func FuzzParseInteraction(f *testing.F) {
	if raw, err := os.ReadFile(filepath.Join(fixtures, "slackgo_test_block_actions_with_state.json")); err == nil {
		f.Add(raw)
	}
	f.Add([]byte(`{"type":"block_actions","user":{"id":"U1"},"channel":null,"actions":[{"action_id":"a","value":"v"}]}`))
	f.Add([]byte(`{"type":"block_actions","actions":[]}`))
	f.Fuzz(func(t *testing.T, payload []byte) {
		in, handled, err := parseInteraction(payload)
		if handled && (err != nil || in.UserID == "") {
			t.Fatalf("handled an interaction without a user: %+v %v", in, err)
		}
	})
}

func FuzzVerifyRequest(f *testing.F) {
	f.Add("1531420618", "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503", []byte("body"))
	f.Add("", "", []byte{})
	f.Fuzz(func(t *testing.T, ts, sig string, body []byte) {
		h := http.Header{}
		h.Set(HeaderTimestamp, ts)
		h.Set(HeaderSignature, sig)
		err := VerifyRequest("secret", h, body, time.Unix(1531420618, 0))
		if err == nil {
			n, _ := strconv.ParseInt(ts, 10, 64)
			if Sign("secret", n, body) != sig {
				t.Fatal("accepted a signature it did not compute")
			}
		} else if c := nova.ErrorCode(err); c != nova.EINVALID && c != nova.EUNAUTHORIZED {
			t.Fatalf("code %q", c)
		}
	})
}

func FuzzRenderNeverBreaksLimits(f *testing.F) {
	f.Add("header", "section *text* <https://x|y>", "field", "button", "value", 3)
	f.Fuzz(func(t *testing.T, header, text, field, label, value string, n int) {
		n = n%80 + 1
		if n < 0 {
			n = -n
		}
		m := nova.Message{Text: nova.Mrkdwn(text)}
		for range n {
			m.Blocks = append(m.Blocks,
				nova.Block{Kind: nova.BlockHeader, Text: nova.Mrkdwn(header)},
				nova.Block{Kind: nova.BlockSection, Text: nova.Mrkdwn(text), Fields: []nova.Mrkdwn{nova.Mrkdwn(field)}, MoreURL: "https://nova/x"},
				nova.Block{Kind: nova.BlockActions, Buttons: []nova.Button{{ActionID: label, Text: label, Value: value}}})
		}
		blocks := Render(m)
		if len(blocks) > maxBlocks {
			t.Fatalf("%d blocks", len(blocks))
		}
		raw, err := jsonOf(blocks)
		if err != nil || !utf8.Valid(raw) {
			t.Fatalf("blocks do not marshal to valid UTF-8 JSON: %v", err)
		}
	})
}
