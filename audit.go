package nova

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"hash"
	"regexp"
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
)

// AuditEntry is one append-only record of an externally visible act or a
// refusal. Entries are chained: Hash covers every field and PrevHash. On
// the plain chain Hash is a SHA-256 anyone can recompute; on the keyed
// chain it is an HMAC-SHA256 under the audit key named by KeyID, which is
// kept outside the store, so whoever can write to the store still cannot
// forge an entry that verifies.
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
	// KeyID names the audit key Hash was computed with; empty on the plain
	// chain.
	KeyID    string `json:"key_id,omitempty"`
	PrevHash string `json:"prev_hash"`
	Hash     string `json:"hash"`
}

// writeFields writes the entry's fields and PrevHash to h, each length-
// prefixed so that no two entries share an encoding. The keyed chain adds
// KeyID, so an entry cannot be moved from one key to another.
func (e AuditEntry) writeFields(h hash.Hash, keyed bool) {
	fields := []string{
		e.ID, strconv.FormatInt(e.Seq, 10), e.Time.UTC().Format(time.RFC3339Nano),
		e.Environment, e.Service, e.Incident, e.Actor, e.Action, e.Outcome,
		e.Detail, e.PagerDutyRef, e.PrevHash,
	}
	if keyed {
		fields = append(fields, e.KeyID)
	}
	for _, f := range fields {
		var n [8]byte
		binary.BigEndian.PutUint64(n[:], uint64(len(f)))
		h.Write(n[:])
		h.Write([]byte(f))
	}
}

// ComputeHash returns the hex SHA-256 of the entry's fields and PrevHash:
// the plain chain's hash.
func (e AuditEntry) ComputeHash() string {
	h := sha256.New()
	e.writeFields(h, false)
	return hex.EncodeToString(h.Sum(nil))
}

// ComputeMAC returns the hex HMAC-SHA256 under key of the entry's fields,
// PrevHash and KeyID: the keyed chain's hash.
func (e AuditEntry) ComputeMAC(key *AuditKey) string {
	h := hmac.New(sha256.New, key.secret)
	e.writeFields(h, true)
	return hex.EncodeToString(h.Sum(nil))
}

// Seal sets Seq, PrevHash and Hash for appending after prev (nil for the
// first entry) on the plain chain.
func (e AuditEntry) Seal(prev *AuditEntry) AuditEntry { return e.SealWith(prev, nil) }

// SealWith is Seal with an audit key: Hash becomes the HMAC under key and
// KeyID names it. A nil key seals on the plain chain.
func (e AuditEntry) SealWith(prev *AuditEntry, key *AuditKey) AuditEntry {
	e.Seq, e.PrevHash = 1, ""
	if prev != nil {
		e.Seq, e.PrevHash = prev.Seq+1, prev.Hash
	}
	e.Time = e.Time.UTC()
	if key == nil {
		e.KeyID = ""
		e.Hash = e.ComputeHash()
		return e
	}
	e.KeyID = key.id
	e.Hash = e.ComputeMAC(key)
	return e
}

// MinAuditKeyLen is the shortest audit key accepted, in bytes.
const MinAuditKeyLen = 32

// AuditKey is a secret that keys the audit chain. Its value never leaves
// the process: entries record only its id.
type AuditKey struct {
	id     string
	secret []byte
}

// NewAuditKey returns a key with the given id (see AuditKeyID for a
// default) and secret, which must be at least MinAuditKeyLen bytes.
func NewAuditKey(id string, secret []byte) (*AuditKey, error) {
	if id == "" || len(id) > 64 || strings.ContainsAny(id, " \t\r\n") {
		return nil, Errorf(EINVALID, "audit key id %q must be 1 to 64 characters without spaces", id)
	}
	if len(secret) < MinAuditKeyLen {
		return nil, Errorf(EINVALID, "audit key %s is %d bytes; it must be at least %d (e.g. `openssl rand -hex 32`)", id, len(secret), MinAuditKeyLen)
	}
	return &AuditKey{id: id, secret: append([]byte(nil), secret...)}, nil
}

// ID returns the key's id, as recorded in the entries it seals.
func (k *AuditKey) ID() string { return k.id }

// String names the key without its value.
func (k *AuditKey) String() string { return "audit key " + k.id }

// AuditKeyID derives a key id from the secret: "k" and 8 hex digits of a
// domain-separated SHA-256, so that a rotated key gets a new id without
// configuration and the id says nothing usable about the key.
func AuditKeyID(secret []byte) string {
	h := sha256.New()
	h.Write([]byte("nova audit key id\x00"))
	h.Write(secret)
	return "k" + hex.EncodeToString(h.Sum(nil))[:8]
}

