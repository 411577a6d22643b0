package integration

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sluice-proxy/sluice/internal/poll"
	"github.com/sluice-proxy/sluice/internal/sluicetest"
	"github.com/sluice-proxy/sluice/internal/testenv"
	"github.com/sluice-proxy/sluice/proxy"
)

// TestPostgresLoopBatchOfNewStatements: a pgx batch of 100 statements never
// seen before arrives in one read on an event loop, so each is a parse off
// the loop and the client's reading is held until they are done. Every
// result comes back right, every statement is parsed (none skipped), and a
// second connection on the same loop is answered meanwhile.
func TestPostgresLoopBatchOfNewStatements(t *testing.T) {
	pg := testenv.Postgres(t)
	s := sluicetest.StartWith(t, pgYAML("", pgCluster("pg_a", pg.Addr())), proxy.IOLoops(1))
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	noisy := pgConnect(t, s.Addr("pg"), testenv.PostgresUser, "postgres", "disable")
	defer noisy.Close(ctx)
	other := pgConnect(t, s.Addr("pg"), testenv.PostgresUser, "postgres", "disable")
	defer other.Close(ctx)
	parsed0 := s.Counter("postgres.pg.statements_parsed")

	const n = 100
	b := &pgx.Batch{}
	for i := range n {
		// A new alias each time: a new shape, so a parse.
		b.Queue(fmt.Sprintf("SELECT %d AS c_%d FROM pg_class AS t_%d LIMIT 1", i, i, i))
	}
	done := make(chan error, 1)
	go func() {
		br := noisy.SendBatch(ctx, b)
		for i := range n {
			var v int
			if err := br.QueryRow().Scan(&v); err != nil {
				done <- fmt.Errorf("statement %d: %w", i, err)
				br.Close()
				return
			}
			if v != i {
				done <- fmt.Errorf("statement %d returned %d", i, v)
				br.Close()
				return
			}
		}
		done <- br.Close()
	}()
	for range 20 {
		var one int
		if err := other.QueryRow(ctx, "SELECT 1", pgx.QueryExecModeSimpleProtocol).Scan(&one); err != nil || one != 1 {
			t.Fatalf("the other connection: %d, %v", one, err)
		}
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	poll.Eventually(t, 20*time.Second, func() bool {
		return s.Counter("postgres.pg.statements_parsed") >= parsed0+n+20
	}, "statements parsed: %d, want %d", s.Counter("postgres.pg.statements_parsed")-parsed0, n+20)
	if k := s.Counter("postgres.pg.statements_parse_skipped"); k != 0 {
		t.Errorf("%d statements not parsed", k)
	}
	if s.Server.Loops() == nil || s.Server.Loops().Started() == 0 {
		t.Fatal("the connections did not run on the event loop")
	}
}
