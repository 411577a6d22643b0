package httpconn

import (
	"context"
	"net"
	"net/http"
	"sync"

	"github.com/sluice-proxy/sluice/cluster"
	"github.com/sluice-proxy/sluice/cluster/httppool"
)

// Upstream sends a request to a cluster and returns its response; one per
// cluster. cluster/httppool's Pool satisfies it: it picks the host (the
// route's hash policy reaches it through httppool.WithHash), pools HTTP/1.1
// and HTTP/2 connections by the cluster's protocol options and counts the
// cluster's upstream_rq_* stats (the router counts only upstream_rq_retry
// and upstream_rq_retry_success).
type Upstream interface {
	RoundTrip(*http.Request) (*http.Response, error)
}

// UpstreamFunc returns the Upstream of a cluster; false when it has none.
type UpstreamFunc func(cl *cluster.Cluster) (Upstream, bool)

// poolUpstreams hands out the pools of ps: the server's (filters.Env's
// HTTPPools), or the filter's own when built outside a server.
func poolUpstreams(ps *httppool.Pools) UpstreamFunc {
	return func(cl *cluster.Cluster) (Upstream, bool) {
		p, err := ps.For(cl)
		if err != nil {
			return nil, false
		}
		return p, true
	}
}

// upgradeTransports carry Upgrade requests (WebSocket), which the pool's
// client connections do not: one http.Transport per cluster without
// keep-alive (a tunnel ends its connection), dialing a host the cluster
// picks (upstream_cx_* stats and the connection breaker apply).
type upgradeTransports struct {
	mu sync.Mutex
	ts map[*cluster.Cluster]*http.Transport
}

func (u *upgradeTransports) get(cl *cluster.Cluster) *http.Transport {
	u.mu.Lock()
	defer u.mu.Unlock()
	if tr, ok := u.ts[cl]; ok {
		return tr
	}
	if u.ts == nil {
		u.ts = map[*cluster.Cluster]*http.Transport{}
	}
	tr := &http.Transport{
		DisableKeepAlives: true,
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			h, hasHash := ctx.Value(upgradeHashKey{}).(uint64)
			up, err := cl.Connect(ctx, h, hasHash)
			if err != nil {
				return nil, err
			}
			return up, nil
		},
	}
	u.ts[cl] = tr
	return tr
}

type upgradeHashKey struct{}

func (u *upgradeTransports) close() {
	u.mu.Lock()
	defer u.mu.Unlock()
	for _, tr := range u.ts {
		tr.CloseIdleConnections()
	}
	u.ts = nil
}
