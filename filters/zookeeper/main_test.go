package zookeeper_test

import (
	"flag"
	"fmt"
	"os"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/sluice-proxy/sluice/internal/poll"
	"github.com/sluice-proxy/sluice/internal/testenv"
)

// TestMain shares one ZooKeeper per test binary (stopped at the end) and
// fails the package if a goroutine outlives the tests, polling for
// connections that close asynchronously. Returning lets Go exit with the
// tests' own status.
func TestMain(m *testing.M) {
	testenv.Main(m)
	if f := flag.Lookup("test.fuzzworker"); f != nil && f.Value.String() == "true" {
		return // a fuzz worker's own goroutines outlive its run
	}
	poll.Until(20*time.Second, func() bool { return goleak.Find() == nil })
	if err := goleak.Find(); err != nil {
		fmt.Fprintln(os.Stderr, "goleak:", err)
		os.Exit(1)
	}
}
