package xds

import (
	"context"
	"errors"
	"io"
	"strings"
	"sync"

	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	rpcstatus "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
)

// sotwMethods are the State of the World methods by stream name.
var sotwMethods = map[string]string{
	"ads": "/envoy.service.discovery.v3.AggregatedDiscoveryService/StreamAggregatedResources",
	"cds": "/envoy.service.cluster.v3.ClusterDiscoveryService/StreamClusters",
	"lds": "/envoy.service.listener.v3.ListenerDiscoveryService/StreamListeners",
	"eds": "/envoy.service.endpoint.v3.EndpointDiscoveryService/StreamEndpoints",
	"rds": "/envoy.service.route.v3.RouteDiscoveryService/StreamRoutes",
}

// sotwState is one type's protocol state on a stream.
type sotwState struct {
	version string // last accepted version_info
	nonce   string // last response's nonce
	sent    bool   // a request went out on this stream
	names   string // the names last asked for (non-wildcard types)
}

// sotwOnce runs one State of the World stream until it fails. It reports
// whether a response arrived.
func (s *stream) sotwOnce(ctx context.Context, c *Client) (bool, error) {
	conn, err := s.dial(c)
	if err != nil {
		return false, err
	}
	defer conn.Close()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	cs, err := conn.NewStream(ctx, &grpc.StreamDesc{ServerStreams: true, ClientStreams: true}, sotwMethods[s.name])
	if err != nil {
		return false, err
	}
	cs = s.limit(cs, c)
	c.connected(true)
	defer c.connected(false)
	var mu sync.Mutex // one sender at a time; guards states
	states := map[string]*sotwState{}
	for _, t := range s.types {
		states[t] = &sotwState{version: c.lastVersion(t)}
	}
	send := func(t string, detail error) error {
		st := states[t]
		names := c.names(t)
		if !handler(t).Wildcard && len(names) == 0 {
			return nil // no EDS cluster yet: an empty list would be a wildcard
		}
		req := &discoveryv3.DiscoveryRequest{VersionInfo: st.version, Node: c.node, ResourceNames: names,
			TypeUrl: t, ResponseNonce: st.nonce}
		if detail != nil {
			req.ErrorDetail = &rpcstatus.Status{Code: int32(codes.InvalidArgument), Message: detail.Error()}
		}
		st.sent = true
		st.names = strings.Join(names, "\x00")
		return cs.SendMsg(req)
	}
	mu.Lock()
	for _, t := range s.types {
		if err := send(t, nil); err != nil {
			mu.Unlock()
			return false, err
		}
	}
	mu.Unlock()
	// EDS names change when clusters do: ask again with the new list.
	changed, stop := c.watch()
	defer stop()
	go func() {
		for {
			select {
			case <-ctx.Done():
				return
			case <-changed:
				// EDS or RDS names changed: ask again for those types
				// whose list differs from the one last sent.
				mu.Lock()
				for t, st := range states {
					if handler(t).Wildcard || strings.Join(c.names(t), "\x00") == st.names {
						continue
					}
					if err := send(t, nil); err != nil {
						cancel()
						break
					}
				}
				mu.Unlock()
			}
		}
	}()
	got := false
	for {
		resp := new(discoveryv3.DiscoveryResponse)
		if err := cs.RecvMsg(resp); err != nil {
			if errors.Is(err, io.EOF) {
				err = errStreamDone
			}
			return got, err
		}
		got = true
		t := resp.GetTypeUrl()
		var uerr error
		msgs, err := decode(t, resp.GetResources())
		if err == nil && states[t] == nil {
			err = errors.New("type " + t + " was not asked for on this stream")
		}
		if err != nil {
			uerr = err
		} else {
			u := &update{typeURL: t, version: resp.GetVersionInfo(), full: handler(t).FullState,
				resources: make(map[string]resource, len(msgs))}
			h := handler(t)
			for _, m := range msgs {
				u.resources[h.Name(m)] = resource{msg: m, version: resp.GetVersionInfo()}
			}
			uerr = c.apply(u)
			if uerr == nil {
				c.setLastVersion(t, resp.GetVersionInfo())
			}
			c.markFetched(t)
		}
		if states[t] == nil {
			continue
		}
		mu.Lock()
		st := states[t]
		st.nonce = resp.GetNonce()
		if uerr == nil {
			st.version = resp.GetVersionInfo()
		}
		err = send(t, uerr)
		mu.Unlock()
		if err != nil {
			return got, err
		}
	}
}
