package cors_test

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package's tests if a goroutine outlives them (a
// delayed or buffered request left behind, a server not stopped).
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