// AnchorHashLen is how many hex digits of an entry's hash an anchor
// carries: 64 bits, beyond any search for a colliding rewrite.
const AnchorHashLen = 16

// AuditHead is the last entry of the audit log: its sequence number, hash
// and key id. A zero Seq means an empty log.
type AuditHead struct {
	Seq   int64
	Hash  string
	KeyID string
}

// Head returns the head the log has once e is its last entry.
func (e AuditEntry) Head() AuditHead { return AuditHead{Seq: e.Seq, Hash: e.Hash, KeyID: e.KeyID} }

// Anchor renders the head as SEQ:HASH with a short hash, the form Nova
// writes into PagerDuty notes and `nova audit verify --anchor` accepts; ""
// for an empty log.
func (h AuditHead) Anchor() string {
	if h.Seq <= 0 || len(h.Hash) < AnchorHashLen {
		return ""
	}
	return strconv.FormatInt(h.Seq, 10) + ":" + h.Hash[:AnchorHashLen]
}

// AuditAnchor is a chain head witnessed outside Nova (in a PagerDuty note,
// or noted by an auditor): the log must still hold an entry with this Seq
// whose hash starts with Hash.
type AuditAnchor struct {
	Seq  int64
	Hash string
	// Source says where the anchor was found, for messages.
	Source string
}

var anchorPattern = regexp.MustCompile(`^([1-9][0-9]{0,17}):([0-9a-f]{12,64})$`)

// ParseAuditAnchor parses SEQ:HASH (at least 12 hex digits of the hash).
func ParseAuditAnchor(s, source string) (AuditAnchor, error) {
	m := anchorPattern.FindStringSubmatch(strings.ToLower(strings.TrimSpace(s)))
	if m == nil {
		return AuditAnchor{}, Errorf(EINVALID, "anchor %q is not SEQ:HASH (a sequence number and at least 12 hex digits of the entry's hash)", truncateRunes(s, 80))
	}
	seq, err := strconv.ParseInt(m[1], 10, 64)
	if err != nil {
		return AuditAnchor{}, Errorf(EINVALID, "anchor %q: sequence number out of range", truncateRunes(s, 80))
	}
	return AuditAnchor{Seq: seq, Hash: m[2], Source: source}, nil
}

func (a AuditAnchor) String() string {
	s := strconv.FormatInt(a.Seq, 10) + ":" + a.Hash
	if a.Source != "" {
		s += " (" + a.Source + ")"
	}
	return s
}

func gone(n int64) string {
	if n == 1 {
		return "at least 1 entry is gone"
	}
	return "at least " + strconv.FormatInt(n, 10) + " entries are gone"
}

func truncateRunes(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n]) + "…"
	}
	return s
}

// VerifyChain checks that entries (in Seq order, following prevSeq and
// prevHash) form an unbroken chain, without keys: keyed entries fail. It
// returns the index and a description of the first problem, or -1 and "".
func VerifyChain(entries []AuditEntry, prevHash string, prevSeq int64) (int, string) {
	v := ChainVerifier{prevHash: prevHash, prevSeq: prevSeq}
	return v.Add(entries)
}

// ChainVerifier checks an audit log page by page, in Seq order from the
// first entry: sequence and links, each entry's hash (the HMAC under its
// key on the keyed chain), that no plain entry follows a keyed one, and
// that the log still reaches every anchor witnessed outside Nova.
type ChainVerifier struct {
	keys     map[string]*AuditKey
	anchors  []AuditAnchor
	prevHash string
	prevSeq  int64
	// Entries counts the entries checked; Unkeyed those on the plain chain,
	// and PerKey the keyed ones by key id.
	Entries int64
	Unkeyed int64
	PerKey  map[string]int64
	// FirstKeyed is the Seq of the first keyed entry (0: none).
	FirstKeyed int64
	// AnchorsChecked counts the anchors the log reached and matched.
	AnchorsChecked int
	head           AuditHead
	failed         bool
}

// NewChainVerifier returns a verifier with the keys entries may be keyed
// with (the current and previous audit keys) and the anchors to check.
func NewChainVerifier(keys []*AuditKey, anchors []AuditAnchor) *ChainVerifier {
	v := &ChainVerifier{keys: map[string]*AuditKey{}, PerKey: map[string]int64{}}
	for _, k := range keys {
		if k != nil {
			v.keys[k.id] = k
		}
	}
	v.anchors = append(v.anchors, anchors...)
	return v
}

