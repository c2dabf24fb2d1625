package nova

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"strconv"
	"strings"
	"time"
)

// Audit outcomes.
const (
	OutcomeOK      = "ok"
	OutcomeFailed  = "failed"
	OutcomeRefused = "refused"
	OutcomeDenied  = "denied"
	OutcomeSkipped = "skipped"
)

// AuditEntry is one append-only record of an externally visible act or a
// refusal. Entries are hash-chained: Hash covers every field and PrevHash.
type AuditEntry struct {
	ID          string    `json:"id"`
	Seq         int64     `json:"seq"`
	Time        time.Time `json:"time"`
	Environment string    `json:"environment,omitempty"`
	Service     string    `json:"service,omitempty"`
	Incident    string    `json:"incident,omitempty"`
	Actor       string    `json:"actor"`
	Action      string    `json:"action"`
	Outcome     string    `json:"outcome"`
	Detail      string    `json:"detail,omitempty"`
	// PagerDutyRef is the PagerDuty note or log entry id of the act.
	PagerDutyRef string `json:"pagerduty_ref,omitempty"`
	PrevHash     string `json:"prev_hash"`
	Hash         string `json:"hash"`
}

// ComputeHash returns the hex SHA-256 of the entry's fields and PrevHash.
// Fields are length-prefixed so that no two entries share an encoding.
func (e AuditEntry) ComputeHash() string {
	h := sha256.New()
	for _, f := range []string{
		e.ID, strconv.FormatInt(e.Seq, 10), e.Time.UTC().Format(time.RFC3339Nano),
		e.Environment, e.Service, e.Incident, e.Actor, e.Action, e.Outcome,
		e.Detail, e.PagerDutyRef, e.PrevHash,
	} {
		var n [8]byte
		binary.BigEndian.PutUint64(n[:], uint64(len(f)))
		h.Write(n[:])
		h.Write([]byte(f))
	}
	return hex.EncodeToString(h.Sum(nil))
}

// Seal sets Seq, PrevHash and Hash for appending after prev (nil for the first entry).
func (e AuditEntry) Seal(prev *AuditEntry) AuditEntry {
	e.Seq, e.PrevHash = 1, ""
	if prev != nil {
		e.Seq, e.PrevHash = prev.Seq+1, prev.Hash
	}
	e.Time = e.Time.UTC()
	e.Hash = e.ComputeHash()
	return e
}

// VerifyChain checks that entries (in Seq order, starting at the first
// entry) form an unbroken chain. It returns the index and a description of
// the first problem, or -1 and "".
func VerifyChain(entries []AuditEntry, prevHash string, prevSeq int64) (int, string) {
	for i, e := range entries {
		switch {
		case e.Seq != prevSeq+1:
			return i, "entry " + e.ID + " has seq " + strconv.FormatInt(e.Seq, 10) +
				", expected " + strconv.FormatInt(prevSeq+1, 10) + " (an entry is missing)"
		case e.PrevHash != prevHash:
			return i, "entry " + e.ID + " does not follow the previous entry's hash (an entry was removed or altered)"
		case e.ComputeHash() != e.Hash:
			return i, "entry " + e.ID + " was altered: its hash does not match its content"
		}
		prevHash, prevSeq = e.Hash, e.Seq
	}
	return -1, ""
}

// Crockford's base32, as used by ULIDs.
const ulidAlphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

// NewID returns prefix + "-" + a ULID for time t: sortable by time, unique.
func NewID(prefix string, t time.Time) string {
	var b [16]byte
	ms := uint64(t.UnixMilli())
	b[0], b[1], b[2], b[3], b[4], b[5] = byte(ms>>40), byte(ms>>32), byte(ms>>24), byte(ms>>16), byte(ms>>8), byte(ms)
	if _, err := rand.Read(b[6:]); err != nil {
		panic("crypto/rand failed: " + err.Error())
	}
	var sb strings.Builder
	sb.WriteString(prefix)
	sb.WriteByte('-')
	// 128 bits as 26 base32 characters, most significant first.
	hi := binary.BigEndian.Uint64(b[:8])
	lo := binary.BigEndian.Uint64(b[8:])
	for i := 25; i >= 0; i-- {
		shift := uint(i * 5)
		var v uint64
		switch {
		case shift >= 64:
			v = hi >> (shift - 64)
		case shift > 59:
			v = lo>>shift | hi<<(64-shift)
		default:
			v = lo >> shift
		}
		sb.WriteByte(ulidAlphabet[v&31])
	}
	return sb.String()
}

// NewAuditID returns a fresh audit entry id, "nova-" + ULID.
func NewAuditID(t time.Time) string { return NewID("nova", t) }
