package dynamicforwardproxy_test

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package's tests if a goroutine outlives them (a
// refresh loop or a tunnel left running).
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
