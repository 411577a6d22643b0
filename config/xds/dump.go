package xds

import (
	"fmt"
	"strings"

	adminv3 "github.com/envoyproxy/go-control-plane/envoy/admin/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/sluice-proxy/sluice/config"
	"github.com/sluice-proxy/sluice/config/envoy"
)

// ConfigDump renders Envoy's /config_dump from the Envoy resources sluice
// holds: the bootstrap (BootstrapConfigDump), its static and the received
// dynamic clusters and listeners (ClustersConfigDump, ListenersConfigDump,
// with version_info and last_updated), the route configurations and
// secrets received (RoutesConfigDump, SecretsConfigDump, private keys
// redacted) and, with includeEDS, the endpoints
// (EndpointsConfigDump). resource, when set, lists the elements of that
// repeated field of the dumps instead ("dynamic_active_clusters"); mask
// keeps only the comma-separated field paths of each entry (Envoy's
// FieldMask). It returns protojson, Envoy's admin output.
func (c *Client) ConfigDump(resource, mask string, includeEDS bool) ([]byte, error) {
	dumps := c.dumps(includeEDS)
	var out []proto.Message
	if resource == "" {
		for _, d := range dumps {
			out = append(out, d)
		}
	} else {
		found := false
		for _, d := range dumps {
			m := d.ProtoReflect()
			fd := m.Descriptor().Fields().ByName(protoreflect.Name(resource))
			if fd == nil || !fd.IsList() || fd.Kind() != protoreflect.MessageKind {
				continue
			}
			found = true
			l := m.Get(fd).List()
			for i := 0; i < l.Len(); i++ {
				out = append(out, l.Get(i).Message().Interface())
			}
		}
		if !found {
			return nil, fmt.Errorf("resource %q: no repeated field of that name in the config dumps", resource)
		}
	}
	var paths [][]string
	if mask != "" {
		for _, p := range strings.Split(mask, ",") {
			paths = append(paths, strings.Split(strings.TrimSpace(p), "."))
		}
	}
	cd := &adminv3.ConfigDump{}
	for _, m := range out {
		if paths != nil {
			m = proto.Clone(m)
			prune(m.ProtoReflect(), paths)
		}
		a, err := anypb.New(m)
		if err != nil {
			return nil, err
		}
		cd.Configs = append(cd.Configs, a)
	}
	return protojson.MarshalOptions{Multiline: true, Indent: "  ", UseProtoNames: true}.Marshal(cd)
}

// prune clears every field of m outside paths (each a field path split at
// dots); a message field named by a path prefix is pruned in turn, through
// an Any's content as Envoy does ("cluster.name").
func prune(m protoreflect.Message, paths [][]string) {
	if a, ok := m.Interface().(*anypb.Any); ok {
		inner, err := a.UnmarshalNew()
		if err != nil {
			return
		}
		prune(inner.ProtoReflect(), paths)
		if b, err := anypb.New(inner); err == nil {
			a.Value = b.Value
		}
		return
	}
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		var sub [][]string
		keep := false
		for _, p := range paths {
			if p[0] != string(fd.Name()) {
				continue
			}
			if len(p) == 1 {
				keep = true
				break
			}
			sub = append(sub, p[1:])
		}
		switch {
		case keep:
		case sub == nil || fd.Kind() != protoreflect.MessageKind || fd.IsMap():
			m.Clear(fd)
		case fd.IsList():
			l := v.List()
			for i := 0; i < l.Len(); i++ {
				prune(l.Get(i).Message(), sub)
			}
		default:
			prune(v.Message(), sub)
		}
		return true
	})
}

