package httpconn

import (
	"context"
	"errors"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/sluice-proxy/sluice/cluster"
	httpfilter "github.com/sluice-proxy/sluice/filters/http"
)

// Upstream sends a request to a cluster and returns its response; one per
// cluster. The cluster's pool (cluster/httppool) satisfies it; until then
// transportUpstreams below does.
type Upstream interface {
	RoundTrip(*http.Request) (*http.Response, error)
}

// UpstreamFunc returns the Upstream of a cluster; false when the cluster
// does not exist.
type UpstreamFunc func(cl *cluster.Cluster) (Upstream, bool)

type hashKey struct{}

// withHash passes a route's hash policy result to the dial's host pick.
func withHash(ctx context.Context, h uint64) context.Context {
	return context.WithValue(ctx, hashKey{}, h)
}

// transportUpstreams is the stand-in for the cluster pools: one
// http.Transport (HTTP/1.1, keep-alive) per cluster, whose DialContext picks
// a host and connects through the cluster (upstream_cx_* stats, the
// connection circuit breaker, outlier detection of connect failures). It is
// kept small so that the pool replaces it whole.
type transportUpstreams struct {
	mu sync.Mutex
	ts map[*cluster.Cluster]*http.Transport
}

func (t *transportUpstreams) get(cl *cluster.Cluster) (Upstream, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if tr, ok := t.ts[cl]; ok {
		return tr, true
	}
	if t.ts == nil {
		t.ts = map[*cluster.Cluster]*http.Transport{}
	}
	http1Total := cl.Stats().Scope.Counter("upstream_cx_http1_total")
	tr := &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			h, hasHash := ctx.Value(hashKey{}).(uint64)
			up, err := cl.Connect(ctx, h, hasHash)
			if err != nil {
				if st := httpfilter.FromContext(ctx); st != nil {
					switch {
					case errors.Is(err, cluster.ErrNoHealthyHost):
						st.SetFlag(httpfilter.NoHealthyUpstream)
					case errors.Is(err, cluster.ErrOverflow):
						st.SetFlag(httpfilter.UpstreamOverflow)
					case ctx.Err() == nil:
						st.SetFlag(httpfilter.UpstreamConnectFailure)
					}
				}
				return nil, err
			}
			http1Total.Inc()
			return up, nil
		},
		MaxIdleConnsPerHost:    1024,
		IdleConnTimeout:        time.Hour,
		DisableCompression:     true,
		ResponseHeaderTimeout:  0, // the route timeout bounds it
		MaxResponseHeaderBytes: 60 << 10,
	}
	t.ts[cl] = tr
	return tr, true
}

// close closes every idle upstream connection.
func (t *transportUpstreams) close() {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, tr := range t.ts {
		tr.CloseIdleConnections()
	}
	t.ts = nil
}
