package extauthz_test

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package's tests if a goroutine outlives them (a gRPC
// connection to the service left open, a check never finished).
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
