package cluster

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/sluice-proxy/sluice/config"
)

// TestHealthTransitions drives one session through check outcomes and checks
// Envoy's threshold rules: a new host passes on its first success, network
// failures need unhealthy_threshold, a wrong answer fails at once, and an
// unhealthy host needs healthy_threshold passes.
func TestHealthTransitions(t *testing.T) {
	netErr := &networkError{errors.New("refused")}
	bad := errors.New("wrong answer")
	tests := []struct {
		name  string
		input []error
		want  []bool // failed after each outcome
	}{
		{"new host passes at once", []error{nil}, []bool{false}},
		{"failed first check, then healthy_threshold", []error{netErr, nil, nil}, []bool{true, true, false}},
		{"network failures need threshold", []error{nil, netErr, netErr, netErr}, []bool{false, false, false, true}},
		{"success resets the failure run", []error{nil, netErr, netErr, nil, netErr, netErr}, []bool{false, false, false, false, false, false}},
		{"wrong answer fails at once", []error{nil, bad}, []bool{false, true}},
		{"healthy threshold after failing", []error{nil, bad, nil, nil}, []bool{false, true, true, false}},
		{"failure resets the pass run", []error{nil, bad, nil, bad, nil, nil}, []bool{false, true, true, true, true, false}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, _ := testManager(t)
			cfg := clusterCfg(t, `{name: c, endpoints: ["127.0.0.1:1"], health_checks: [{unhealthy_threshold: 3, healthy_threshold: 2, tcp_health_check: {}}]}`)
			c := m.newCluster(&cfg)
			c.setHosts(cfg.Endpoints) // no checker yet: no goroutines
			h := c.Hosts()[0]
			hc := newHealthChecker(c, cfg.HealthChecks)
			defer hc.stop()
			s := &hcSession{hc: hc, h: h, check: &cfg.HealthChecks[0], failed: true, first: true}
			hc.sessions[h] = []*hcSession{s}
			for i, err := range tt.input {
				s.record(err)
				got := h.Flags()&FailedActiveHC != 0
				if got != tt.want[i] {
					t.Fatalf("after outcome %d (%v): failed=%v, want %v", i, err, got, tt.want[i])
				}
			}
		})
	}
}

// TestHealthCheckEjectsAndReturns runs real TCP checks against two servers,
// stops one, and checks that it leaves the picker, the stats and events say
// so, and that it comes back after a restart.
func TestHealthCheckEjectsAndReturns(t *testing.T) {
	a, b := newServer(t, ping), newServer(t, ping)
	m, st := testManager(t)
	cfg := clusterCfg(t, fmt.Sprintf(`{name: c, endpoints: [%q, %q], health_checks: [{interval: 20ms, timeout: 200ms, unhealthy_threshold: 2, healthy_threshold: 2, redis_health_check: {}}]}`, a.addr, b.addr))
	m.Apply([]config.Cluster{cfg})
	c := m.Get("c")
	for _, h := range c.Hosts() {
		if !h.Healthy() {
			t.Fatalf("after warming, %s is %s", h.Address(), h.Flags())
		}
	}
	events := make(chan HostEvent, 16)
	cancel := c.Subscribe(func(ev HostEvent) { events <- ev })
	defer cancel()

	b.stop()
	eventually(t, "b marked failed_active_hc", func() bool { return c.Hosts()[1].Flags() == FailedActiveHC })
	if ev := <-events; ev.Kind != HostUnhealthy || ev.Host.Address() != b.addr {
		t.Fatalf("event %v %s, want unhealthy %s", ev.Kind, ev.Host.Address(), b.addr)
	}
	for i := 0; i < 20; i++ {
		if h := c.Pick(0, false); h.Address() != a.addr {
			t.Fatalf("picked %s while it is unhealthy", h.Address())
		}
	}
	if g := gauge(st, "cluster.c.health_check.healthy"); g != 1 {
		t.Errorf("health_check.healthy = %d, want 1", g)
	}
	if counter(st, "cluster.c.health_check.network_failure") < 2 || counter(st, "cluster.c.health_check.failure") < 2 {
		t.Errorf("failure stats not counted")
	}
	b.start()
	eventually(t, "b healthy again", func() bool { return c.Hosts()[1].Healthy() })
	if ev := <-events; ev.Kind != HostHealthy {
		t.Fatalf("event %v, want healthy", ev.Kind)
	}
	if counter(st, "cluster.c.health_check.attempt") <= counter(st, "cluster.c.health_check.success") {
		t.Errorf("attempt must exceed success after failures")
	}
}