// From starts the verifier after the entry with seq prevSeq and hash
// prevHash, to check a window of the log (the latest entries) instead of
// all of it; call it before Add.
func (v *ChainVerifier) From(prevSeq int64, prevHash string) {
	v.prevSeq, v.prevHash = prevSeq, prevHash
}

// Keyed reports whether the verifier holds any audit key.
func (v *ChainVerifier) Keyed() bool { return len(v.keys) > 0 }

// Head is the last entry checked.
func (v *ChainVerifier) Head() AuditHead { return v.head }

// Add checks the next entries. It returns the index in entries and a
// description of the first problem, or -1 and "". After a problem the
// verifier stays failed.
func (v *ChainVerifier) Add(entries []AuditEntry) (int, string) {
	if v.PerKey == nil {
		v.PerKey = map[string]int64{}
	}
	for i, e := range entries {
		if why := v.check(e); why != "" {
			v.failed = true
			return i, why
		}
		v.prevHash, v.prevSeq = e.Hash, e.Seq
		v.head = e.Head()
		v.Entries++
	}
	return -1, ""
}

func (v *ChainVerifier) check(e AuditEntry) string {
	name := "entry " + e.ID + " (seq " + strconv.FormatInt(e.Seq, 10) + ")"
	switch {
	case e.Seq != v.prevSeq+1:
		return "entry " + e.ID + " has seq " + strconv.FormatInt(e.Seq, 10) +
			", expected " + strconv.FormatInt(v.prevSeq+1, 10) + " (an entry is missing)"
	case e.PrevHash != v.prevHash:
		return name + " does not follow the previous entry's hash (an entry was removed or altered)"
	}
	if e.KeyID == "" {
		if v.FirstKeyed > 0 {
			return name + " is on the plain (unkeyed) chain after keyed entries since seq " +
				strconv.FormatInt(v.FirstKeyed, 10) + ": it was rewritten without the audit key"
		}
		if e.ComputeHash() != e.Hash {
			return name + " was altered: its hash does not match its content"
		}
		v.Unkeyed++
	} else {
		k, ok := v.keys[e.KeyID]
		switch {
		case !ok && len(v.keys) == 0:
			return name + " is keyed with audit key " + e.KeyID + ", but no audit key is configured: verify with audit.key (and audit.previous_keys) set"
		case !ok:
			return name + " is keyed with audit key " + e.KeyID + ", which is not configured: add it to audit.previous_keys"
		case !hmac.Equal([]byte(e.ComputeMAC(k)), []byte(e.Hash)):
			return name + " was altered: its keyed hash (HMAC-SHA256 under audit key " + e.KeyID + ") does not match its content"
		}
		if v.FirstKeyed == 0 {
			v.FirstKeyed = e.Seq
		}
		v.PerKey[e.KeyID]++
	}
	for _, a := range v.anchors {
		if a.Seq == e.Seq {
			if !strings.HasPrefix(e.Hash, a.Hash) {
				return name + " has hash " + e.Hash[:min(len(e.Hash), AnchorHashLen)] + "…, but anchor " + a.String() +
					" witnessed " + a.Hash + ": the log was rewritten since"
			}
			v.AnchorsChecked++
		}
	}
	return ""
}

// Finish checks what needs the whole log, once every entry was added: that
// the log reaches every anchor (else it was truncated), and that a log
// verified with keys holds keyed entries. It returns "" or the problem.
func (v *ChainVerifier) Finish() string {
	if v.failed {
		return "verification already failed"
	}
	var beyond *AuditAnchor
	for i, a := range v.anchors {
		if a.Seq > v.prevSeq && (beyond == nil || a.Seq > beyond.Seq) {
			beyond = &v.anchors[i]
		}
	}
	if beyond != nil {
		return "the log ends at seq " + strconv.FormatInt(v.prevSeq, 10) + ", but anchor " + beyond.String() +
			" witnessed seq " + strconv.FormatInt(beyond.Seq, 10) + ": the log was truncated (" + gone(beyond.Seq-v.prevSeq) + ")"
	}
	if len(v.keys) > 0 && v.Entries > 0 && v.FirstKeyed == 0 {
		return "none of the " + strconv.FormatInt(v.Entries, 10) + " entries is keyed, although an audit key is configured: " +
			"the log was rewritten without the key (or Nova has not run with this key yet)"
	}
	return ""
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
