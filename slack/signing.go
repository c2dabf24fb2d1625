package slack

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/novasre/nova"
)

// Headers Slack adds to every signed request.
const (
	HeaderSignature = "X-Slack-Signature"
	HeaderTimestamp = "X-Slack-Request-Timestamp"
)

// SignatureWindow is how far a request's timestamp may be from now, in
// either direction, before it is refused as a possible replay.
const SignatureWindow = 5 * time.Minute

// Sign returns Slack's v0 signature of body sent at ts (Unix seconds):
// "v0=" + hex(HMAC-SHA256(secret, "v0:<ts>:<body>")). The secret is used
// as plain bytes, as Slack does; it is not hex- or base64-decoded.
func Sign(secret string, ts int64, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte("v0:" + strconv.FormatInt(ts, 10) + ":"))
	mac.Write(body)
	return "v0=" + hex.EncodeToString(mac.Sum(nil))
}

// VerifyRequest checks that body was signed with secret and sent within
// SignatureWindow of now. Missing or malformed headers are EINVALID; a
// stale timestamp, an empty secret or a wrong signature are EUNAUTHORIZED.
// Errors never echo the secret or the expected signature.
func VerifyRequest(secret string, header http.Header, body []byte, now time.Time) error {
	sig := header.Get(HeaderSignature)
	tsText := header.Get(HeaderTimestamp)
	if sig == "" || tsText == "" {
		return nova.Errorf(nova.EINVALID, "missing Slack signature headers")
	}
	ts, err := strconv.ParseInt(tsText, 10, 64)
	if err != nil {
		return nova.Errorf(nova.EINVALID, "malformed Slack request timestamp")
	}
	if secret == "" {
		// An empty key would let anyone compute a valid signature.
		return nova.Errorf(nova.EUNAUTHORIZED, "no Slack signing secret is configured")
	}
	// time.Time.Sub saturates, so absurd timestamps cannot overflow into the window.
	if age := now.Sub(time.Unix(ts, 0)); age > SignatureWindow || age < -SignatureWindow {
		return nova.Errorf(nova.EUNAUTHORIZED, "stale Slack request timestamp")
	}
	if !strings.HasPrefix(sig, "v0=") {
		return nova.Errorf(nova.EUNAUTHORIZED, "unsupported Slack signature version")
	}
	if !hmac.Equal([]byte(Sign(secret, ts, body)), []byte(sig)) {
		return nova.Errorf(nova.EUNAUTHORIZED, "bad Slack signature")
	}
	return nil
}
