package casefile_test

import (
	"fmt"
	"testing"

	"github.com/google/uuid"
)

// Both benchmarks run against a real PostgreSQL, one durable commit per
// operation, so they measure the store as the hotline uses it.

func BenchmarkOpenCase(b *testing.B) {
	f := newFixture(b)
	ct := f.contact(b, f.store, "+51987000099")
	in := input()
	in.CodeWord = ""
	b.ReportAllocs()
	for b.Loop() {
		if _, err := f.store.OpenCase(f.ctx, f.pool, ct.ID, in); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkGetCase(b *testing.B) {
	f := newFixture(b)
	var ids []uuid.UUID
	for i := range 100 {
		ct := f.contact(b, f.store, fmt.Sprintf("+5198720%04d", i))
		ids = append(ids, f.openCase(b, f.store, ct.ID, input()).ID)
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		c, err := f.store.GetCase(f.ctx, f.pool, ids[i%len(ids)])
		if err != nil || c.Narrative == "" {
			b.Fatal(err)
		}
		i++
	}
}
