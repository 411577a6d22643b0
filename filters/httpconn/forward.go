package httpconn

import (
	"context"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/sluice-proxy/sluice/cluster"
	httpfilter "github.com/sluice-proxy/sluice/filters/http"
)

// forwardTransports carry requests to dynamic_forward_proxy clusters: one
// keep-alive http.Transport per cluster, whose connections are keyed by the
// request's authority (the URL host the router sets) and dialed to the
// address the cluster's DNS cache resolved for it. cluster/httppool pools
// per cluster host picked by the balancer, which a forward proxy does not
// use: the request names its host.
type forwardTransports struct {
	mu sync.Mutex
	ts map[*cluster.Cluster]*http.Transport
}

func (f *forwardTransports) get(cl *cluster.Cluster) *http.Transport {
	f.mu.Lock()
	defer f.mu.Unlock()
	if tr, ok := f.ts[cl]; ok {
		return tr
	}
	if f.ts == nil {
		f.ts = map[*cluster.Cluster]*http.Transport{}
	}
	tr := &http.Transport{
		MaxIdleConnsPerHost: 32,
		IdleConnTimeout:     time.Minute,
		DialContext: func(ctx context.Context, _, addr string) (net.Conn, error) {
			h, err := cl.ResolveHost(ctx, addr)
			if err != nil {
				return nil, err
			}
			if st := httpfilter.FromContext(ctx); st != nil {
				st.UpstreamHost = h.DialAddress()
			}
			return cl.Dial(ctx, h)
		},
	}
	f.ts[cl] = tr
	return tr
}

func (f *forwardTransports) close() {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, tr := range f.ts {
		tr.CloseIdleConnections()
	}
	f.ts = nil
}
