package zookeeper

import (
	"flag"
	"fmt"
	"os"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/sluice-proxy/sluice/internal/poll"
)

// TestMain fails the package if a goroutine outlives its tests (polled:
// nothing here should need it, but connections close asynchronously).
// Fuzz workers are exempt: their own goroutines outlive the run. The
// tests against a real ZooKeeper are in integration/zookeeper*_test.go.
func TestMain(m *testing.M) {
	code := m.Run()
	if f := flag.Lookup("test.fuzzworker"); code == 0 && (f == nil || f.Value.String() != "true") {
		poll.Until(20*time.Second, func() bool { return goleak.Find() == nil })
		if err := goleak.Find(); err != nil {
			fmt.Fprintln(os.Stderr, "goleak:", err)
			code = 1
		}
	}
	os.Exit(code)
}
