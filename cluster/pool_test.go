package cluster

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sluice-proxy/sluice/config"
)

// testConn is a pooled connection over a real TCP connection.
type testConn struct {
	uc   *UpstreamConn
	dead atomic.Bool
}

func (c *testConn) Dead() bool { return c.dead.Load() }
func (c *testConn) Close()     { c.dead.Store(true); c.uc.Close() }

// TestPool: callers whose ids map to one slot share its connection, a
// dead connection is replaced, a failed dial makes Get fail at once for the
// backoff, dials go through Cluster.Dial (upstream_cx_total), and CloseAll
// closes what the pool holds.
func TestPool(t *testing.T) {
	srv := newServer(t, func(c net.Conn) { io.Copy(io.Discard, c) })
	m, st := testManager(t)
	m.Apply([]config.Cluster{clusterCfg(t, fmt.Sprintf("{name: p, endpoints: [%q]}", srv.addr))})
	c := m.Get("p")
	h := c.Hosts()[0]
	var opens atomic.Int32
	p := NewPool(2, time.Hour, func() (*testConn, error) {
		opens.Add(1)
		uc, err := c.Dial(context.Background(), h)
		if err != nil {
			return nil, err
		}
		return &testConn{uc: uc}, nil
	})
	a, err := p.Get(0)
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := p.Get(2); b != a {
		t.Fatal("ids 0 and 2 of a 2-slot pool got different connections")
	}
	if b, _ := p.Get(1); b == a {
		t.Fatal("ids 0 and 1 share a connection")
	}
	if n := counter(st, "cluster.p.upstream_cx_total"); n != 2 {
		t.Fatalf("upstream_cx_total = %d, want 2", n)
	}
	a.Close()
	if b, err := p.Get(0); err != nil || b == a {
		t.Fatalf("a dead connection was not replaced: %v", err)
	}
	p.CloseAll()
	if n := gauge(st, "cluster.p.upstream_cx_active"); n != 0 {
		t.Fatalf("upstream_cx_active = %d after CloseAll", n)
	}
	srv.stop() // connects are refused from now on
	if _, err := p.Get(0); err == nil || errors.Is(err, ErrRecentConnectFailure) {
		t.Fatalf("Get to a stopped server: %v, want the connect error", err)
	}
	before := opens.Load()
	if _, err := p.Get(1); !errors.Is(err, ErrRecentConnectFailure) || opens.Load() != before {
		t.Fatalf("Get within the backoff: %v, dials %d -> %d", err, before, opens.Load())
	}
}
