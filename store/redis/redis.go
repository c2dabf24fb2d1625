// Package redis is Nova's replicated store on Redis: a standalone server,
// Sentinel or Cluster through go-redis's UniversalClient. Every operation
// that must be atomic is one Lua script on keys that share a hash tag, so
// scripts stay within one Cluster slot.
package redis

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/novasre/nova"
	"github.com/novasre/nova/store"
)

// Options say how to reach Redis. Give URL, Addrs, or an injected Client.
type Options struct {
	// URL is redis://[user:password@]host:port/db (rediss:// for TLS). It
	// also supplies credentials, database and TLS when Addrs is set.
	URL string
	// Addrs lists Cluster nodes or Sentinels (with MasterName); it
	// overrides the URL's host.
	Addrs []string
	// MasterName selects Sentinel mode: the name of the monitored master.
	MasterName string
	// Prefix starts every key (default "nova"), so that several
	// installations or tests can share one Redis.
	Prefix string
	// Client is used instead of building one; Close leaves it open, since
	// its owner may still use it.
	Client redis.UniversalClient
}

// Store is the Redis-backed store.Store.
type Store struct {
	client redis.UniversalClient
	owned  bool
	prefix string
	inbox  string // hash tag base of every inbox key
	audit  string // hash tag base of the audit log

	auditMu   sync.Mutex
	auditTail auditTail
	// auditKey keys the audit chain; nil for the plain chain.
	auditKey atomic.Pointer[nova.AuditKey]

	closeOnce sync.Once
	closeErr  error
}

var _ store.Store = (*Store)(nil)

// Open connects to Redis and checks that it answers: a Nova that cannot
// reach its store at start should say so at once (EUNAVAILABLE). Later
// outages surface as EUNAVAILABLE from each call, and go-redis reconnects
// by itself when Redis is back.
func Open(ctx context.Context, opts Options) (*Store, error) {
	prefix := opts.Prefix
	if prefix == "" {
		prefix = "nova"
	}
	if strings.ContainsAny(prefix, "{}") {
		return nil, nova.Errorf(nova.EINVALID, "redis store: prefix %q must not contain braces (they mark hash tags)", prefix)
	}
	client, owned := opts.Client, false
	if client == nil {
		uo, err := universalOptions(opts)
		if err != nil {
			return nil, err
		}
		client, owned = redis.NewUniversalClient(uo), true
		client.AddHook(deadlineHook{})
	}
	s := &Store{client: client, owned: owned, prefix: prefix,
		inbox: "{" + prefix + ":inbox}", audit: "{" + prefix + ":audit}"}
	if err := client.Ping(ctx).Err(); err != nil {
		_ = s.Close()
		return nil, translate("connect", err)
	}
	return s, nil
}

// universalOptions builds client options from the URL and addresses. Its
// errors never quote the URL, which may hold a password.
func universalOptions(opts Options) (*redis.UniversalOptions, error) {
	uo := &redis.UniversalOptions{Addrs: opts.Addrs, MasterName: opts.MasterName}
	if opts.URL != "" {
		o, err := redis.ParseURL(opts.URL)
		if err != nil {
			return nil, urlError(err)
		}
		if len(uo.Addrs) == 0 {
			uo.Addrs = []string{o.Addr}
		}
		uo.Username, uo.Password, uo.DB, uo.TLSConfig = o.Username, o.Password, o.DB, o.TLSConfig
		uo.ClientName, uo.Protocol = o.ClientName, o.Protocol
		uo.DialTimeout, uo.ReadTimeout, uo.WriteTimeout = o.DialTimeout, o.ReadTimeout, o.WriteTimeout
		uo.PoolSize, uo.MinIdleConns, uo.MaxRetries = o.PoolSize, o.MinIdleConns, o.MaxRetries
	}
	if len(uo.Addrs) == 0 {
		return nil, nova.Errorf(nova.EINVALID, "redis store: no URL or addresses given")
	}
	// Every call carries its caller's deadline (a Slack ack, a readiness
	// probe, a worker's lease): without this go-redis waits out its own
	// read timeout on a stalled server, whatever the caller can afford.
	uo.ContextTimeoutEnabled = true
	// go-redis would resend a command whose reply was lost; our scripts are
	// not idempotent (a resent Claim strands a lease), so failures go back
	// to the caller, who retries at a level that knows what it did.
	if uo.MaxRetries == 0 {
		uo.MaxRetries = -1
	}
	// go-redis sizes its pool at 10 connections per CPU; on a small machine
	// that is fewer than the concurrent webhook deliveries plus workers, and
	// requests would queue for a connection. A pool_size in the URL wins.
	if uo.PoolSize == 0 {
		uo.PoolSize = max(defaultPoolSize, 10*runtime.GOMAXPROCS(0))
	}
	return uo, nil
}

