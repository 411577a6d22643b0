package xds

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"sync"

	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	rpcstatus "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
)

// deltaMethods are the incremental methods by stream name.
var deltaMethods = map[string]string{
	"ads": "/envoy.service.discovery.v3.AggregatedDiscoveryService/DeltaAggregatedResources",
	"cds": "/envoy.service.cluster.v3.ClusterDiscoveryService/DeltaClusters",
	"lds": "/envoy.service.listener.v3.ListenerDiscoveryService/DeltaListeners",
	"eds": "/envoy.service.endpoint.v3.EndpointDiscoveryService/DeltaEndpoints",
	"rds": "/envoy.service.route.v3.RouteDiscoveryService/DeltaRoutes",
}

// deltaOnce runs one incremental stream until it fails. A reconnect sends
// the versions of the resources held (initial_resource_versions), so the
// server sends only what changed. It reports whether a response arrived.
func (s *stream) deltaOnce(ctx context.Context, c *Client) (bool, error) {
	conn, err := s.dial(c)
	if err != nil {
		return false, err
	}
	defer conn.Close()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	cs, err := conn.NewStream(ctx, &grpc.StreamDesc{ServerStreams: true, ClientStreams: true}, deltaMethods[s.name])
	if err != nil {
		return false, err
	}
	cs = s.limit(cs, c)
	c.connected(true)
	defer c.connected(false)
	var mu sync.Mutex                   // one sender at a time; guards subscribed
	subscribed := map[string][]string{} // non-wildcard types: names asked for
	started := map[string]bool{}
	// subscribe sends a type's first request, or the change of its names.
	subscribe := func(t string) error {
		names := c.names(t)
		if handler(t).Wildcard {
			if started[t] {
				return nil
			}
			started[t] = true
			return cs.SendMsg(&discoveryv3.DeltaDiscoveryRequest{Node: c.node, TypeUrl: t,
				InitialResourceVersions: c.versions(t)})
		}
		old := subscribed[t]
		var add, del []string
		for _, n := range names {
			if !slices.Contains(old, n) {
				add = append(add, n)
			}
		}
		for _, n := range old {
			if !slices.Contains(names, n) {
				del = append(del, n)
			}
		}
		if len(add) == 0 && len(del) == 0 {
			return nil
		}
		subscribed[t] = names
		req := &discoveryv3.DeltaDiscoveryRequest{Node: c.node, TypeUrl: t,
			ResourceNamesSubscribe: add, ResourceNamesUnsubscribe: del}
		if !started[t] {
			started[t] = true
			vs := c.versions(t)
			req.InitialResourceVersions = map[string]string{}
			for _, n := range add {
				if v, ok := vs[n]; ok {
					req.InitialResourceVersions[n] = v
				}
			}
		}
		return cs.SendMsg(req)
	}
	mu.Lock()
	for _, t := range s.types {
		if err := subscribe(t); err != nil {
			mu.Unlock()
			return false, err
		}
	}
	mu.Unlock()
	changed, stop := c.watch()
	defer stop()
	go func() {
		for {
			select {
			case <-ctx.Done():
				return
			case <-changed:
				mu.Lock()
				for _, t := range s.types {
					if !handler(t).Wildcard && subscribe(t) != nil {
						cancel()
					}
				}
				mu.Unlock()
			}
		}
	}()
	got := false
	for {
		resp := new(discoveryv3.DeltaDiscoveryResponse)
		if err := cs.RecvMsg(resp); err != nil {
			if errors.Is(err, io.EOF) {
				err = errStreamDone
			}
			return got, err
		}
		got = true
		t := resp.GetTypeUrl()
		uerr := c.applyDelta(t, resp, slices.Contains(s.types, t))
		req := &discoveryv3.DeltaDiscoveryRequest{TypeUrl: t, ResponseNonce: resp.GetNonce()}
		if uerr != nil {
			req.ErrorDetail = &rpcstatus.Status{Code: int32(codes.InvalidArgument), Message: uerr.Error()}
		}
		mu.Lock()
		err := cs.SendMsg(req)
		mu.Unlock()
		if err != nil {
			return got, err
		}
	}
}

// applyDelta turns an incremental response into an update and applies it.
func (c *Client) applyDelta(t string, resp *discoveryv3.DeltaDiscoveryResponse, asked bool) error {
	if !asked {
		return errors.New("type " + t + " was not asked for on this stream")
	}
	h := handler(t)
	u := &update{typeURL: t, version: resp.GetSystemVersionInfo(), removed: resp.GetRemovedResources(),
		resources: make(map[string]resource, len(resp.GetResources()))}
	for i, r := range resp.GetResources() {
		if r.GetResource() == nil {
			continue // a name the server does not have: nothing to add
		}
		m, err := decodeOne(t, r.GetResource())
		if err != nil {
			return fmt.Errorf("resources[%d]: %v", i, err)
		}
		name := r.GetName()
		if name == "" {
			name = h.Name(m)
		}
		u.resources[name] = resource{msg: m, version: r.GetVersion()}
	}
	err := c.apply(u)
	c.markFetched(t)
	return err
}
