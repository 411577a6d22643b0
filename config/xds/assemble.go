package xds

import (
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	bootstrapv3 "github.com/envoyproxy/go-control-plane/envoy/config/bootstrap/v3"
	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	"google.golang.org/protobuf/proto"

	"github.com/sluice-proxy/sluice/config"
	"github.com/sluice-proxy/sluice/config/envoy"
)

// origin says where an entry of the assembled static_resources came from.
type origin struct {
	kind string // "Listener", "Cluster"; "" for the bootstrap's own
	name string
	cla  string // the ClusterLoadAssignment merged into a cluster
	// routes: the RouteConfigurations inlined into a listener, by the
	// path of their route_config inside it.
	routes map[string]string
}

// assembly is one attempt at a merged bootstrap.
type assembly struct {
	bs        *bootstrapv3.Bootstrap
	clusters  []origin
	listeners []origin
}

// assemble merges the static resources with cand's into one bootstrap and
// translates it. Warming follows Envoy: an EDS cluster without its
// endpoints is left out until they come (or its initial fetch timed out);
// a dynamic listener naming a cluster not in use is left out too, its
// previous version (if any) serving meanwhile; a cluster removed while a
// running listener still names it stays until that listener changes.
func (c *Client) assemble(cand map[string]map[string]resource) (*config.Config, map[string]*listenerv3.Listener, error) {
	clusters := sortedMsgs[*clusterv3.Cluster](cand[ClusterType])
	var inUse []*clusterv3.Cluster
	now := time.Now()
	for _, cl := range clusters {
		if cl.GetType() != clusterv3.Cluster_EDS {
			inUse = append(inUse, cl)
			continue
		}
		if r, ok := cand[EndpointType][serviceName(cl)]; ok {
			cl = proto.Clone(cl).(*clusterv3.Cluster)
			cl.LoadAssignment = r.msg.(*endpointv3.ClusterLoadAssignment)
			inUse = append(inUse, cl)
			delete(c.warmed, cl.GetName())
			continue
		}
		if c.expired[cl.GetName()] {
			inUse = append(inUse, cl) // no endpoints: its initial fetch timed out
			continue
		}
		if _, ok := c.warmed[cl.GetName()]; !ok {
			c.warmed[cl.GetName()] = now
			c.startWarmTimer(cl)
		}
	}
	listeners := map[string]*listenerv3.Listener{}
	noADS := c.o.Bootstrap.GetDynamicResources().GetAdsConfig() == nil
	for n, r := range cand[ListenerType] {
		l := r.msg.(*listenerv3.Listener)
		if noADS && len(adsRouteNames(l))+len(listenerSecrets(l)) > 0 {
			// It would warm forever: refuse it with the reason instead.
			return nil, nil, fmt.Errorf("Listener %q: its rds or sds_config names ads, and the bootstrap has no dynamic_resources.ads_config", n)
		}
		if !listenerReady(l, cand) {
			// Warming until its route configurations and secrets arrive:
			// the previous version, if any (and ready), serves meanwhile.
			if prev := c.active[n]; prev != nil && listenerReady(prev, cand) {
				listeners[n] = prev
			}
			continue
		}
		listeners[n] = l
	}
	retained := map[string]*clusterv3.Cluster{}
	dropped := map[string]bool{}
	for pass := 0; ; pass++ {
		a := c.merge(inUse, retained, listeners, cand[EndpointType], cand[RouteType])
		cfg, warns, err := envoy.FromBootstrap(c.o.File, a.bs)
		if err == nil {
			c.warn(warns)
			// Listeners come from LDS: a response without any is the
			// control plane's (or the file's) explicit word, as in Envoy.
			cfg.AllowNoListeners = cfg.AllowNoListeners || c.o.Bootstrap.GetDynamicResources().GetLdsConfig() != nil
			return cfg, listeners, nil
		}
		var errs *config.Errors
		if !errors.As(err, &errs) || pass > 3 {
			return nil, nil, a.explain(err)
		}
		changed := false
		for _, fe := range errs.List {
			o, _ := a.at(fe.Path)
			name, dangling := danglingCluster(fe.Msg)
			if o.kind != "Listener" || !dangling {
				continue
			}
			if old := c.appliedCluster(name); old != nil && retained[name] == nil && !dropped[o.name] {
				retained[name] = old // the running listener keeps its cluster
				changed = true
				continue
			}
			prev := c.active[o.name]
			switch {
			case prev != nil && listeners[o.name] != prev:
				listeners[o.name] = prev // warming: the previous version serves
			case listeners[o.name] != nil && !dropped[o.name]:
				delete(listeners, o.name) // warming: not started yet
				dropped[o.name] = true
			default:
				continue
			}
			changed = true
		}
		if !changed {
			return nil, nil, a.explain(err)
		}
	}
}