// deadlineHook makes a command that failed because its caller's context
// ended say so: with context timeouts enabled go-redis reports a read past
// the deadline as a network timeout, and callers check for the context's
// error with errors.Is. A missing key (redis.Nil) is not a failure and is
// left alone.
type deadlineHook struct{}

func (deadlineHook) DialHook(next redis.DialHook) redis.DialHook { return next }

func (deadlineHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		err := next(ctx, cmd)
		if w := withContextError(ctx, err); w != err {
			cmd.SetErr(w)
			return w
		}
		return err
	}
}

func (deadlineHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		err := next(ctx, cmds)
		for _, cmd := range cmds {
			if w := withContextError(ctx, cmd.Err()); w != cmd.Err() {
				cmd.SetErr(w)
			}
		}
		return withContextError(ctx, err)
	}
}

// withContextError returns err wrapping ctx's error too when ctx has ended.
// A read cut off by the deadline can return a moment before the context's
// own timer fires, so a timeout at or past the deadline counts as well.
func withContextError(ctx context.Context, err error) error {
	if err == nil || errors.Is(err, redis.Nil) {
		return err
	}
	cerr := ctx.Err()
	if cerr == nil {
		var ne net.Error
		if d, ok := ctx.Deadline(); ok && !time.Now().Before(d) && errors.As(err, &ne) && ne.Timeout() {
			cerr = context.DeadlineExceeded
		}
	}
	if cerr == nil || errors.Is(err, cerr) {
		return err
	}
	return fmt.Errorf("%w (%w)", cerr, err)
}

// defaultPoolSize is the smallest connection pool Nova uses.
const defaultPoolSize = 64

// urlError describes a bad URL without quoting it.
func urlError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	msg := err.Error()
	if strings.Contains(msg, "@") {
		msg = "malformed URL"
	}
	return nova.Errorf(nova.EINVALID,
		"redis URL is invalid (%s); expected redis://[user:password@]host:port/db", strings.TrimPrefix(msg, "redis: "))
}

// Close closes the client if Open built it.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		if s.owned {
			s.closeErr = s.client.Close()
		}
	})
	return s.closeErr
}

// Ping reports whether Redis answers.
func (s *Store) Ping(ctx context.Context) error {
	return translate("ping", s.client.Ping(ctx).Err())
}

// translate maps go-redis failures to nova codes: anything about reaching
// Redis, or Redis being in no state to serve (loading, failing over), is
// EUNAVAILABLE; an error reply from a script is a bug (EINTERNAL).
func translate(op string, err error) error {
	var ne *nova.Error
	var re redis.Error
	switch {
	case err == nil:
		return nil
	case errors.As(err, &ne):
		return err
	case errors.Is(err, redis.Nil):
		return nova.WrapError(nova.EINTERNAL, err, "%s: unexpected empty reply", op)
	case errors.As(err, &re) && !unavailableReply(re.Error()):
		return nova.WrapError(nova.EINTERNAL, err, "%s: redis refused the command", op)
	}
	return store.ErrUnavailable(op, err)
}

// unavailableReply reports Redis error replies that mean "not now" or
// "Nova cannot use this Redis" (bad credentials) rather than a bug.
func unavailableReply(msg string) bool {
	for _, p := range []string{"LOADING", "READONLY", "MASTERDOWN", "CLUSTERDOWN", "TRYAGAIN",
		"NOREPLICAS", "BUSY", "MOVED", "ASK", "OOM", "NOAUTH", "WRONGPASS", "ERR max number of clients"} {
		if strings.HasPrefix(msg, p) {
			return true
		}
	}
	return false
}
