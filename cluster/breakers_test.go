package cluster

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/sluice-proxy/sluice/config"
)

func TestResource(t *testing.T) {
	tests := []struct {
		name      string
		max       uint32
		acquire   int
		release   int
		wantOK    int
		wantOpen  int64
		wantCount int64
	}{
		{"under limit", 3, 2, 0, 2, 0, 2},
		{"at limit opens", 2, 2, 0, 2, 1, 2},
		{"over limit refused", 2, 5, 0, 2, 1, 2},
		{"release closes", 2, 2, 1, 2, 0, 1},
		{"zero refuses all", 0, 1, 0, 0, 1, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, st := testManager(t)
			cfg := clusterCfg(t, fmt.Sprintf(`{name: c, endpoints: ["127.0.0.1:1"], circuit_breakers: {thresholds: [{max_retries: %d, track_remaining: true}]}}`, tt.max))
			c := m.newCluster(&cfg)
			c.applyBreakers(&cfg)
			r := &c.Breakers(PriorityDefault).Retries
			ok := 0
			for range tt.acquire {
				if r.TryAcquire() {
					ok++
				}
			}
			for range tt.release {
				r.Release()
			}
			if ok != tt.wantOK || r.Count() != tt.wantCount {
				t.Fatalf("acquired %d count %d, want %d %d", ok, r.Count(), tt.wantOK, tt.wantCount)
			}
			if g := gauge(st, "cluster.c.circuit_breakers.default.rq_retry_open"); g != tt.wantOpen {
				t.Fatalf("rq_retry_open = %d, want %d", g, tt.wantOpen)
			}
			if g := gauge(st, "cluster.c.circuit_breakers.default.remaining_retries"); g != int64(tt.max)-tt.wantCount {
				t.Fatalf("remaining_retries = %d", g)
			}
			if o := counter(st, "cluster.c.upstream_rq_retry_overflow"); o != uint64(tt.acquire-tt.wantOK) {
				t.Fatalf("overflow = %d", o)
			}
		})
	}
}

// TestConnectMaxConnections: the third connection is refused at once and
// counted; closing one frees a slot.
func TestConnectMaxConnections(t *testing.T) {
	srv := newServer(t, ping)
	m, st := testManager(t)
	m.Apply([]config.Cluster{clusterCfg(t, fmt.Sprintf(`{name: c, endpoints: [%q], circuit_breakers: {thresholds: [{max_connections: 2}]}}`, srv.addr))})
	c := m.Get("c")
	a, err1 := c.Connect(context.Background(), 0, false)
	b, err2 := c.Connect(context.Background(), 0, false)
	if err1 != nil || err2 != nil {
		t.Fatal(err1, err2)
	}
	if _, err := c.Connect(context.Background(), 0, false); !errors.Is(err, ErrOverflow) {
		t.Fatalf("third connect: %v, want ErrOverflow", err)
	}
	if counter(st, "cluster.c.upstream_cx_overflow") != 1 || gauge(st, "cluster.c.circuit_breakers.default.cx_open") != 1 {
		t.Fatal("overflow not counted or cx_open not set")
	}
	if counter(st, "cluster.c.upstream_cx_total") != 2 {
		t.Fatalf("upstream_cx_total = %d, overflow must not count", counter(st, "cluster.c.upstream_cx_total"))
	}
	a.Close()
	a.Close() // twice releases once
	if gauge(st, "cluster.c.circuit_breakers.default.cx_open") != 0 {
		t.Fatal("cx_open still set")
	}
	d, err := c.Connect(context.Background(), 0, false)
	if err != nil {
		t.Fatal(err)
	}
	d.Close()
	b.Close()
	if n := c.Breakers(PriorityDefault).Connections.Count(); n != 0 {
		t.Fatalf("connections held after close: %d", n)
	}
}

func TestResourceConcurrent(t *testing.T) {
	m, _ := testManager(t)
	cfg := clusterCfg(t, `{name: c, endpoints: ["127.0.0.1:1"], circuit_breakers: {thresholds: [{max_requests: 5}]}}`)
	c := m.newCluster(&cfg)
	c.applyBreakers(&cfg)
	r := &c.Breakers(PriorityDefault).Requests
	var wg sync.WaitGroup
	var mu sync.Mutex
	peak := int64(0)
	for range 8 {
		wg.Go(func() {
			for range 1000 {
				if r.TryAcquire() {
					mu.Lock()
					peak = max(peak, r.Count())
					mu.Unlock()
					r.Release()
				}
			}
		})
	}
	wg.Wait()
	if peak > 5 || r.Count() != 0 {
		t.Fatalf("peak %d count %d", peak, r.Count())
	}
}

func TestBreakerDefaults(t *testing.T) {
	m, _ := testManager(t)
	cfg := clusterCfg(t, `{name: c, endpoints: ["127.0.0.1:1"], circuit_breakers: {thresholds: [{priority: HIGH, max_connections: 7}]}}`)
	c := m.newCluster(&cfg)
	c.applyBreakers(&cfg)
	d, h := c.Breakers(PriorityDefault), c.Breakers(PriorityHigh)
	if d.Connections.Max() != 1024 || d.PendingRequests.Max() != 1024 || d.Requests.Max() != 1024 || d.Retries.Max() != 3 {
		t.Fatal("DEFAULT is not Envoy's 1024/1024/1024/3")
	}
	if h.Connections.Max() != 7 || h.Retries.Max() != 3 {
		t.Fatalf("HIGH: %d %d", h.Connections.Max(), h.Retries.Max())
	}
}
