package mysql_test

import (
	"database/sql"
	"fmt"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/sluice-proxy/sluice/internal/poll"
	"github.com/sluice-proxy/sluice/internal/sluicetest"
	"github.com/sluice-proxy/sluice/internal/testenv"
)

// TestStatementSpans: go-sql-driver through mysql_proxy with tracing to a
// real MariaDB; each statement is a span named by its first keyword, a
// prepared one EXECUTE, an sqlcommenter traceparent joins the client's
// trace, an error reply is marked.
func TestStatementSpans(t *testing.T) {
	srv := testenv.MariaDB(t)
	col := testenv.StartOtelCol(t)
	s := sluicetest.Start(t, fmt.Sprintf(`
listeners:
  - name: db
    address: 127.0.0.1:0
    filters:
      - mysql_proxy:
          stat_prefix: db
          tracing:
            enabled: true
            provider: {opentelemetry: {service_name: mysql-edge, grpc_service: {envoy_grpc: {cluster_name: otel}}, flush_interval: 100ms}}
      - tcp_proxy: {stat_prefix: db, cluster: maria}
clusters:
  - {name: maria, connect_timeout: 2s, endpoints: ["%s"]}
  - {name: otel, connect_timeout: 1s, endpoints: ["%s"]}
`, srv.Addr(), col.GRPCAddr()))
	cfg := mysql.NewConfig()
	cfg.Net, cfg.Addr, cfg.User, cfg.Passwd = "tcp", s.Addr("db"), testenv.MariaDBUser, testenv.MariaDBPassword
	cfg.Timeout = 5 * time.Second
	c, err := mysql.NewConnector(cfg)
	if err != nil {
		t.Fatal(err)
	}
	db := sql.OpenDB(c)
	defer db.Close()
	const tid, parent = "0af7651916cd43dd8448eb211c80319c", "b7ad6b7169203331"
	var n int
	if err := db.QueryRow("/*traceparent='00-" + tid + "-" + parent + "-01'*/ SELECT 1").Scan(&n); err != nil {
		t.Fatal(err)
	}
	if err := db.QueryRow("SELECT ? + 1", 41).Scan(&n); err != nil || n != 42 {
		t.Fatalf("prepared: %d %v", n, err)
	}
	if _, err := db.Exec("DELETE FROM no_such_db.no_such_table"); err == nil {
		t.Fatal("DELETE from a missing table succeeded")
	}
	var commented, executed, failed testenv.Span
	poll.Eventually(t, 20*time.Second, func() bool {
		spans, _ := col.Spans()
		for _, sp := range spans {
			switch {
			case sp.Service != "mysql-edge":
			case sp.TraceID == tid:
				commented = sp
			case sp.Name == "EXECUTE":
				executed = sp
			case sp.Name == "DELETE":
				failed = sp
			}
		}
		return commented.Name != "" && executed.Name != "" && failed.Name != ""
	}, "spans: commented %+v, execute %+v, delete %+v", commented, executed, failed)
	if commented.Name != "SELECT" || commented.ParentSpanID != parent || commented.Attrs["db.system.name"] != "mysql" {
		t.Errorf("commented statement span: %+v", commented)
	}
	if executed.ParentSpanID != "" || executed.Attrs["error"] != "" {
		t.Errorf("prepared statement span: %+v", executed)
	}
	if failed.Attrs["error"] != "true" {
		t.Errorf("failed statement span not marked: %+v", failed)
	}
}
