package executor

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

// Headers of every action webhook request; docs/action-webhooks.md is the
// contract receivers implement, so these names must not change.
const (
	HeaderIdempotencyKey = "Idempotency-Key"
	HeaderTimestamp      = "X-Nova-Timestamp"
	HeaderSignature      = "X-Nova-Signature"
)

// signatureVersion prefixes the signature so the scheme can evolve without
// breaking receivers that only know v1.
const signatureVersion = "v1"

// DefaultTolerance is how far a request's timestamp may be from the
// receiver's clock: long enough for clock skew and one slow attempt, short
// enough that a captured request cannot be replayed later.
const DefaultTolerance = 5 * time.Minute

// Sign returns the X-Nova-Signature value for body sent at timestamp (unix
// seconds): "v1=" + hex(HMAC-SHA256(secret, timestamp + "." + body)).
// The timestamp is signed with the body so that neither can be swapped.
func Sign(secret string, timestamp int64, body []byte) string {
	return signatureVersion + "=" + hex.EncodeToString(mac(secret, strconv.FormatInt(timestamp, 10), body))
}

func mac(secret, timestamp string, body []byte) []byte {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(timestamp))
	m.Write([]byte{'.'})
	m.Write(body)
	return m.Sum(nil)
}

// VerifySignature is the reference check for receivers of action webhooks:
// body must be the raw request body, exactly as received. It returns nil,
// or an EUNAUTHORIZED error saying what is wrong (never the expected
// signature). tolerance <= 0 means DefaultTolerance.
//
// The signature header may list several comma-separated values (for example
// "v1=…,v1=…" while a secret is rotated); the request is genuine when any v1
// value matches. To accept several secrets, call it once per secret.
func VerifySignature(secret string, header http.Header, body []byte, now time.Time, tolerance time.Duration) error {
	if secret == "" {
		return nova.Errorf(nova.EINVALID, "no webhook secret configured to verify the request with")
	}
	if tolerance <= 0 {
		tolerance = DefaultTolerance
	}
	ts := strings.TrimSpace(header.Get(HeaderTimestamp))
	if ts == "" {
		return nova.Errorf(nova.EUNAUTHORIZED, "missing %s header", HeaderTimestamp)
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return nova.Errorf(nova.EUNAUTHORIZED, "%s is not a unix time in seconds", HeaderTimestamp)
	}
	if skew := now.Sub(time.Unix(sec, 0)); skew > tolerance || skew < -tolerance {
		return nova.Errorf(nova.EUNAUTHORIZED, "%s is %s away from this server's clock, more than the %s tolerance: a replayed request or a wrong clock",
			HeaderTimestamp, skew.Abs().Round(time.Second), tolerance)
	}
	want := mac(secret, ts, body)
	found := false
	for _, line := range header.Values(HeaderSignature) {
		for _, part := range strings.Split(line, ",") {
			version, sig, ok := strings.Cut(strings.TrimSpace(part), "=")
			if !ok || version != signatureVersion {
				continue
			}
			found = true
			got, err := hex.DecodeString(sig)
			if err == nil && hmac.Equal(got, want) {
				return nil
			}
		}
	}
	if !found {
		return nova.Errorf(nova.EUNAUTHORIZED, "missing %s header with a %s= signature", HeaderSignature, signatureVersion)
	}
	return nova.Errorf(nova.EUNAUTHORIZED, "%s does not match the body: wrong secret, or the body was changed on the way", HeaderSignature)
}
