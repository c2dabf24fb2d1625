package store

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/novasre/nova"
)

// ErrUnchanged is what an Update function returns when it has nothing to
// write: Update then stores nothing and returns ErrUnchanged with the value
// the function saw, for the caller to test with errors.Is. It carries no
// error code, so nothing takes it for a conflict worth retrying.
var ErrUnchanged = errors.New("store: unchanged")

// maxUpdateAttempts bounds the compare-and-set loop of Update.
const maxUpdateAttempts = 32

// Load reads and decodes the record kind/id into a T.
func Load[T any](ctx context.Context, r Records, kind, id string) (T, int64, error) {
	var v T
	it, err := r.Get(ctx, kind, id)
	if err != nil {
		return v, 0, err
	}
	if err := json.Unmarshal(it.Value, &v); err != nil {
		return v, 0, nova.WrapError(nova.EINTERNAL, err, "decode %s %s", kind, id)
	}
	return v, it.Version, nil
}

// Save encodes v and stores it if the record's version is still version.
func Save[T any](ctx context.Context, r Records, kind, id string, v T, version int64) (int64, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return 0, nova.WrapError(nova.EINTERNAL, err, "encode %s %s", kind, id)
	}
	return r.Put(ctx, kind, id, b, version, 0)
}

// Update reads kind/id (the zero T with exists=false when missing), lets fn
// change it, and writes it back with compare-and-set, retrying when another
// writer got there first. fn may run several times and must not have side
// effects; returning an error aborts the update. The stored value is returned.
func Update[T any](ctx context.Context, r Records, kind, id string, fn func(v *T, exists bool) error) (T, error) {
	return UpdateTTL(ctx, r, kind, id, 0, fn)
}

// UpdateTTL is Update for records that expire ttl after their last write.
func UpdateTTL[T any](ctx context.Context, r Records, kind, id string, ttl time.Duration, fn func(v *T, exists bool) error) (T, error) {
	return UpdateExpiring(ctx, r, kind, id, func(v *T, exists bool) (time.Duration, error) { return ttl, fn(v, exists) })
}

// UpdateExpiring is Update for records whose expiry depends on what fn made
// of them (a finished approval request is kept 30 days, an open one for
// good). It is the one compare-and-set loop every update goes through.
func UpdateExpiring[T any](ctx context.Context, r Records, kind, id string, fn func(v *T, exists bool) (time.Duration, error)) (T, error) {
	for attempt := 0; attempt < maxUpdateAttempts; attempt++ {
		v, version, err := Load[T](ctx, r, kind, id)
		exists := err == nil
		if err != nil && !nova.IsCode(err, nova.ENOTFOUND) {
			return v, err
		}
		ttl, err := fn(&v, exists)
		if err != nil {
			return v, err
		}
		b, err := jsonMarshal(v)
		if err != nil {
			return v, err
		}
		if _, err := r.Put(ctx, kind, id, b, version, ttl); err != nil {
			if nova.IsCode(err, nova.ECONFLICT) {
				if err := ctx.Err(); err != nil {
					return v, err
				}
				continue
			}
			return v, err
		}
		return v, nil
	}
	var zero T
	return zero, nova.Errorf(nova.ECONFLICT, "update %s %s: too much contention", kind, id)
}

// ErrNotFound returns the ENOTFOUND error backends use for a missing record.
func ErrNotFound(kind, id string) error {
	return nova.Errorf(nova.ENOTFOUND, "%s %s not found", kind, id)
}

// ErrConflict returns the ECONFLICT error backends use for a lost compare-and-set.
func ErrConflict(kind, id string) error {
	return nova.Errorf(nova.ECONFLICT, "%s %s was changed by someone else", kind, id)
}

// ErrUnavailable wraps a backend failure as EUNAVAILABLE without exposing
// connection strings (callers pass errors that hold none).
func ErrUnavailable(op string, err error) error {
	return nova.WrapError(nova.EUNAVAILABLE, err, "store unavailable (%s)", op)
}

func jsonMarshal(v any) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, nova.WrapError(nova.EINTERNAL, err, "encode record")
	}
	return b, nil
}
