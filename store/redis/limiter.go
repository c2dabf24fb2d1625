package redis

import (
	"context"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/novasre/nova"
	"github.com/novasre/nova/store"
)

// takeScript is GCRA on one key P:rate:<bucket> holding the theoretical
// arrival time (µs, server clock, so replicas with skewed clocks agree).
// KEYS = bucket; ARGV = emission interval µs, burst, reserve. A request is
// allowed if, after it, burst-reserve-1 more could still be taken now.
// Returns 0, or the µs to wait. The key expires when the bucket is full
// again, which is the same as never having been used.
var takeScript = redis.NewScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local interval = tonumber(ARGV[1])
local tat = math.max(tonumber(redis.call('GET', KEYS[1]) or '0'), now)
local nxt = tat + interval
local allowAt = nxt - (tonumber(ARGV[2]) - tonumber(ARGV[3])) * interval
if allowAt > now then return allowAt - now end
redis.call('SET', KEYS[1], string.format('%.0f', nxt), 'PX', string.format('%.0f', math.ceil((nxt - now) / 1000) + 1))
return 0
`)

// Take asks for one request on bucket key (see store.Limiter).
func (s *Store) Take(ctx context.Context, key string, rate store.Rate, reserve int) (time.Duration, error) {
	if rate.Limit <= 0 || rate.Period <= 0 {
		return 0, nova.Errorf(nova.EINVALID, "rate limit: limit and period must be positive (got %d per %v)", rate.Limit, rate.Period)
	}
	interval := max(rate.Period.Microseconds()/int64(rate.Limit), 1)
	burst := max(rate.Burst, 1)
	// A reserve that can never be met would starve the caller forever;
	// clamped, it is served when the bucket is full.
	reserve = min(max(reserve, 0), burst-1)
	wait, err := takeScript.Run(ctx, s.client, []string{s.prefix + ":rate:" + key}, interval, burst, reserve).Int64()
	if err != nil {
		return 0, translate("rate limit", err)
	}
	return time.Duration(wait) * time.Microsecond, nil
}
