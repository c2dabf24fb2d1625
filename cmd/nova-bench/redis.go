package main

import (
	"context"
	"fmt"
	"net/url"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/novasre/nova/internal/e2e"
	novaredis "github.com/novasre/nova/store/redis"
)

// redisSkipped is the figure of every Redis row when Redis is down.
const redisSkipped = "skipped: Redis unreachable"

// redisReachable checks once whether the bench's Redis answers. The bench
// is not run by CI, so an unreachable Redis skips the Redis rows instead of
// failing the run.
func (b *bench) redisReachable() error {
	b.redisOnce.Do(func() {
		ctx, cancel := context.WithTimeout(b.ctx, 3*time.Second)
		defer cancel()
		s, err := novaredis.Open(ctx, novaredis.Options{URL: b.opts.redisURL, Prefix: "bench-probe-" + e2e.RandHex(4)})
		if err != nil {
			b.redisErr = err
			return
		}
		_ = s.Close()
	})
	return b.redisErr
}

// backendFor returns the backend triage and storm use: -store, falling
// back to bolt (with a note) when Redis is asked for but unreachable.
func (b *bench) backendFor(benchmark string) string {
	if b.opts.backend == "redis" {
		if err := b.redisReachable(); err != nil {
			b.logf("%s: Redis unreachable (%v); running on bolt instead", benchmark, err)
			return "bolt"
		}
	}
	return b.opts.backend
}

// deleteRedisPrefix removes every key under prefix. Nova's keys are
// "prefix:…" or hash-tagged "{prefix:…}…", so one pattern finds both; the
// prefix is random per run, so nothing else can match.
func deleteRedisPrefix(rawURL, prefix string) error {
	o, err := goredis.ParseURL(rawURL)
	if err != nil {
		return err
	}
	c := goredis.NewClient(o)
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	iter := c.Scan(ctx, 0, "*"+prefix+":*", 1000).Iterator()
	var keys []string
	for iter.Next(ctx) {
		keys = append(keys, iter.Val())
	}
	if err := iter.Err(); err != nil {
		return err
	}
	for len(keys) > 0 {
		n := min(len(keys), 500)
		if err := c.Del(ctx, keys[:n]...).Err(); err != nil {
			return err
		}
		keys = keys[n:]
	}
	return nil
}

// redactURL drops any password from a Redis URL before it is printed.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparseable URL)"
	}
	if u.User != nil {
		u.User = url.User(u.User.Username())
	}
	return fmt.Sprint(u)
}
