package bolt

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/novasre/nova"
	"github.com/novasre/nova/store"
	"github.com/novasre/nova/store/storetest"
)

func openTemp(t testing.TB, opts Options) *Store {
	t.Helper()
	s, err := Open(filepath.Join(t.TempDir(), "nova.db"), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func TestConformance(t *testing.T) {
	storetest.Run(t, storetest.Harness{
		New: func(t *testing.T) store.Store {
			return openTemp(t, Options{SweepInterval: 50 * time.Millisecond, NoSync: true})
		},
		Reopen: func(t *testing.T, s store.Store) store.Store {
			path := s.(*Store).path
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			s2, err := Open(path, Options{})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = s2.Close() })
			return s2
		},
		TamperAudit: func(t *testing.T, s store.Store, seq int64, mutate func(*nova.AuditEntry)) {
			rewriteAudit(t, s.(*Store), seq, func(b *bbolt.Bucket, k, v []byte) error {
				var e nova.AuditEntry
				if err := decode(v, &e); err != nil {
					return err
				}
				mutate(&e)
				body, err := encode(e)
				if err != nil {
					return err
				}
				return b.Put(k, body)
			})
		},
		DeleteAudit: func(t *testing.T, s store.Store, seq int64) {
			rewriteAudit(t, s.(*Store), seq, func(b *bbolt.Bucket, k, _ []byte) error { return b.Delete(k) })
		},
	})
}

// rewriteAudit edits the raw audit bucket, as someone with the file would.
func rewriteAudit(t *testing.T, s *Store, seq int64, edit func(b *bbolt.Bucket, k, v []byte) error) {
	t.Helper()
	err := s.db.Update(func(tx *bbolt.Tx) error {
		b := tx.Bucket(bucketAudit)
		v := b.Get(u64(seq))
		if v == nil {
			t.Fatalf("no audit entry %d", seq)
		}
		return edit(b, u64(seq), append([]byte(nil), v...))
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestOpenLockedFileFailsFast(t *testing.T) {
	path := filepath.Join(t.TempDir(), "nova.db")
	first, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer first.Close()
	start := time.Now()
	_, err = Open(path, Options{LockTimeout: 100 * time.Millisecond})
	if !nova.IsCode(err, nova.EUNAVAILABLE) || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "locked") {
		t.Fatalf("second Open = %v; want EUNAVAILABLE naming the locked file", err)
	}
	if waited := time.Since(start); waited > 5*time.Second {
		t.Fatalf("second Open took %v, want it to give up quickly", waited)
	}
}

func TestClosedStoreIsUnavailable(t *testing.T) {
	s, err := Open(filepath.Join(t.TempDir(), "nova.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := s.Ping(ctx); !nova.IsCode(err, nova.EUNAVAILABLE) {
		t.Fatalf("Ping after Close = %v, want EUNAVAILABLE", err)
	}
	_, err = s.Enqueue(ctx, store.Delivery{Key: "k"}, time.Minute)
	if !nova.IsCode(err, nova.EUNAVAILABLE) {
		t.Fatalf("Enqueue after Close = %v, want EUNAVAILABLE", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close = %v", err)
	}
}

func TestSweepDeletesExpired(t *testing.T) {
	s := openTemp(t, Options{SweepInterval: time.Hour})
	ctx := context.Background()
	if _, err := s.Enqueue(ctx, store.Delivery{WebhookID: "w", Key: "k"}, time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Put(ctx, store.KindOnce, "x", []byte("v"), 0, time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Put(ctx, store.KindOnce, "kept", []byte("v"), 0, 0); err != nil {
		t.Fatal(err)
	}
	s.sweep(time.Now().Add(time.Second).UnixNano())
	counts := map[string]int{}
	err := s.db.View(func(tx *bbolt.Tx) error {
		for _, name := range [][]byte{bucketDedup, bucketDedupExp, bucketRecExp} {
			counts[string(name)] = tx.Bucket(name).Stats().KeyN
		}
		counts["once"] = tx.Bucket(bucketRecords).Bucket([]byte(store.KindOnce)).Stats().KeyN
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int{"inbox.dedup": 0, "inbox.dedupexp": 0, "records.exp": 0, "once": 1}
	for k, n := range want {
		if counts[k] != n {
			t.Fatalf("after sweep %s holds %d keys, want %d (all: %v)", k, counts[k], n, counts)
		}
	}
}
