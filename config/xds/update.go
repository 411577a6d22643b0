package xds

import (
	"fmt"
	"time"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	"google.golang.org/protobuf/proto"

	"github.com/sluice-proxy/sluice/internal/guard"
)

// update is one response's change to a type's resources.
type update struct {
	typeURL string
	version string
	// full: resources is the complete set (State of the World of a
	// full-state type); else resources are added or changed and removed
	// names deleted.
	full      bool
	resources map[string]resource
	removed   []string
}

// apply validates, translates and applies u against the other types'
// current resources. On any problem nothing changes and the error, one
// line per problem naming the resource and field, is returned for a NACK.
func (c *Client) apply(u *update) (err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	defer func() {
		// A bug in a translation costs that update (NACKed), not the process.
		if v := recover(); v != nil {
			p := guard.Recovered(v)
			c.guard.Contain(p, "xDS update", "type", u.typeURL, "version", u.version)
			for _, s := range c.statsFor(u) {
				s.rejected.Inc()
			}
			err = fmt.Errorf("internal error while applying the update: %v", p.Value)
		}
	}()
	st := c.statsFor(u)
	for _, s := range st {
		s.attempt.Inc()
	}
	start := time.Now()
	cand := make(map[string]map[string]resource, len(c.res)+1)
	for t, m := range c.res {
		cand[t] = m
	}
	next := map[string]resource{}
	if !u.full {
		for n, r := range c.res[u.typeURL] {
			next[n] = r
		}
	}
	for _, n := range u.removed {
		delete(next, n)
	}
	for n, r := range u.resources {
		next[n] = r
	}
	cand[u.typeURL] = next
	if unchanged(c.res[u.typeURL], next) {
		// A State of the World response repeats what is held when another
		// type changed (a new snapshot version): nothing to translate.
	} else if cfg, fast, ferr := c.fastEDS(u); fast {
		err = ferr
		if err == nil {
			var ok bool
			if ok, err = c.o.Server.ApplyClusters(cfg); ok && err == nil {
				c.applied = cfg
			} else if err == nil {
				err = c.build(cand)
			}
		}
	} else {
		// TLS contexts built by this update read its secrets (sds.go).
		c.secrets.set(cand[SecretType])
		err = c.build(cand)
		if err != nil {
			c.secrets.set(c.res[SecretType])
		}
	}
	took := time.Since(start)
	for _, s := range st {
		if err != nil {
			s.rejected.Inc()
			continue
		}
		s.accepted(u.version, took)
		if len(u.resources) == 0 && len(u.removed) == 0 {
			s.empty.Inc()
		}
	}
	if err != nil {
		c.log.Warn("xDS update refused; the running config keeps serving", "type", u.typeURL, "version", u.version, "err", err)
		return err
	}
	now := time.Now()
	for n, r := range u.resources {
		r.updated = now
		next[n] = r
	}
	c.res = cand
	c.reconcileFiles()
	c.log.Info("xDS update applied", "type", u.typeURL, "version", u.version, "resources", len(next), "took", took)
	c.resubscribe()
	return nil
}

// unchanged reports whether next holds the same resources as cur.
func unchanged(cur, next map[string]resource) bool {
	if len(cur) != len(next) {
		return false
	}
	for n, r := range next {
		o, ok := cur[n]
		if !ok || (o.msg != r.msg && !proto.Equal(o.msg, r.msg)) {
			return false
		}
	}
	return true
}

// statsFor returns the stats an update moves: CDS's or LDS's, or those of
// every EDS cluster whose service the update names.
func (c *Client) statsFor(u *update) []*subStats {
	switch u.typeURL {
	case ClusterType:
		return []*subStats{c.cds}
	case ListenerType:
		return []*subStats{c.lds}
	case RouteType:
		return c.rdsStats(u)
	case EndpointType:
		names := map[string]bool{}
		for n := range u.resources {
			names[n] = true
		}
		for _, n := range u.removed {
			names[n] = true
		}
		var out []*subStats
		clusters := append([]*clusterv3.Cluster(nil), c.o.Bootstrap.GetStaticResources().GetClusters()...)
		for _, r := range c.res[ClusterType] {
			clusters = append(clusters, r.msg.(*clusterv3.Cluster))
		}
		for _, cl := range clusters {
			if cl.GetType() == clusterv3.Cluster_EDS && names[serviceName(cl)] {
				s := c.eds[cl.GetName()]
				if s == nil {
					s = edsStats(c.o.Stats, cl.GetName())
					c.eds[cl.GetName()] = s
				}
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

// build assembles, translates and applies the config of cand; on success
// the listeners and config applied are remembered.
func (c *Client) build(cand map[string]map[string]resource) error {
	cfg, active, err := c.assemble(cand)
	if err != nil {
		return err
	}
	ok, err := c.o.Server.ApplyClusters(cfg)
	if err == nil && !ok {
		err = c.o.Server.Apply(cfg)
	}
	if err != nil {
		return err
	}
	c.active, c.applied = active, cfg
	return nil
}
