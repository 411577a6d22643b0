package proxy_test

import (
	"testing"

	"github.com/sluice-proxy/sluice/internal/sluicetest"
	"github.com/sluice-proxy/sluice/proxy"
)

// startSluice is sluicetest.Start with this package's test filters known to
// the server alone (proxy.Filters), not registered for the whole binary.
func startSluice(t testing.TB, yaml string) *sluicetest.Sluice {
	t.Helper()
	return sluicetest.StartWith(t, yaml, proxy.Filters(dynamicFactory{}, bufferedFactory{}, closingFactory{}))
}
