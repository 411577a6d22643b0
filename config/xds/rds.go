package xds

import (
	"fmt"
	"sort"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
)

// RouteType is Envoy's type URL of a route configuration (RDS).
const RouteType = "type.googleapis.com/envoy.config.route.v3.RouteConfiguration"

func init() {
	Register(TypeHandler{TypeURL: RouteType, Short: "rds",
		New:  func() proto.Message { return new(routev3.RouteConfiguration) },
		Name: func(m proto.Message) string { return m.(*routev3.RouteConfiguration).GetName() }})
}

// RDS is served by inlining: a listener whose http_connection_manager has
// `rds` with an `ads` or `path_config_source` config source is given the RouteConfiguration
// received under that name as its `route_config` before the loader reads
// it, so that a route configuration from the control plane is checked and
// translated exactly as an inline one. A listener waits (warms) until
// every route configuration it names arrived; a route update changes the
// listener's translated config, which the server applies as a listener
// update (its socket kept).

// hcmOf decodes a filter's http_connection_manager, nil for another filter.
func hcmOf(f *listenerv3.Filter) *hcmv3.HttpConnectionManager {
	tc := f.GetTypedConfig()
	if tc == nil || tc.GetTypeUrl() != "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager" {
		return nil
	}
	h := new(hcmv3.HttpConnectionManager)
	if tc.UnmarshalTo(h) != nil {
		return nil // the loader reports it
	}
	return h
}

// chains returns every filter chain of a listener, the default one last.
func chains(l *listenerv3.Listener) []*listenerv3.FilterChain {
	out := append([]*listenerv3.FilterChain(nil), l.GetFilterChains()...)
	if d := l.GetDefaultFilterChain(); d != nil {
		out = append(out, d)
	}
	return out
}

// dynamicRds reports whether an http_connection_manager's routes come from
// the client: over ADS, a per-type RDS stream (api_config_source) or from
// a path_config_source file.
func dynamicRds(h *hcmv3.HttpConnectionManager) bool {
	cs := h.GetRds().GetConfigSource()
	return cs.GetAds() != nil || cs.GetPathConfigSource() != nil || cs.GetApiConfigSource() != nil
}

// routeNames returns the route configuration names a listener waits for.
func routeNames(l *listenerv3.Listener) []string {
	var out []string
	for _, fc := range chains(l) {
		for _, f := range fc.GetFilters() {
			if h := hcmOf(f); h != nil && dynamicRds(h) {
				out = append(out, h.GetRds().GetRouteConfigName())
			}
		}
	}
	return out
}

// apiRouteNames returns the route configuration names a listener asks of
// a per-type RDS stream (rds_stream.go).
func apiRouteNames(l *listenerv3.Listener) []string {
	var out []string
	for _, fc := range chains(l) {
		for _, f := range fc.GetFilters() {
			if h := hcmOf(f); h != nil && h.GetRds().GetConfigSource().GetApiConfigSource() != nil {
				out = append(out, h.GetRds().GetRouteConfigName())
			}
		}
	}
	return out
}

// adsRouteNames returns the route configuration names a listener asks of ADS.
func adsRouteNames(l *listenerv3.Listener) []string {
	var out []string
	for _, fc := range chains(l) {
		for _, f := range fc.GetFilters() {
			if h := hcmOf(f); h != nil && h.GetRds().GetConfigSource().GetAds() != nil {
				out = append(out, h.GetRds().GetRouteConfigName())
			}
		}
	}
	return out
}

// rdsFiles returns the path_config_source files of a listener's routes.
func rdsFiles(l *listenerv3.Listener) []*corev3.PathConfigSource {
	var out []*corev3.PathConfigSource
	for _, fc := range chains(l) {
		for _, f := range fc.GetFilters() {
			if h := hcmOf(f); h != nil {
				if pcs := h.GetRds().GetConfigSource().GetPathConfigSource(); pcs != nil {
					out = append(out, pcs)
				}
			}
		}
	}
	return out
}

