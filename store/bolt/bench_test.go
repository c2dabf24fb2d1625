package bolt

import (
	"testing"

	"github.com/novasre/nova/store"
	"github.com/novasre/nova/store/storetest"
)

// BenchmarkStore measures the embedded store as production runs it, with
// fsync on every commit.
func BenchmarkStore(b *testing.B) {
	storetest.Bench(b, func(b *testing.B) store.Store { return openTemp(b, Options{}) })
}

// BenchmarkStoreNoSync shows the cost of the store itself, without fsync.
func BenchmarkStoreNoSync(b *testing.B) {
	storetest.Bench(b, func(b *testing.B) store.Store { return openTemp(b, Options{NoSync: true}) })
}
