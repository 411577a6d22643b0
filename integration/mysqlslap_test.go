package integration

import (
	"github.com/sluice-proxy/sluice/internal/poll"
	"net"
	"os/exec"
	"testing"
	"time"

	"github.com/sluice-proxy/sluice/internal/sluicetest"
	"github.com/sluice-proxy/sluice/internal/testenv"
)

// TestMySQLSlapParses is the debts issue's bug: the statements mysqlslap
// --auto-generate-sql sends (INSERTs into t1 of an integer and a
// 128-character string, SELECTs) were counted as queries_parse_error while
// the same text typed into the mariadb client parsed.
func TestMySQLSlapParses(t *testing.T) {
	slap, err := exec.LookPath("mariadb-slap")
	if err != nil {
		if slap, err = exec.LookPath("mysqlslap"); err != nil {
			t.Fatal("mariadb-slap is not installed (Debian's mariadb-client has it)")
		}
	}
	srv := testenv.MariaDB(t)
	s := sluicetest.Start(t, mysqlYAML(srv.Addr(), "", ""))
	host, port, _ := net.SplitHostPort(s.Addr("mysql"))
	out, err := exec.Command(slap, "--protocol=tcp", "-h", host, "-P", port, "-u", "root",
		"--auto-generate-sql", "--number-of-queries=200", "--concurrency=2", "--iterations=1").CombinedOutput()
	if err != nil {
		t.Fatalf("%s: %v\n%s", slap, err, out)
	}
	poll.Eventually(t, 10*time.Second, func() bool { return s.Gauge("cluster.mariadb.upstream_cx_active") == 0 },
		"mysqlslap's connections did not end")
	// Statements parsed off the event loop are counted a moment later.
	poll.Until(10*time.Second, func() bool {
		return s.Counter("mysql.db.queries_parsed")+s.Counter("mysql.db.queries_parse_error") >= 303
	})
	parsed, failed := s.Counter("mysql.db.queries_parsed"), s.Counter("mysql.db.queries_parse_error")
	t.Logf("queries_parsed %d, queries_parse_error %d, inserts %d", parsed, failed, s.Counter("mysql.db.statements_insert"))
	if failed != 0 {
		t.Errorf("queries_parse_error = %d (parsed %d), want 0", failed, parsed)
	}
	if s.Counter("mysql.db.statements_insert") < 100 {
		t.Errorf("statements_insert = %d, want at least 100", s.Counter("mysql.db.statements_insert"))
	}
}