// routesReady reports whether every route configuration l names is held.
func routesReady(l *listenerv3.Listener, routes map[string]resource) bool {
	for _, n := range routeNames(l) {
		if _, ok := routes[n]; !ok {
			return false
		}
	}
	return true
}

// inlineRoutes returns l with each ADS `rds` replaced by the route
// configuration held, and where each one went (the path inside the
// listener of its route_config → its name) so that a problem in it is
// reported against the RouteConfiguration. l itself is not changed.
func inlineRoutes(l *listenerv3.Listener, routes map[string]resource) (*listenerv3.Listener, map[string]string) {
	if len(routeNames(l)) == 0 {
		return l, nil
	}
	l = proto.Clone(l).(*listenerv3.Listener)
	at := map[string]string{}
	inline := func(prefix string, fc *listenerv3.FilterChain) {
		for j, f := range fc.GetFilters() {
			h := hcmOf(f)
			if h == nil || !dynamicRds(h) {
				continue
			}
			name := h.GetRds().GetRouteConfigName()
			r, ok := routes[name]
			if !ok {
				continue
			}
			h.RouteSpecifier = &hcmv3.HttpConnectionManager_RouteConfig{RouteConfig: r.msg.(*routev3.RouteConfiguration)}
			a, err := anypb.New(h)
			if err != nil {
				continue
			}
			f.ConfigType = &listenerv3.Filter_TypedConfig{TypedConfig: a}
			at[fmt.Sprintf("%sfilters[%d].typed_config.route_config", prefix, j)] = name
		}
	}
	for i, fc := range l.GetFilterChains() {
		inline(fmt.Sprintf("filter_chains[%d].", i), fc)
	}
	if d := l.GetDefaultFilterChain(); d != nil {
		inline("default_filter_chain.", d)
	}
	return l, at
}

// wantedRoutes is the sorted set of route configuration names the static
// and dynamic listeners ask of ADS.
func (c *Client) wantedRoutes(res map[string]map[string]resource) []string {
	seen := map[string]bool{}
	// One name list serves ADS and the per-type RDS stream: a plan has
	// at most one route source of each kind, and a control plane answers
	// for the names it has.
	for _, l := range c.o.Bootstrap.GetStaticResources().GetListeners() {
		for _, n := range append(adsRouteNames(l), apiRouteNames(l)...) {
			seen[n] = true
		}
	}
	for _, r := range res[ListenerType] {
		l := r.msg.(*listenerv3.Listener)
		for _, n := range append(adsRouteNames(l), apiRouteNames(l)...) {
			seen[n] = true
		}
	}
	out := make([]string, 0, len(seen))
	for n := range seen {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// rdsStats returns the stats an RDS update moves, Envoy's
// http.<stat_prefix>.rds.<route_config_name>.* of each
// http_connection_manager naming one of the updated route configurations.
// c.mu is held.
func (c *Client) rdsStats(u *update) []*subStats {
	names := map[string]bool{}
	for n := range u.resources {
		names[n] = true
	}
	for _, n := range u.removed {
		names[n] = true
	}
	ls := append([]*listenerv3.Listener(nil), c.o.Bootstrap.GetStaticResources().GetListeners()...)
	for _, r := range c.res[ListenerType] {
		ls = append(ls, r.msg.(*listenerv3.Listener))
	}
	seen := map[string]bool{}
	var out []*subStats
	for _, l := range ls {
		for _, fc := range chains(l) {
			for _, f := range fc.GetFilters() {
				h := hcmOf(f)
				if h == nil || !dynamicRds(h) || !names[h.GetRds().GetRouteConfigName()] {
					continue
				}
				key := h.GetStatPrefix() + "\x00" + h.GetRds().GetRouteConfigName()
				if seen[key] {
					continue
				}
				seen[key] = true
				st := c.rds[key]
				if st == nil {
					st = newSubStats(c.o.Stats.Sub("http").Sub(h.GetStatPrefix()).Sub("rds").Sub(h.GetRds().GetRouteConfigName()))
					c.rds[key] = st
				}
				out = append(out, st)
			}
		}
	}
	return out
}
