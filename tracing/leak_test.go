package tracing_test

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package's tests if a goroutine (an exporter's, a
// batch processor's) outlives them.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
