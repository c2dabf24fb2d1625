// Package bolt is Nova's embedded store: one bbolt file used by one process.
// It is the default for `make run` and single-node installs; deployments
// with several replicas use store/redis instead.
package bolt

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	bbolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"

	"github.com/novasre/nova"
	"github.com/novasre/nova/store"
)

// Options tune Open; the zero value is right for production.
type Options struct {
	// LockTimeout is how long Open waits for another process to release
	// the file (default 1s). Nova must not hang at start-up behind a
	// second instance; it should say what is wrong.
	LockTimeout time.Duration
	// SweepInterval is how often expired records and deduplication keys
	// are deleted (default 1m). Reads ignore expired data regardless.
	SweepInterval time.Duration
	// NoSync skips fsync on commit. Only for tests and benchmarks: a
	// machine crash could lose a webhook that was already answered 2xx.
	NoSync bool
}

// Store is the bbolt-backed store.Store.
type Store struct {
	db      *bbolt.DB
	path    string
	limiter limiter
	// auditKey keys the audit chain; nil for the plain chain.
	auditKey atomic.Pointer[nova.AuditKey]

	stop      chan struct{}
	sweepDone chan struct{}
	closeOnce sync.Once
}

var _ store.Store = (*Store)(nil)

// Bucket names. Everything lives in top-level buckets created at Open.
var (
	bucketItems    = []byte("inbox.items")    // seq -> JSON delivery
	bucketQueue    = []byte("inbox.queue")    // key prefix + seq -> priority (per-key FIFO)
	bucketKeys     = []byte("inbox.keys")     // key -> JSON keyState
	bucketReady    = []byte("inbox.ready")    // priority + head seq -> key
	bucketLeased   = []byte("inbox.leased")   // deadline + head seq -> key
	bucketDelayed  = []byte("inbox.delayed")  // due time + head seq -> key
	bucketDedup    = []byte("inbox.dedup")    // "w"/"e" + id -> expiry
	bucketDedupExp = []byte("inbox.dedupexp") // expiry + dedup key -> nil
	bucketRecords  = []byte("records")        // one nested bucket per kind
	bucketRecExp   = []byte("records.exp")    // expiry + kind + id -> nil
	bucketAudit    = []byte("audit")          // seq -> JSON audit entry
	bucketAuditIDs = []byte("audit.ids")      // entry id -> seq (appends are idempotent by id)
	bucketMeta     = []byte("meta")           // counters
)

var allBuckets = [][]byte{bucketItems, bucketQueue, bucketKeys, bucketReady, bucketLeased, bucketDelayed,
	bucketDedup, bucketDedupExp, bucketRecords, bucketRecExp, bucketAudit, bucketAuditIDs, bucketMeta}

// Open opens (creating if needed) the store at path.
func Open(path string, opts Options) (*Store, error) {
	if path == "" {
		return nil, nova.Errorf(nova.EINVALID, "bolt store: no file path given")
	}
	if opts.LockTimeout <= 0 {
		opts.LockTimeout = time.Second
	}
	if opts.SweepInterval <= 0 {
		opts.SweepInterval = time.Minute
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return nil, nova.WrapError(nova.EUNAVAILABLE, err, "create the directory of store file %s", path)
	}
	// The inbox frees pages on every Ack; writing the freelist on each
	// commit made Claim+Ack several times slower than rebuilding it once
	// at Open, which is what NoFreelistSync does.
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{Timeout: opts.LockTimeout, NoSync: opts.NoSync,
		NoFreelistSync: true, FreelistType: bbolt.FreelistMapType})
	if errors.Is(err, berrors.ErrTimeout) {
		return nil, nova.WrapError(nova.EUNAVAILABLE, err,
			"store file %s is locked by another process (is another Nova running with the same file?)", path)
	}
	if err != nil {
		return nil, nova.WrapError(nova.EUNAVAILABLE, err, "open store file %s", path)
	}
	// Concurrent enqueues share a commit; a lone one waits at most this
	// long for company (bbolt's default of 10 ms taxes quiet periods).
	db.MaxBatchDelay = 2 * time.Millisecond
	err = db.Update(func(tx *bbolt.Tx) error {
		for _, name := range allBuckets {
			if _, err := tx.CreateBucketIfNotExists(name); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		_ = db.Close()
		return nil, nova.WrapError(nova.EUNAVAILABLE, err, "prepare store file %s", path)
	}
	s := &Store{db: db, path: path, limiter: limiter{tat: map[string]int64{}},
		stop: make(chan struct{}), sweepDone: make(chan struct{})}
	go s.sweepLoop(opts.SweepInterval)
	return s, nil
}

// Close stops the sweeper and closes the file. It is safe to call twice.
func (s *Store) Close() error {
	var err error
	s.closeOnce.Do(func() {
		close(s.stop)
		<-s.sweepDone
		err = s.db.Close()
	})
	return err
}

// Ping reports whether the file is open.
func (s *Store) Ping(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return store.ErrUnavailable("ping", err)
	}
	return s.view("ping", func(*bbolt.Tx) error { return nil })
}

// update runs fn in a write transaction and translates its failure.
func (s *Store) update(op string, fn func(*bbolt.Tx) error) error {
	return translate(op, s.db.Update(fn))
}

// batch runs fn in a write transaction that concurrent callers may share,
// so that one disk sync commits many of them (webhook ingress under load).
// bbolt may run fn more than once, so fn must set its results afresh.
func (s *Store) batch(op string, fn func(*bbolt.Tx) error) error {
	return translate(op, s.db.Batch(fn))
}

// view runs fn in a read transaction and translates its failure.
func (s *Store) view(op string, fn func(*bbolt.Tx) error) error {
	return translate(op, s.db.View(fn))
}

// translate maps bbolt failures to nova codes. Errors the store raised
// itself already carry a code and pass through.
func translate(op string, err error) error {
	var ne *nova.Error
	switch {
	case err == nil:
		return nil
	case errors.As(err, &ne):
		return err
	case errors.Is(err, berrors.ErrKeyTooLarge), errors.Is(err, berrors.ErrValueTooLarge):
		return nova.WrapError(nova.ETOOLARGE, err, "%s: key or value too large for the store", op)
	case errors.Is(err, berrors.ErrKeyRequired), errors.Is(err, berrors.ErrBucketNameRequired):
		return nova.WrapError(nova.EINVALID, err, "%s: empty key", op)
	}
	// Everything else is the file going away, the disk failing or filling
	// up: callers should retry later (and ingress answers 503).
	return store.ErrUnavailable(op, err)
}

// checkCtx refuses work for a caller that has already given up; bbolt
// itself takes no context.
func checkCtx(ctx context.Context, op string) error {
	if err := ctx.Err(); err != nil {
		return store.ErrUnavailable(op, err)
	}
	return nil
}