// dumps builds the config dump messages in Envoy's order.
func (c *Client) dumps(includeEDS bool) []proto.Message {
	c.mu.Lock()
	defer c.mu.Unlock()
	var started *timestamppb.Timestamp
	if !c.started.IsZero() {
		started = timestamppb.New(c.started)
	}
	bs := &adminv3.BootstrapConfigDump{Bootstrap: c.o.Bootstrap, LastUpdated: started}
	cl := &adminv3.ClustersConfigDump{VersionInfo: c.lastVer[ClusterType]}
	ls := &adminv3.ListenersConfigDump{VersionInfo: c.lastVer[ListenerType]}
	ep := &adminv3.EndpointsConfigDump{}
	for _, x := range c.o.Bootstrap.GetStaticResources().GetClusters() {
		cl.StaticClusters = append(cl.StaticClusters, &adminv3.ClustersConfigDump_StaticCluster{Cluster: pack(x), LastUpdated: started})
		if x.GetLoadAssignment() != nil {
			ep.StaticEndpointConfigs = append(ep.StaticEndpointConfigs, &adminv3.EndpointsConfigDump_StaticEndpointConfig{
				EndpointConfig: pack(x.GetLoadAssignment()), LastUpdated: started})
		}
	}
	for _, x := range c.o.Bootstrap.GetStaticResources().GetListeners() {
		ls.StaticListeners = append(ls.StaticListeners, &adminv3.ListenersConfigDump_StaticListener{Listener: pack(x), LastUpdated: started})
	}
	for _, n := range sortedKeys(c.res[ClusterType]) {
		r := c.res[ClusterType][n]
		d := &adminv3.ClustersConfigDump_DynamicCluster{VersionInfo: r.version, Cluster: pack(r.msg),
			LastUpdated: timestamppb.New(r.updated)}
		if c.applied == nil || c.applied.Cluster(n) == nil {
			cl.DynamicWarmingClusters = append(cl.DynamicWarmingClusters, d)
		} else {
			cl.DynamicActiveClusters = append(cl.DynamicActiveClusters, d)
		}
	}
	for _, n := range sortedKeys(c.res[ListenerType]) {
		r := c.res[ListenerType][n]
		st := &adminv3.ListenersConfigDump_DynamicListenerState{VersionInfo: r.version, Listener: pack(r.msg),
			LastUpdated: timestamppb.New(r.updated)}
		dl := &adminv3.ListenersConfigDump_DynamicListener{Name: n}
		if c.active[n] == r.msg.(*listenerv3.Listener) {
			dl.ActiveState = st
		} else {
			dl.WarmingState = st
			if prev := c.active[n]; prev != nil {
				dl.ActiveState = &adminv3.ListenersConfigDump_DynamicListenerState{Listener: pack(prev)}
			}
		}
		ls.DynamicListeners = append(ls.DynamicListeners, dl)
	}
	for _, n := range sortedKeys(c.res[EndpointType]) {
		r := c.res[EndpointType][n]
		ep.DynamicEndpointConfigs = append(ep.DynamicEndpointConfigs, &adminv3.EndpointsConfigDump_DynamicEndpointConfig{
			VersionInfo: r.version, EndpointConfig: pack(r.msg), LastUpdated: timestamppb.New(r.updated)})
	}
	out := []proto.Message{bs, cl, ls}
	if len(c.res[RouteType]) > 0 { // RDS received (rds.go)
		rd := &adminv3.RoutesConfigDump{}
		for _, n := range sortedKeys(c.res[RouteType]) {
			r := c.res[RouteType][n]
			rd.DynamicRouteConfigs = append(rd.DynamicRouteConfigs, &adminv3.RoutesConfigDump_DynamicRouteConfig{
				VersionInfo: r.version, RouteConfig: pack(r.msg), LastUpdated: timestamppb.New(r.updated)})
		}
		out = append(out, rd)
	}
	if len(c.res[SecretType]) > 0 { // SDS received (sds.go); keys redacted as Envoy does
		sd := &adminv3.SecretsConfigDump{}
		for _, n := range sortedKeys(c.res[SecretType]) {
			r := c.res[SecretType][n]
			sd.DynamicActiveSecrets = append(sd.DynamicActiveSecrets, &adminv3.SecretsConfigDump_DynamicSecret{
				Name: n, VersionInfo: r.version, Secret: pack(redact(r.msg.(*tlsv3.Secret))), LastUpdated: timestamppb.New(r.updated)})
		}
		out = append(out, sd)
	}
	if includeEDS {
		out = append(out, ep)
	}
	return out
}

// redact returns a copy of a secret without its private material, shown
// as Envoy's admin shows it: "[redacted]".
func redact(s *tlsv3.Secret) *tlsv3.Secret {
	s = proto.Clone(s).(*tlsv3.Secret)
	red := func() *corev3.DataSource {
		return &corev3.DataSource{Specifier: &corev3.DataSource_InlineString{InlineString: "[redacted]"}}
	}
	if tc := s.GetTlsCertificate(); tc != nil {
		if tc.PrivateKey != nil {
			tc.PrivateKey = red()
		}
		if tc.Password != nil {
			tc.Password = red()
		}
	}
	if g := s.GetGenericSecret(); g != nil && g.Secret != nil {
		g.Secret = red()
	}
	if k := s.GetSessionTicketKeys(); k != nil {
		for i := range k.Keys {
			k.Keys[i] = red()
		}
	}
	return s
}

func pack(m proto.Message) *anypb.Any {
	a, err := anypb.New(m)
	if err != nil {
		panic(err) // every message here is a generated Envoy type
	}
	return a
}

// StaticConfigDump renders Envoy's /config_dump for a config that has no
// Envoy bootstrap behind it (sluice's own format), converted with
// envoy.ToBootstrap. It reports false when the config uses what Envoy's
// form cannot carry (the admin then shows sluice's own view).
func StaticConfigDump(cfg *config.Config, field, mask string, includeEDS bool) ([]byte, bool, error) {
	bs, err := envoy.ToBootstrap(cfg)
	if err != nil {
		return nil, false, nil
	}
	c := &Client{o: Options{Bootstrap: bs}, res: map[string]map[string]resource{}, lastVer: map[string]string{}}
	b, err := c.ConfigDump(field, mask, includeEDS)
	return b, true, err
}
