package pagerduty

import (
	"crypto/hmac"
	"crypto/sha256"
	"strings"

	"github.com/novasre/nova"
)

// WebhookSignatureHeader is the header in which PagerDuty signs every V3
// webhook delivery: one or more comma-separated "v1=<hex HMAC-SHA256>".
const WebhookSignatureHeader = "X-PagerDuty-Signature"

// webhookSignaturePrefix marks the only signature version PagerDuty defines;
// entries of other versions are skipped so a future scheme cannot break us.
const webhookSignaturePrefix = "v1="

// webhookSignatureMax bounds how many v1 entries one header may carry. During
// a rotation PagerDuty sends one per active secret (two in practice); the cap
// keeps a hostile header from costing secrets×entries comparisons.
const webhookSignatureMax = 16

// webhookSignature is one decoded v1 signature.
type webhookSignature [sha256.Size]byte

// VerifySignature checks header (the X-PagerDuty-Signature value) against an
// HMAC-SHA256 of the raw body under each of secrets, and succeeds when any
// signature matches any secret, so both old and new secrets work during a
// rotation. Errors are *nova.Error: EINVALID when the header holds no usable
// v1 signature, EUNAUTHORIZED when nothing matches or no secret is configured.
// Error messages never include the header, the body or a secret.
func VerifySignature(body []byte, header string, secrets []string) error {
	// Room for the usual one or two signatures without touching the heap.
	var stack [4]webhookSignature
	sigs := parseSignatureHeader(header, stack[:0])
	if len(sigs) == 0 {
		return nova.Errorf(nova.EINVALID,
			"missing or malformed %s header: expected one or more v1=<hex> signatures", WebhookSignatureHeader)
	}
	configured := false
	matched := 0
	for _, secret := range secrets {
		// An empty secret would make every body "signed" by anyone who knows
		// the scheme, so a blank entry in the configuration counts as absent.
		if secret == "" {
			continue
		}
		configured = true
		mac := hmac.New(sha256.New, []byte(secret))
		mac.Write(body)
		var sum webhookSignature
		mac.Sum(sum[:0])
		// Compare against every signature and every secret without stopping
		// at the first match: the time taken then does not depend on which
		// secret (old or new) signed the body.
		for i := range sigs {
			if hmac.Equal(sum[:], sigs[i][:]) {
				matched |= 1
			}
		}
	}
	if !configured {
		return nova.Errorf(nova.EUNAUTHORIZED, "invalid webhook signature: no webhook secret is configured")
	}
	if matched == 0 {
		return nova.Errorf(nova.EUNAUTHORIZED, "invalid webhook signature")
	}
	return nil
}

// parseSignatureHeader appends to dst every well-formed v1 signature of
// header, skipping other versions, bad hex and wrong lengths, and stops after
// webhookSignatureMax signatures. It never fails: an empty result means the
// header is missing or unusable.
func parseSignatureHeader(header string, dst []webhookSignature) []webhookSignature {
	for rest := header; rest != "" && len(dst) < webhookSignatureMax; {
		entry := rest
		if i := strings.IndexByte(rest, ','); i >= 0 {
			entry, rest = rest[:i], rest[i+1:]
		} else {
			rest = ""
		}
		entry = strings.TrimSpace(entry)
		hexSig, ok := strings.CutPrefix(entry, webhookSignaturePrefix)
		if !ok {
			continue
		}
		var sig webhookSignature
		if decodeSignatureHex(hexSig, &sig) {
			dst = append(dst, sig)
		}
	}
	return dst
}

// decodeSignatureHex decodes exactly 2*sha256.Size hex digits (either case)
// into sig. It exists instead of hex.DecodeString so that verifying a
// delivery allocates nothing per signature.
func decodeSignatureHex(s string, sig *webhookSignature) bool {
	if len(s) != 2*len(sig) {
		return false
	}
	for i := range sig {
		hi, ok1 := webhookHexDigit(s[2*i])
		lo, ok2 := webhookHexDigit(s[2*i+1])
		if !ok1 || !ok2 {
			return false
		}
		sig[i] = hi<<4 | lo
	}
	return true
}

// webhookHexDigit returns the value of one hex digit.
func webhookHexDigit(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}
