package postgres

import (
	"fmt"
	"os"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/sluice-proxy/sluice/internal/poll"
	sqlpg "github.com/sluice-proxy/sluice/sqlmeta/pg"
)

// TestMain fails the package's tests if a goroutine outlives them. Parses
// taken off an event loop may still be finishing when the last test
// returns, so it polls for up to 30 s for the goroutines to end; a leaked
// one never does.
func TestMain(m *testing.M) {
	sqlpg.Parse("SELECT 1") // the WebAssembly build compiles its module on first use
	code := m.Run()
	if code == 0 {
		poll.Until(30*time.Second, func() bool { return goleak.Find() == nil })
		if err := goleak.Find(); err != nil {
			fmt.Fprintln(os.Stderr, "goleak:", err)
			code = 1
		}
	}
	os.Exit(code)
}
