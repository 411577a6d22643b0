package pg

import (
	"os"
	"os/exec"
	"syscall"
	"testing"
)

// workload holds the statements pgbench's default script and sysbench's
// oltp_read_write send (sysbench with its literals), the two load tools
// bench/postgres.sh runs.
var workload = []string{
	"BEGIN",
	"UPDATE pgbench_accounts SET abalance = abalance + $1 WHERE aid = $2",
	"SELECT abalance FROM pgbench_accounts WHERE aid = $1",
	"UPDATE pgbench_tellers SET tbalance = tbalance + $1 WHERE tid = $2",
	"UPDATE pgbench_branches SET bbalance = bbalance + $1 WHERE bid = $2",
	"INSERT INTO pgbench_history (tid, bid, aid, delta, mtime) VALUES ($1, $2, $3, $4, CURRENT_TIMESTAMP)",
	"END",
	"SELECT c FROM sbtest1 WHERE id=5015",
	"SELECT c FROM sbtest1 WHERE id BETWEEN 5005 AND 5104",
	"SELECT SUM(k) FROM sbtest1 WHERE id BETWEEN 4781 AND 4880",
	"SELECT c FROM sbtest1 WHERE id BETWEEN 5022 AND 5121 ORDER BY c",
	"SELECT DISTINCT c FROM sbtest1 WHERE id BETWEEN 4999 AND 5098 ORDER BY c",
	"UPDATE sbtest1 SET k=k+1 WHERE id=5034",
	"UPDATE sbtest1 SET c='83868641912-28773972837-60736120486-75162659906-27563526494-20381887404-41576422241-93426793964-56405065102-33518432330' WHERE id=4995",
	"DELETE FROM sbtest1 WHERE id=5010",
	"INSERT INTO sbtest1 (id, k, c, pad) VALUES (5010, 5012, '68487932199-96439406143-93774651418-41631865787-96406072701-20604855487-25459966574-28203206787-41238978918-19503783441', '22195207048-70116052123-74140395089-76317954521-98694025897')",
	"COMMIT",
}

// BenchmarkParseWorkload parses pgbench's and sysbench's statements, one
// statement per op (ns/op is the mean over them), in steady state.
func BenchmarkParseWorkload(b *testing.B) {
	if _, err := Parse(workload[0]); err != nil { // the back-end's one-time start
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		if _, err := Parse(workload[i%len(workload)]); err != nil {
			b.Fatal(err)
		}
	}
}

// envColdParse makes the test binary parse one statement and exit, for
// BenchmarkParseCold.
const envColdParse = "SLUICE_PG_COLD_PARSE"

// TestColdParseChild is BenchmarkParseCold's child process; it does nothing
// in a normal run.
func TestColdParseChild(t *testing.T) {
	if os.Getenv(envColdParse) == "" {
		t.Skip("child of BenchmarkParseCold")
	}
	if _, err := Parse(workload[1]); err != nil {
		t.Fatal(err)
	}
}

// BenchmarkParseCold times a process's first Parse (the back-end's start:
// nothing for cgo, compiling the WebAssembly module for wazero) by running
// the test binary as a child that parses once; it reports the child's peak
// RSS too. The process start itself (a few ms) is included.
func BenchmarkParseCold(b *testing.B) {
	var rss int64
	for b.Loop() {
		cmd := exec.Command(os.Args[0], "-test.run=^TestColdParseChild$", "-test.count=1")
		cmd.Env = append(os.Environ(), envColdParse+"=1")
		if out, err := cmd.CombinedOutput(); err != nil {
			b.Fatalf("%v: %s", err, out)
		}
		rss = max(rss, cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss)
	}
	b.ReportMetric(float64(rss)/1024, "MB-peak-rss")
}