// TestWarmingKeepsDeadHostOut: a host that is down at start is never picked.
func TestWarmingKeepsDeadHostOut(t *testing.T) {
	a := newServer(t, ping)
	m, _ := testManager(t)
	m.Dialer = refusingDialer("127.0.0.1:9")
	m.Apply([]config.Cluster{clusterCfg(t, fmt.Sprintf(`{name: c, endpoints: [%q, "127.0.0.1:9"], health_checks: [{interval: 1h, tcp_health_check: {}}]}`, a.addr))})
	c := m.Get("c")
	if f := c.Hosts()[1].Flags(); f != FailedActiveHC {
		t.Fatalf("dead host flags %s, want /failed_active_hc", f)
	}
	for i := 0; i < 10; i++ {
		if h := c.Pick(0, false); h == nil || h.Address() != a.addr {
			t.Fatalf("picked %v", h)
		}
	}
}

// TestProbes checks each probe against scripted servers.
func TestProbes(t *testing.T) {
	reply := func(s string) func(net.Conn) {
		return func(c net.Conn) {
			buf := make([]byte, 512)
			c.Read(buf)
			io.WriteString(c, s)
		}
	}
	httpStatus := func(code int) func(net.Conn) {
		return reply(fmt.Sprintf("HTTP/1.1 %d X\r\nContent-Length: 0\r\nConnection: close\r\n\r\n", code))
	}
	tests := []struct {
		name        string
		check       string
		handle      func(net.Conn)
		wantErr     bool
		wantNetwork bool
	}{
		{"tcp connect", `tcp_health_check: {}`, func(net.Conn) {}, false, false},
		{"tcp send receive fuzzy", `tcp_health_check: {send: {text: "50494e47"}, receive: [{text: "504f"}, {text: "4e47"}]}`, reply("xxPOyyNGzz"), false, false},
		{"tcp receive missing", `tcp_health_check: {send: {text: "50"}, receive: [{text: "4f4b"}]}`, reply("NO"), true, true},
		{"redis pong", `redis_health_check: {}`, reply("+PONG\r\n"), false, false},
		{"redis loading", `redis_health_check: {}`, reply("-LOADING\r\n"), true, false},
		{"redis key absent", `redis_health_check: {key: maint}`, reply(":0\r\n"), false, false},
		{"redis key present", `redis_health_check: {key: maint}`, reply(":1\r\n"), true, false},
		{"redis closed", `redis_health_check: {}`, func(net.Conn) {}, true, true},
		{"http 200", `http_health_check: {path: /h}`, httpStatus(200), false, false},
		{"http 503", `http_health_check: {path: /h}`, httpStatus(503), true, false},
		{"http range", `http_health_check: {path: /h, expected_statuses: [{start: 200, end: 400}]}`, httpStatus(302), false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newServer(t, tt.handle)
			m, _ := testManager(t)
			cfg := clusterCfg(t, fmt.Sprintf(`{name: c, endpoints: [%q], health_checks: [{interval: 1h, timeout: 1s, %s}]}`, srv.addr, tt.check))
			c := m.newCluster(&cfg)
			err := newProber(c, &cfg.HealthChecks[0]).probe(context.Background(), newHost(c, srv.addr, 1))
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			if err != nil && isNetworkFailure(err) != tt.wantNetwork {
				t.Fatalf("network = %v, want %v (%v)", isNetworkFailure(err), tt.wantNetwork, err)
			}
		})
	}
}

// TestHTTPProbeRequest checks path and Host header on the wire.
func TestHTTPProbeRequest(t *testing.T) {
	got := make(chan *http.Request, 1)
	srv := newServer(t, func(c net.Conn) {
		req, err := http.ReadRequest(bufioReader(c))
		if err == nil {
			got <- req
		}
		io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
	})
	m, _ := testManager(t)
	cfg := clusterCfg(t, fmt.Sprintf(`{name: users, endpoints: [%q], health_checks: [{http_health_check: {path: /healthz}}]}`, srv.addr))
	c := m.newCluster(&cfg)
	if err := newProber(c, &cfg.HealthChecks[0]).probe(context.Background(), newHost(c, srv.addr, 1)); err != nil {
		t.Fatal(err)
	}
	req := <-got
	if req.URL.Path != "/healthz" || req.Host != "users" || !strings.HasPrefix(req.UserAgent(), "sluice") {
		t.Fatalf("request %s host %q ua %q", req.URL.Path, req.Host, req.UserAgent())
	}
}

func TestFuzzyMatch(t *testing.T) {
	tests := []struct {
		name   string
		input  string
		blocks []string
		want   bool
	}{
		{"none", "abc", nil, true},
		{"in order apart", "a-b-c", []string{"a", "c"}, true},
		{"out of order", "a-b-c", []string{"c", "a"}, false},
		{"no overlap reuse", "ab", []string{"ab", "b"}, false},
		{"missing", "abc", []string{"x"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var bs [][]byte
			for _, b := range tt.blocks {
				bs = append(bs, []byte(b))
			}
			if got := fuzzyMatch([]byte(tt.input), bs); got != tt.want {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
		})
	}
}
