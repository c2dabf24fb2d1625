package bolt

import (
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"strconv"

	"github.com/novasre/nova"
)

// u64 encodes n big-endian so that byte order is numeric order.
func u64(n int64) []byte {
	b := make([]byte, 8)
	binary.BigEndian.PutUint64(b, uint64(n))
	return b
}

// i64 decodes what u64 encoded.
func i64(b []byte) int64 { return int64(binary.BigEndian.Uint64(b)) }

// join concatenates index key parts.
func join(parts ...[]byte) []byte {
	n := 0
	for _, p := range parts {
		n += len(p)
	}
	out := make([]byte, 0, n)
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

// lenPrefix makes a variable-length string safe to use as a key prefix:
// without the length, key "a" would be a prefix of key "ab".
func lenPrefix(s string) []byte {
	b := binary.AppendUvarint(nil, uint64(len(s)))
	return append(b, s...)
}

// uvarint decodes a lenPrefix length; width <= 0 means malformed.
func uvarint(b []byte) (n, width int) {
	v, w := binary.Uvarint(b)
	if w <= 0 || v > uint64(len(b)) {
		return 0, 0
	}
	return int(v), w
}

// maxPriority bounds the priorities the inbox orders by, so that both
// backends order identically (the Redis backend packs priority and seq
// into one float score).
const maxPriority = 1000

// clampPriority limits p to [-maxPriority, maxPriority].
func clampPriority(p int) int {
	return min(max(p, -maxPriority), maxPriority)
}

// priorityKey orders ready keys by priority then head seq. Flipping the
// sign bit makes negative priorities sort first in byte order.
func priorityKey(priority int, seq int64) []byte {
	b := make([]byte, 16)
	binary.BigEndian.PutUint64(b, uint64(int64(clampPriority(priority)))^(1<<63))
	binary.BigEndian.PutUint64(b[8:], uint64(seq))
	return b
}

// inboxKey is the internal ordering key of a delivery. An empty Key means
// "no ordering constraint", so such an item gets a key of its own.
func inboxKey(key string, seq int64) string {
	if key == "" {
		return "u" + strconv.FormatInt(seq, 10)
	}
	return "k" + key
}

// newToken returns a random lease token.
func newToken() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails on supported platforms
	return hex.EncodeToString(b[:])
}

// encode marshals v, reporting a failure as a bug.
func encode(v any) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, nova.WrapError(nova.EINTERNAL, err, "encode %T", v)
	}
	return b, nil
}

// decode unmarshals b into v, reporting a failure as corrupt data.
func decode(b []byte, v any) error {
	if err := json.Unmarshal(b, v); err != nil {
		return nova.WrapError(nova.EINTERNAL, err, "decode stored %T", v)
	}
	return nil
}
