package httpconn_test

import (
	"fmt"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/sluice-proxy/sluice/internal/poll"
	"github.com/sluice-proxy/sluice/internal/sluicetest"
)

// TestEnvoyFrontProxy loads testdata/envoy/front_proxy.yaml through the
// Envoy loader, with only its addresses changed, and serves it.
func TestEnvoyFrontProxy(t *testing.T) {
	be1 := startBackend(t, echoHandler)
	be2 := startBackend(t, echoHandler)
	data, err := os.ReadFile("../../testdata/envoy/front_proxy.yaml")
	if err != nil {
		t.Fatal(err)
	}
	logFile := t.TempDir() + "/access.json"
	y := string(data)
	for _, r := range []struct{ from, to string }{
		{"address: 0.0.0.0\n        port_value: 8080", "address: 127.0.0.1\n        port_value: 0"},
		{"{address: 0.0.0.0, port_value: 8001}", "{address: 127.0.0.1, port_value: 0}"},
		{"{address: service1, port_value: 8000}", hostPort(be1.addr())},
		{"{address: service2, port_value: 8000}", hostPort(be2.addr())},
		{"/tmp/front_proxy_access.json", logFile},
	} {
		if !strings.Contains(y, r.from) {
			t.Fatalf("front_proxy.yaml lacks %q", r.from)
		}
		y = strings.Replace(y, r.from, r.to, 1)
	}
	s := sluicetest.StartEnvoy(t, y)
	base := "http://" + s.Addr("front")
	if resp, body := get(t, base+"/service/1"); resp.StatusCode != 200 || body != "GET /service/1 " {
		t.Fatalf("service1: %d %q", resp.StatusCode, body)
	}
	if resp, body := get(t, base+"/service/2/x"); resp.StatusCode != 200 || body != "GET /service/2/x " {
		t.Fatalf("service2: %d %q", resp.StatusCode, body)
	}
	if resp, _ := get(t, base+"/other"); resp.StatusCode != 404 {
		t.Fatalf("no route: %d", resp.StatusCode)
	}
	s.WaitCounter("http.ingress_http.downstream_rq_2xx", 2, 5*time.Second)
	s.WaitCounter("http.ingress_http.no_route", 1, 5*time.Second)
	s.WaitCounter("cluster.service2.upstream_rq_200", 1, 5*time.Second)
	poll.Eventually(t, 5*time.Second, func() bool {
		b, _ := os.ReadFile(logFile)
		return strings.Count(string(b), "\n") == 3 &&
			strings.Contains(string(b), fmt.Sprintf(`"flags":null,"path":"/service/1","status":200,"upstream":"%s"`, be1.addr())) &&
			strings.Contains(string(b), `"flags":"NR","path":"/other","status":404,"upstream":null`)
	}, "access log lines missing")
}

func hostPort(a string) string {
	h, p, _ := net.SplitHostPort(a)
	return fmt.Sprintf("{address: %s, port_value: %s}", h, p)
}