// merge builds the bootstrap of one assembly attempt.
func (c *Client) merge(inUse []*clusterv3.Cluster, retained map[string]*clusterv3.Cluster, listeners map[string]*listenerv3.Listener, eds, routes map[string]resource) *assembly {
	base := c.o.Bootstrap
	bs := &bootstrapv3.Bootstrap{Admin: base.GetAdmin(), StaticResources: &bootstrapv3.Bootstrap_StaticResources{}}
	a := &assembly{bs: bs}
	sr := bs.StaticResources
	for _, cl := range base.GetStaticResources().GetClusters() {
		o := origin{}
		if r, ok := eds[serviceName(cl)]; ok && cl.GetType() == clusterv3.Cluster_EDS {
			// A static EDS cluster: in use from the start, its endpoints
			// come when they come.
			cl = proto.Clone(cl).(*clusterv3.Cluster)
			cl.LoadAssignment = r.msg.(*endpointv3.ClusterLoadAssignment)
			o = origin{kind: "Cluster", name: cl.GetName(), cla: serviceName(cl)}
		}
		sr.Clusters = append(sr.Clusters, cl)
		a.clusters = append(a.clusters, o)
	}
	for _, l := range base.GetStaticResources().GetListeners() {
		if !routesReady(l, routes) || !secretsReady(l, c.secrets.cur) {
			continue // warming: its route configurations or secrets have not come yet
		}
		l, at := inlineRoutes(l, routes)
		sr.Listeners = append(sr.Listeners, l)
		a.listeners = append(a.listeners, origin{routes: at})
	}
	have := map[string]bool{}
	for _, cl := range inUse {
		have[cl.GetName()] = true
		sr.Clusters = append(sr.Clusters, cl)
		o := origin{kind: "Cluster", name: cl.GetName()}
		if cl.GetType() == clusterv3.Cluster_EDS && cl.LoadAssignment != nil {
			o.cla = serviceName(cl)
		}
		a.clusters = append(a.clusters, o)
	}
	for _, n := range sortedKeys(retained) {
		if !have[n] {
			sr.Clusters = append(sr.Clusters, retained[n])
			a.clusters = append(a.clusters, origin{kind: "Cluster", name: n})
		}
	}
	for _, n := range sortedKeys(listeners) {
		l, at := inlineRoutes(listeners[n], routes)
		sr.Listeners = append(sr.Listeners, l)
		a.listeners = append(a.listeners, origin{kind: "Listener", name: n, routes: at})
	}
	return a
}

var resPath = regexp.MustCompile(`^static_resources\.(clusters|listeners)\[(\d+)\]\.?(.*)$`)

// at returns the origin of an Envoy path of the assembled bootstrap and the
// path inside that resource.
func (a *assembly) at(path string) (origin, string) {
	m := resPath.FindStringSubmatch(path)
	if m == nil {
		return origin{}, path
	}
	i, _ := strconv.Atoi(m[2])
	list := a.clusters
	if m[1] == "listeners" {
		list = a.listeners
	}
	if i >= len(list) {
		return origin{}, path
	}
	return list[i], m[3]
}

// explain renders the translation's problems one per line, each naming
// the resource it is in and the field path inside it:
// `Cluster "users": lb_policy: ...`,
// `ClusterLoadAssignment "users": endpoints[0].priority: ...`.
func (a *assembly) explain(err error) error {
	var errs *config.Errors
	if !errors.As(err, &errs) {
		return err
	}
	var lines []string
	for _, fe := range errs.List {
		o, rest := a.at(fe.Path)
		if rc, in := o.route(rest); rc != "" {
			lines = append(lines, fmt.Sprintf("RouteConfiguration %q: %s: %s", rc, in, fe.Msg))
			continue
		}
		switch {
		case o.kind == "":
			lines = append(lines, fmt.Sprintf("%s: %s", fe.Path, fe.Msg))
		case o.cla != "" && strings.HasPrefix(rest, "load_assignment"):
			rest = strings.TrimPrefix(strings.TrimPrefix(rest, "load_assignment"), ".")
			lines = append(lines, fmt.Sprintf("ClusterLoadAssignment %q: %s: %s", o.cla, rest, fe.Msg))
		default:
			lines = append(lines, fmt.Sprintf("%s %q: %s: %s", o.kind, o.name, rest, fe.Msg))
		}
	}
	return errors.New(strings.Join(lines, "\n"))
}

// route returns the RouteConfiguration a path inside a listener is in and
// the path inside it; "" when it is in none.
func (o origin) route(rest string) (string, string) {
	for prefix, name := range o.routes {
		if rest == prefix {
			return name, "(root)"
		}
		if strings.HasPrefix(rest, prefix+".") {
			return name, strings.TrimPrefix(rest, prefix+".")
		}
	}
	return "", ""
}

var danglingRE = regexp.MustCompile(`^no such cluster ("(?:[^"\\]|\\.)*")`)

// danglingCluster reads config's "no such cluster" problem.
func danglingCluster(msg string) (string, bool) {
	m := danglingRE.FindStringSubmatch(msg)
	if m == nil {
		return "", false
	}
	n, err := strconv.Unquote(m[1])
	return n, err == nil
}

// appliedCluster returns the running dynamic cluster of that name, as
// received; nil when it is not running (a warming one).
func (c *Client) appliedCluster(name string) *clusterv3.Cluster {
	r, ok := c.res[ClusterType][name]
	if !ok || c.applied == nil || c.applied.Cluster(name) == nil {
		return nil
	}
	cl := r.msg.(*clusterv3.Cluster)
	if cl.GetType() == clusterv3.Cluster_EDS {
		if e, ok := c.res[EndpointType][serviceName(cl)]; ok {
			cl = proto.Clone(cl).(*clusterv3.Cluster)
			cl.LoadAssignment = e.msg.(*endpointv3.ClusterLoadAssignment)
		}
	}
	return cl
}

// warn logs each loader warning once.
func (c *Client) warn(warns []string) {
	for _, w := range warns {
		if !c.warned[w] {
			c.warned[w] = true
			c.log.Warn(w)
		}
	}
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func sortedMsgs[T proto.Message](m map[string]resource) []T {
	out := make([]T, 0, len(m))
	for _, k := range sortedKeys(m) {
		out = append(out, m[k].msg.(T))
	}
	return out
}
