package xds

import (
	"sort"
	"strings"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
)

// watch returns a channel told when the EDS names to subscribe change.
func (c *Client) watch() (<-chan struct{}, func()) {
	ch := make(chan struct{}, 1)
	c.mu.Lock()
	c.watchers = append(c.watchers, ch)
	c.mu.Unlock()
	return ch, func() {
		c.mu.Lock()
		defer c.mu.Unlock()
		for i, w := range c.watchers {
			if w == ch {
				c.watchers = append(c.watchers[:i], c.watchers[i+1:]...)
				break
			}
		}
	}
}

// resubscribe recomputes the EDS names (the service names of the EDS
// clusters held) and the RDS names (the route configurations listeners
// ask of ADS) and tells the streams when they changed. c.mu is held.
func (c *Client) resubscribe() {
	names, routes, secrets := c.wantedEDS(c.res), c.wantedRoutes(c.res), c.wantedSecrets(c.res)
	if strings.Join(names, "\x00") == strings.Join(c.edsNames, "\x00") &&
		strings.Join(routes, "\x00") == strings.Join(c.rdsNames, "\x00") &&
		strings.Join(secrets, "\x00") == strings.Join(c.sdsNames, "\x00") {
		return
	}
	c.edsNames, c.rdsNames, c.sdsNames = names, routes, secrets
	for _, w := range c.watchers {
		select {
		case w <- struct{}{}:
		default:
		}
	}
}

// names returns what a stream subscribes to for typeURL: nil for a
// wildcard type, else the RDS or EDS names.
func (c *Client) names(typeURL string) []string {
	if h := handler(typeURL); h != nil && h.Wildcard {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	switch typeURL {
	case RouteType:
		return append([]string(nil), c.rdsNames...)
	case SecretType:
		return append([]string(nil), c.sdsNames...)
	}
	return append([]string(nil), c.edsNames...)
}

// versions returns the versions of the resources held of a type (a Delta
// stream's initial_resource_versions after a reconnect).
func (c *Client) versions(typeURL string) map[string]string {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := map[string]string{}
	for n, r := range c.res[typeURL] {
		out[n] = r.version
	}
	return out
}

func (c *Client) wantedEDS(res map[string]map[string]resource) []string {
	seen := map[string]bool{}
	var out []string
	clusters := append([]*clusterv3.Cluster(nil), c.o.Bootstrap.GetStaticResources().GetClusters()...)
	for _, r := range res[ClusterType] {
		clusters = append(clusters, r.msg.(*clusterv3.Cluster))
	}
	for _, cl := range clusters {
		if cl.GetType() != clusterv3.Cluster_EDS || cl.GetEdsClusterConfig().GetEdsConfig().GetPathConfigSource() != nil {
			continue // files are read, not subscribed to
		}
		if n := serviceName(cl); !seen[n] {
			seen[n] = true
			out = append(out, n)
		}
	}
	sort.Strings(out)
	return out
}

// serviceName is the ClusterLoadAssignment name an EDS cluster asks for.
func serviceName(cl *clusterv3.Cluster) string {
	if n := cl.GetEdsClusterConfig().GetServiceName(); n != "" {
		return n
	}
	return cl.GetName()
}

// lastVersion is the version_info a new State of the World stream sends
// for a type: the last one accepted, as Envoy does after a reconnect.
func (c *Client) lastVersion(t string) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lastVer[t]
}

func (c *Client) setLastVersion(t, v string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.lastVer[t] = v
}
