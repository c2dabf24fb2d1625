// Package redis is Nova's replicated store on Redis: a standalone server,
// Sentinel or Cluster through go-redis's UniversalClient. Every operation
// that must be atomic is one Lua script on keys that share a hash tag, so
// scripts stay within one Cluster slot.
package redis

import (
	"context"
	"errors"
	"net/url"
	"runtime"
	"strings"
	"sync"

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
