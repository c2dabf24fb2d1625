package redis

import (
	"testing"

	"github.com/novasre/nova/store"
	"github.com/novasre/nova/store/storetest"
)

// BenchmarkStore measures the store against the test Redis on loopback.
func BenchmarkStore(b *testing.B) {
	requireRedis(b)
	storetest.Bench(b, func(b *testing.B) store.Store { return openPrefix(b, randomPrefix()) })
}
