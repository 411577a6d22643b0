package xds

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"

	"github.com/sluice-proxy/sluice/config"
	"github.com/sluice-proxy/sluice/config/envoy"
)

// fastEDS builds the config of an EDS update that only moves the endpoints
// of running clusters: each ClusterLoadAssignment is checked and
// translated alone (envoy.Endpoints) and put into a copy of the running
// config, instead of translating every resource again; the common update
// (endpoints coming and going) then costs what it changes. It reports
// false when the update needs the whole assembly: a removal, or an
// assignment a warming cluster waits for.
func (c *Client) fastEDS(u *update) (*config.Config, bool, error) {
	if u.typeURL != EndpointType || c.applied == nil || len(u.removed) > 0 {
		return nil, false, nil
	}
	users := map[string][]string{} // service name → running clusters
	clusters := append([]*clusterv3.Cluster(nil), c.o.Bootstrap.GetStaticResources().GetClusters()...)
	for _, r := range c.res[ClusterType] {
		clusters = append(clusters, r.msg.(*clusterv3.Cluster))
	}
	for _, cl := range clusters {
		name := cl.GetName()
		if cl.GetType() != clusterv3.Cluster_EDS {
			continue
		}
		svc := serviceName(cl)
		if _, in := u.resources[svc]; !in {
			continue
		}
		if c.applied.Cluster(name) == nil {
			return nil, false, nil // warming: its listeners may start now
		}
		users[svc] = append(users[svc], name)
	}
	cfg := *c.applied
	cfg.Clusters = slices.Clone(c.applied.Clusters)
	idx := make(map[string]int, len(cfg.Clusters))
	for i := range cfg.Clusters {
		idx[cfg.Clusters[i].Name] = i
	}
	var lines []string
	for _, svc := range sortedKeys(u.resources) {
		if len(users[svc]) == 0 {
			continue // no cluster asks for it (yet)
		}
		eps, err := envoy.Endpoints(u.resources[svc].msg.(*endpointv3.ClusterLoadAssignment))
		if err != nil {
			var errs *config.Errors
			if !errors.As(err, &errs) {
				return nil, true, err
			}
			for _, fe := range errs.List {
				lines = append(lines, fmt.Sprintf("ClusterLoadAssignment %q: %s: %s", svc, fe.Path, fe.Msg))
			}
			continue
		}
		cla := u.resources[svc].msg.(*endpointv3.ClusterLoadAssignment)
		factor, weighted := envoy.AssignmentPolicy(cla)
		for _, name := range users[svc] {
			cl := &cfg.Clusters[idx[name]]
			cl.Endpoints = eps
			cl.OverprovisioningFactor, cl.WeightedPriorityHealth = factor, weighted
		}
	}
	if lines != nil {
		return nil, true, errors.New(strings.Join(lines, "\n"))
	}
	return &cfg, true, nil
}
