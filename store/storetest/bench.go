package storetest

import (
	"context"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/novasre/nova"
	"github.com/novasre/nova/store"
)

// Bench runs the same benchmarks against a backend; newStore returns a
// fresh store (closed by the backend when b ends).
func Bench(b *testing.B, newStore func(b *testing.B) store.Store) {
	ctx := context.Background()
	b.Run("Enqueue", func(b *testing.B) {
		s := newStore(b)
		for i := 0; b.Loop(); i++ {
			d := store.Delivery{Key: "k" + strconv.Itoa(i%100), WebhookID: "w" + strconv.Itoa(i), Payload: benchPayload}
			if _, err := s.Enqueue(ctx, d, time.Hour); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("ClaimAck", func(b *testing.B) {
		s := newStore(b)
		fill(b, s, b.N)
		b.ResetTimer()
		for range b.N {
			claimAck(b, s)
		}
	})
	b.Run("ClaimAckParallel", func(b *testing.B) {
		s := newStore(b)
		fill(b, s, b.N)
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				claimAck(b, s)
			}
		})
	})
	b.Run("Put", func(b *testing.B) {
		s := newStore(b)
		for i := 0; b.Loop(); i++ {
			if _, err := s.Put(ctx, store.KindIncident, "P"+strconv.Itoa(i%1000), benchPayload, store.AnyVersion, 0); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("Get", func(b *testing.B) {
		s := newStore(b)
		for i := range 1000 {
			if _, err := s.Put(ctx, store.KindIncident, "P"+strconv.Itoa(i), benchPayload, 0, 0); err != nil {
				b.Fatal(err)
			}
		}
		for i := 0; b.Loop(); i++ {
			if _, err := s.Get(ctx, store.KindIncident, "P"+strconv.Itoa(i%1000)); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("AppendAudit", func(b *testing.B) {
		s := newStore(b)
		for i := 0; b.Loop(); i++ {
			e := nova.AuditEntry{ID: nova.NewAuditID(time.Now()), Time: time.Now(), Actor: nova.ActorNova,
				Action: "note", Outcome: nova.OutcomeOK, Detail: fmt.Sprintf("entry %d", i)}
			if _, err := s.AppendAudit(ctx, e); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("Take", func(b *testing.B) {
		s := newStore(b)
		r := store.Rate{Limit: 1 << 30, Period: time.Second, Burst: 1 << 20}
		for b.Loop() {
			if _, err := s.Take(ctx, "pd:prod", r, 0); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// benchPayload is about the size of a PagerDuty webhook.
var benchPayload = make([]byte, 2048)

func fill(b *testing.B, s store.Store, n int) {
	for i := range n {
		d := store.Delivery{Key: "k" + strconv.Itoa(i%100), Payload: benchPayload}
		if _, err := s.Enqueue(context.Background(), d, time.Hour); err != nil {
			b.Fatal(err)
		}
	}
}

func claimAck(b *testing.B, s store.Store) {
	ctx := context.Background()
	for {
		d, err := s.Claim(ctx, time.Minute)
		if err != nil {
			b.Fatal(err)
		}
		if d == nil {
			continue // every ready key is held by another goroutine
		}
		if err := s.Ack(ctx, d); err != nil {
			b.Fatal(err)
		}
		return
	}
}
