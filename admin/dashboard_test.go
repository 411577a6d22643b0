package admin_test

import (
	"encoding/json"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/sluice-proxy/sluice/internal/poll"
	"github.com/sluice-proxy/sluice/internal/sluicetest"
	"github.com/sluice-proxy/sluice/internal/testenv"
)

// dashConfig is a tcp_proxy listener to cluster "echo" (with a TCP health
// check every interval), a redis_proxy listener to redis when it is not
// empty, plus n more clusters of one host each.
func dashConfig(echo, redis string, interval time.Duration, n int) string {
	var b strings.Builder
	fmt.Fprintf(&b, `listeners:
  - {name: front, address: "127.0.0.1:0", filters: [{tcp_proxy: {stat_prefix: front, cluster: echo}}]}
`)
	if redis != "" {
		fmt.Fprintf(&b, `  - name: cache
    address: "127.0.0.1:0"
    filters: [{redis_proxy: {stat_prefix: dash, settings: {op_timeout: 5s}, prefix_routes: {catch_all_route: {cluster: redis}}}}]
`)
	}
	fmt.Fprintf(&b, `clusters:
  - name: echo
    endpoints: [%q]
    health_checks: [{timeout: 200ms, interval: %s, unhealthy_threshold: 1, healthy_threshold: 1, tcp_health_check: {}}]
`, echo, interval)
	if redis != "" {
		fmt.Fprintf(&b, "  - {name: redis, endpoints: [%q]}\n", redis)
	}
	for i := range n {
		fmt.Fprintf(&b, "  - {name: c%03d, endpoints: [\"127.0.0.1:%d\"]}\n", i, 20000+i)
	}
	return b.String()
}

type dashData struct {
	Listeners []struct {
		Name    string `json:"name"`
		CxTotal uint64 `json:"cx_total"`
	} `json:"listeners"`
	Clusters struct {
		Total, Matched, Page, Pages int
		Items                       []struct {
			Name  string `json:"name"`
			Hosts []struct{ Address, Flags string }
		} `json:"items"`
	} `json:"clusters"`
	Panels []struct {
		Prefix   string            `json:"prefix"`
		Counters map[string]uint64 `json:"counters"`
	} `json:"panels"`
}

func dashGet(t *testing.T, s *sluicetest.Sluice, query string) (dashData, int) {
	t.Helper()
	code, body := s.AdminGet("/dashboard/data" + query)
	if code != 200 {
		t.Fatalf("/dashboard/data%s: %d %s", query, code, body)
	}
	var d dashData
	if err := json.Unmarshal([]byte(body), &d); err != nil {
		t.Fatal(err)
	}
	return d, len(body)
}

// TestDashboardData: the root serves the embedded page; the data endpoint
// pages 501 clusters 25 at a time in a small answer, filters them by
// name, counts the listener's connections and shows tcp_proxy's counters
// as a panel of their own.
func TestDashboardData(t *testing.T) {
	echo := testenv.Echo(t)
	s := sluicetest.Start(t, dashConfig(echo.Addr(), "", time.Second, 500))
	code, page := s.AdminGet("/")
	if code != 200 || !strings.Contains(page, "<svg") || !strings.Contains(page, "dashboard/data") {
		t.Fatalf("/: %d %.200s", code, page)
	}
	c, err := net.Dial("tcp", s.Addr("front"))
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintln(c, "x")
	c.Read(make([]byte, 2))
	c.Close()
	poll.Eventually(t, 5*time.Second, func() bool {
		d, _ := dashGet(t, s, "")
		return len(d.Listeners) == 1 && d.Listeners[0].CxTotal == 1
	}, "listener cx_total 1")

	d, size := dashGet(t, s, "")
	if d.Clusters.Total != 501 || d.Clusters.Pages != 21 || len(d.Clusters.Items) != 25 || d.Clusters.Items[0].Name != "c000" {
		t.Fatalf("clusters: total %d pages %d items %d", d.Clusters.Total, d.Clusters.Pages, len(d.Clusters.Items))
	}
	t.Logf("/dashboard/data at 501 clusters: %d bytes", size)
	if size > 32<<10 {
		t.Fatalf("answer of %d bytes at 501 clusters", size)
	}
	last, _ := dashGet(t, s, "?page=99")
	if last.Clusters.Page != 20 || len(last.Clusters.Items) != 1 || last.Clusters.Items[0].Name != "echo" {
		t.Fatalf("last page: %+v", last.Clusters)
	}
	q, _ := dashGet(t, s, "?q=c49")
	if q.Clusters.Matched != 10 || len(q.Clusters.Items) != 10 {
		t.Fatalf("q=c49: %+v", q.Clusters)
	}
	var found bool
	for _, p := range d.Panels {
		if p.Prefix == "tcp.front" && p.Counters["downstream_cx_total"] == 1 {
			found = true
		}
	}
	if !found {
		t.Fatalf("no tcp.front panel: %+v", d.Panels)
	}
}
