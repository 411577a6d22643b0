package httpconn_test

import (
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/sluice-proxy/sluice/internal/sluicetest"
)

// TestPoolsSharedAcrossListeners checks that two http_connection_manager
// listeners routing to one cluster use the server's one set of pools: their
// requests, one after another, all ride one upstream connection.
func TestPoolsSharedAcrossListeners(t *testing.T) {
	var conns atomic.Int64
	be := httptest.NewUnstartedServer(http.HandlerFunc(echoHandler))
	be.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			conns.Add(1)
		}
	}
	be.Start()
	t.Cleanup(be.Close)
	one := hcmConfig(strings.TrimPrefix(be.URL, "http://"), "", "")
	// A second listener, l2, with the same manager config.
	i := strings.Index(one, "clusters:")
	l2 := strings.Replace(one[strings.Index(one, "  - name: l\n"):i], "name: l\n", "name: l2\n", 1)
	s := sluicetest.Start(t, one[:i]+l2+one[i:])
	for n := 0; n < 3; n++ {
		for _, l := range []string{"l", "l2"} {
			resp, body := get(t, "http://"+s.Addr(l)+"/x")
			if resp.StatusCode != 200 || !strings.HasPrefix(body, "GET /x") {
				t.Fatalf("%s: got %d %q", l, resp.StatusCode, body)
			}
		}
	}
	if n := conns.Load(); n != 1 {
		t.Fatalf("upstream saw %d connections for 6 sequential requests over two listeners, want 1", n)
	}
}
