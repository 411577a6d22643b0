package xds

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	bootstrapv3 "github.com/envoyproxy/go-control-plane/envoy/config/bootstrap/v3"
	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
)

// plan is what the bootstrap's dynamic_resources ask for: gRPC streams
// (one ADS stream, or one per type) and watched files.
type plan struct {
	streams []*stream
	files   []*fileSource
	// fetch is each wildcard type's initial_fetch_timeout.
	fetch map[string]time.Duration
}

// plan reads dynamic_resources. Problems name the bootstrap path.
func (c *Client) plan() (*plan, error) {
	dr := c.o.Bootstrap.GetDynamicResources()
	p := &plan{fetch: map[string]time.Duration{}}
	var ads *stream
	if a := dr.GetAdsConfig(); a != nil {
		s, err := newStream("ads", a, "dynamic_resources.ads_config")
		if err != nil {
			return nil, err
		}
		ads = s
	}
	var edsVia, ldsVia *stream
	for _, src := range []struct {
		typeURL, path string
		cs            *corev3.ConfigSource
	}{{ClusterType, "dynamic_resources.cds_config", dr.GetCdsConfig()},
		{ListenerType, "dynamic_resources.lds_config", dr.GetLdsConfig()}} {
		cs := src.cs
		if cs == nil {
			continue
		}
		p.fetch[src.typeURL] = initialFetchTimeout(cs)
		var via *stream
		switch {
		case cs.GetAds() != nil:
			if ads == nil {
				return nil, fmt.Errorf("%s.ads: dynamic_resources.ads_config is required for it", src.path)
			}
			via = ads
		case cs.GetApiConfigSource() != nil:
			s, err := newStream(handler(src.typeURL).Short, cs.GetApiConfigSource(), src.path+".api_config_source")
			if err != nil {
				return nil, err
			}
			p.streams = append(p.streams, s)
			via = s
		case cs.GetPathConfigSource() != nil:
			p.files = append(p.files, newFileSource(src.typeURL, cs.GetPathConfigSource(), c.o.File))
		default:
			return nil, fmt.Errorf("%s: give ads, api_config_source or path_config_source", src.path)
		}
		if via != nil {
			via.types = append(via.types, src.typeURL)
		}
		if src.typeURL == ClusterType {
			edsVia = via
		} else {
			ldsVia = via
		}
	}
	// EDS goes the way CDS does: over ADS, or a stream of its own to CDS's
	// management server.
	switch {
	case edsVia == nil:
	case edsVia == ads:
		ads.types = append(ads.types, EndpointType)
	default:
		e := *edsVia
		e.name, e.types = "eds", []string{EndpointType}
		e.bucket = nil // a stream of its own: its own bucket
		p.streams = append(p.streams, &e)
	}
	// Static EDS clusters: their eds_config says where endpoints come from.
	files := map[string]bool{}
	for i, cl := range c.o.Bootstrap.GetStaticResources().GetClusters() {
		if cl.GetType() != clusterv3.Cluster_EDS {
			continue
		}
		path := fmt.Sprintf("static_resources.clusters[%d].eds_cluster_config.eds_config", i)
		cs := cl.GetEdsClusterConfig().GetEdsConfig()
		switch {
		case cs.GetPathConfigSource() != nil:
			f := newFileSource(EndpointType, cs.GetPathConfigSource(), c.o.File)
			if !files[f.path] {
				files[f.path] = true
				p.files = append(p.files, f)
			}
		case cs.GetAds() != nil:
			if ads == nil {
				return nil, fmt.Errorf("%s.ads: dynamic_resources.ads_config is required for it", path)
			}
			if !slices.Contains(ads.types, EndpointType) {
				ads.types = append(ads.types, EndpointType)
			}
		case cs.GetApiConfigSource() != nil:
			if !hasType(p.streams, EndpointType) {
				s, err := newStream("eds", cs.GetApiConfigSource(), path+".api_config_source")
				if err != nil {
					return nil, err
				}
				s.types = []string{EndpointType}
				p.streams = append(p.streams, s)
			}
		default:
			return nil, fmt.Errorf("%s: give ads, api_config_source or path_config_source", path)
		}
	}
	// RDS: listeners whose http_connection_manager names an `ads` route
	// config source get it over the ADS stream (rds.go).
	if ads != nil {
		ads.types = append(ads.types, RouteType, SecretType) // and SDS (sds.go)
	}
	if err := c.planRDS(p, ldsVia); err != nil {
		return nil, err
	}
	if ads != nil && len(ads.types) > 0 {
		p.streams = append([]*stream{ads}, p.streams...)
	}
	static := map[string]bool{}
	for _, cl := range c.o.Bootstrap.GetStaticResources().GetClusters() {
		static[cl.GetName()] = true
	}
	for _, s := range p.streams {
		if !static[s.cluster] {
			return nil, fmt.Errorf("%s: envoy_grpc.cluster_name %q is not a static cluster of the bootstrap", s.path, s.cluster)
		}
	}
	return p, nil
}

func hasType(streams []*stream, t string) bool {
	for _, s := range streams {
		if slices.Contains(s.types, t) {
			return true
		}
	}
	return false
}

// Check reports the problems of a bootstrap's dynamic_resources that the
// loader's tables leave to the client (api_type, transport version, the
// gRPC service and its cluster), as New does: sluice validate runs it.
func Check(file string, bs *bootstrapv3.Bootstrap) error {
	c := &Client{o: Options{File: file, Bootstrap: bs}}
	if _, err := c.plan(); err != nil {
		return fmt.Errorf("%s: %w", file, err)
	}
	return nil
}

// run starts the streams and file watchers and waits for ctx's end.
func (p *plan) run(ctx context.Context, c *Client) error {
	c.mu.Lock()
	for t := range p.fetch {
		c.pending[t] = true
	}
	c.mu.Unlock()
	if len(p.fetch) == 0 {
		c.readyOnce.Do(func() { close(c.ready) })
	}
	var timers []*time.Timer
	for t, d := range p.fetch {
		if d <= 0 {
			continue
		}
		timers = append(timers, time.AfterFunc(d, func() {
			c.mu.Lock()
			waiting := c.pending[t]
			c.mu.Unlock()
			if waiting {
				typeStats(c.o.Stats, t).initTimeout.Inc()
				c.log.Warn("initial fetch timed out; starting without it", "type", t)
				c.markFetched(t)
			}
		}))
	}
	var wg sync.WaitGroup
	c.mu.Lock()
	c.staticFiles = map[string]bool{}
	for _, f := range p.files {
		c.staticFiles[f.path] = true
	}
	c.files = edsFiles{ctx: ctx, wg: &wg, running: map[string]context.CancelFunc{}}
	c.reconcileFiles()
	c.mu.Unlock()
	for _, s := range p.streams {
		wg.Add(1)
		go func() { defer wg.Done(); s.run(ctx, c) }()
	}
	for _, f := range p.files {
		wg.Add(1)
		go func() { defer wg.Done(); f.run(ctx, c) }()
	}
	<-ctx.Done()
	c.mu.Lock()
	c.files.stopped = true // no watcher starts after this
	c.mu.Unlock()
	wg.Wait()
	for _, t := range timers {
		t.Stop()
	}
	c.stopTimers()
	return nil
}
