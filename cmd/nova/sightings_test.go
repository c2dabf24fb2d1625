package main

import (
	"context"
	"testing"
	"time"

	"github.com/novasre/nova/store/bolt"
)

// Ignored events are counted per environment and service with at most one
// store write per service a minute; nothing is lost between writes.
func TestSightingsCountIgnoredEvents(t *testing.T) {
	st, err := bolt.Open(t.TempDir()+"/nova.db", bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	clock := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	s := newSightings(st, func() time.Time { return clock }, quietLogger())
	ctx := context.Background()
	for i := 0; i < 5; i++ {
		s.saw(ctx, "prod", "PUNKNOWN")
	}
	s.saw(ctx, "staging", "PUNKNOWN")
	s.saw(ctx, "prod", "bad:id")
	got, err := loadSightings(ctx, st)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Environment != "prod" || got[0].Events != 1 || got[1].Environment != "staging" {
		t.Fatalf("after a burst: %+v (one write per service and minute)", got)
	}
	clock = clock.Add(61 * time.Second)
	s.saw(ctx, "prod", "PUNKNOWN")
	got, _ = loadSightings(ctx, st)
	if got[0].Events != 6 || !got[0].Last.Equal(clock) || !got[0].First.Equal(clock.Add(-61*time.Second)) {
		t.Fatalf("after a minute: %+v, want all 6 events counted", got[0])
	}
}
