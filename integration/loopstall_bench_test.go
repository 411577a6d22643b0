package integration

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sluice-proxy/sluice/internal/poll"
	"github.com/sluice-proxy/sluice/internal/sluicetest"
	"github.com/sluice-proxy/sluice/internal/testenv"
	"github.com/sluice-proxy/sluice/proxy"
)

// BenchmarkLoopStall measures what a cache-missing SQL parse costs the other
// connections of an event loop: one loop, a connection running SELECT 1
// (a cached shape) while another sends only statements never seen before,
// each a parse, paced at up to 500 a second. The cheap query is timed only
// while the other connection is sending, b.N times and then on until that
// connection has sent minNoise statements (a fast build would otherwise
// finish before the noise starts). It reports the cheap query's p50, p99 and
// p99.9 latency, the new statements sent and the parses skipped.
//
//	go test -run XXX -bench LoopStall -benchtime 5000x ./integration/
func BenchmarkLoopStall(b *testing.B) {
	pgA := testenv.Postgres(b)
	s := sluicetest.StartWith(b, pgYAML("", pgCluster("pg_a", pgA.Addr())), proxy.IOLoops(1))
	ctx := context.Background()
	victim := pgConnect(b, s.Addr("pg"), testenv.PostgresUser, "postgres", "disable")
	defer victim.Close(ctx)
	noisy := pgConnect(b, s.Addr("pg"), testenv.PostgresUser, "postgres", "disable")
	defer noisy.Close(ctx)
	simple := pgx.QueryExecModeSimpleProtocol
	if _, err := victim.Exec(ctx, "SELECT 1", simple); err != nil { // caches the shape
		b.Fatal(err)
	}

	var stop atomic.Bool
	var wg sync.WaitGroup
	var unique atomic.Int64
	wg.Add(1)
	go func() {
		defer wg.Done()
		tick := time.NewTicker(2 * time.Millisecond)
		defer tick.Stop()
		for n := 0; !stop.Load(); n++ {
			<-tick.C
			// A new table name each time: a new shape, so a parse.
			sql := fmt.Sprintf("SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "+
				"WHERE c.relname = 'x' AND NOT EXISTS (SELECT 1 FROM pg_tables AS t_%s)", fmt.Sprint(n, "_", time.Now().UnixNano()))
			noisy.Exec(ctx, sql, simple) // the relation does not exist: an error, after the parse
			unique.Add(1)
		}
	}()
	const minNoise = 1000
	poll.Eventually(b, 10*time.Second, func() bool { return unique.Load() > 0 }, "the noisy connection did not start")
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N || unique.Load() < minNoise; i++ {
		t0 := time.Now()
		if _, err := victim.Exec(ctx, "SELECT 1", simple); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(t0))
	}
	b.StopTimer()
	stop.Store(true)
	wg.Wait()
	slices.Sort(lat)
	q := func(p float64) float64 { return float64(lat[min(len(lat)-1, int(p*float64(len(lat))))].Microseconds()) }
	b.ReportMetric(q(0.5), "p50-µs")
	b.ReportMetric(q(0.99), "p99-µs")
	b.ReportMetric(q(0.999), "p99.9-µs")
	b.ReportMetric(float64(unique.Load()), "new-statements")
	b.ReportMetric(float64(s.Counter("postgres.pg.statements_parse_skipped")), "parses-skipped")
}
