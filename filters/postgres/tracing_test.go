package postgres_test

import (
	"context"
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sluice-proxy/sluice/internal/poll"
	"github.com/sluice-proxy/sluice/internal/sluicetest"
	"github.com/sluice-proxy/sluice/internal/testenv"
)

// TestQuerySpans: pgx through postgres_proxy with tracing to a real
// PostgreSQL; each query is a span named by its first keyword. A query
// carrying an sqlcommenter traceparent joins that trace as a child of the
// client's span; others start their own; a failing query is marked.
func TestQuerySpans(t *testing.T) {
	srv := testenv.Postgres(t)
	col := testenv.StartOtelCol(t)
	s := sluicetest.Start(t, fmt.Sprintf(`
listeners:
  - name: pg
    address: 127.0.0.1:0
    filters:
      - postgres_proxy:
          stat_prefix: pg
          tracing:
            enabled: true
            provider: {opentelemetry: {service_name: pg-edge, http_service: {http_uri: {uri: "http://%s/v1/traces", cluster: otel}}, flush_interval: 100ms}}
      - tcp_proxy: {stat_prefix: pg, cluster: db}
clusters:
  - {name: db, connect_timeout: 2s, endpoints: ["%s"]}
  - {name: otel, connect_timeout: 1s, endpoints: ["%s"]}
`, col.HTTPAddr(), srv.Addr(), col.HTTPAddr()))
	host, port, _ := net.SplitHostPort(s.Addr("pg"))
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c, err := pgx.Connect(ctx, fmt.Sprintf("host=%s port=%s user=%s password=%s dbname=postgres sslmode=disable",
		host, port, testenv.PostgresUser, testenv.PostgresPassword))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(context.Background())
	const tid, parent = "0af7651916cd43dd8448eb211c80319c", "b7ad6b7169203331"
	var n int
	if err := c.QueryRow(ctx, "/*traceparent='00-"+tid+"-"+parent+"-01'*/ SELECT 1", pgx.QueryExecModeSimpleProtocol).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if err := c.QueryRow(ctx, "select $1::int + 1", 41).Scan(&n); err != nil || n != 42 {
		t.Fatalf("extended query: %d %v", n, err)
	}
	if _, err := c.Exec(ctx, "UPDATE no_such_table SET x = 1", pgx.QueryExecModeSimpleProtocol); err == nil {
		t.Fatal("UPDATE of a missing table succeeded")
	}
	var commented, selected, failed testenv.Span
	poll.Eventually(t, 20*time.Second, func() bool {
		spans, _ := col.Spans()
		for _, sp := range spans {
			if sp.Service != "pg-edge" {
				continue
			}
			switch {
			case sp.TraceID == tid:
				commented = sp
			case sp.Name == "SELECT":
				selected = sp
			case sp.Name == "UPDATE":
				failed = sp
			}
		}
		return commented.Name != "" && selected.Name != "" && failed.Name != ""
	}, "spans: commented %+v, select %+v, update %+v", commented, selected, failed)
	if commented.Name != "SELECT" || commented.ParentSpanID != parent || commented.Attrs["db.system.name"] != "postgresql" {
		t.Errorf("commented query span: %+v", commented)
	}
	if selected.ParentSpanID != "" || selected.Attrs["db.query.text"] != "select $1::int + 1" {
		t.Errorf("extended query span: %+v", selected)
	}
	if failed.Attrs["error"] != "true" {
		t.Errorf("failed query span not marked: %+v", failed)
	}
}
