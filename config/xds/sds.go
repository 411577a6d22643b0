package xds

import (
	"fmt"
	"sort"
	"sync"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	"google.golang.org/protobuf/proto"
)

// SecretType is Envoy's type URL of an SDS secret.
const SecretType = "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret"

func init() {
	Register(TypeHandler{TypeURL: SecretType, Short: "sds",
		New:  func() proto.Message { return new(tlsv3.Secret) },
		Name: func(m proto.Message) string { return m.(*tlsv3.Secret).GetName() }})
}

// SDS over ADS: the client is the tlsctx.SecretSource of the server and
// its cluster manager (proxy.Server.Secrets, cluster.Manager.Secrets).
// The names subscribed to are those the listeners' and clusters' TLS
// contexts ask of ADS; a listener warms until its secrets arrived. TLS
// contexts re-read their secrets at every refresh, so a rotated secret is
// served without rebuilding anything.

// secretStore holds the secrets a TLS context may read: the accepted ones,
// or while an update is being applied, its candidate set (a context built
// by that update must see the secrets it came with). Its own lock, since
// contexts fetch from their refresh goroutines while c.mu is held by an
// update.
type secretStore struct {
	mu  sync.RWMutex
	cur map[string]resource
}

// set installs a copy of m: the update goes on writing to its own map.
func (s *secretStore) set(m map[string]resource) {
	cp := make(map[string]resource, len(m))
	for k, v := range m {
		cp[k] = v
	}
	s.mu.Lock()
	s.cur = cp
	s.mu.Unlock()
}

// Fetch returns the named secret received over ADS (tlsctx.SecretSource).
func (c *Client) Fetch(name string) (*tlsv3.Secret, error) {
	c.secrets.mu.RLock()
	defer c.secrets.mu.RUnlock()
	r, ok := c.secrets.cur[name]
	if !ok {
		return nil, fmt.Errorf("sds: secret %q has not been received from the control plane", name)
	}
	return r.msg.(*tlsv3.Secret), nil
}

// secretNames returns the names of the ADS secrets a transport socket's
// TLS context refers to.
func secretNames(ts *corev3.TransportSocket) []string {
	a := ts.GetTypedConfig()
	if a == nil {
		return nil
	}
	var common *tlsv3.CommonTlsContext
	switch a.GetTypeUrl() {
	case "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext":
		d := new(tlsv3.DownstreamTlsContext)
		if a.UnmarshalTo(d) != nil {
			return nil
		}
		common = d.GetCommonTlsContext()
	case "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext":
		u := new(tlsv3.UpstreamTlsContext)
		if a.UnmarshalTo(u) != nil {
			return nil
		}
		common = u.GetCommonTlsContext()
	default:
		return nil
	}
	var out []string
	refs := append([]*tlsv3.SdsSecretConfig(nil), common.GetTlsCertificateSdsSecretConfigs()...)
	refs = append(refs, common.GetValidationContextSdsSecretConfig())
	for _, r := range refs {
		if r.GetSdsConfig().GetAds() != nil {
			out = append(out, r.GetName())
		}
	}
	return out
}

// listenerSecrets returns the ADS secrets a listener's filter chains use.
func listenerSecrets(l *listenerv3.Listener) []string {
	var out []string
	for _, fc := range chains(l) {
		out = append(out, secretNames(fc.GetTransportSocket())...)
	}
	return out
}

// secretsReady reports whether every ADS secret l uses is held.
func secretsReady(l *listenerv3.Listener, secrets map[string]resource) bool {
	for _, n := range listenerSecrets(l) {
		if _, ok := secrets[n]; !ok {
			return false
		}
	}
	return true
}

// listenerReady reports whether a listener's routes and secrets came.
func listenerReady(l *listenerv3.Listener, cand map[string]map[string]resource) bool {
	return routesReady(l, cand[RouteType]) && secretsReady(l, cand[SecretType])
}

// wantedSecrets is the sorted set of secret names the static and dynamic
// listeners and clusters ask of ADS.
func (c *Client) wantedSecrets(res map[string]map[string]resource) []string {
	seen := map[string]bool{}
	add := func(names []string) {
		for _, n := range names {
			seen[n] = true
		}
	}
	sr := c.o.Bootstrap.GetStaticResources()
	for _, l := range sr.GetListeners() {
		add(listenerSecrets(l))
	}
	for _, cl := range sr.GetClusters() {
		add(secretNames(cl.GetTransportSocket()))
	}
	for _, r := range res[ListenerType] {
		add(listenerSecrets(r.msg.(*listenerv3.Listener)))
	}
	for _, r := range res[ClusterType] {
		add(secretNames(r.msg.(*clusterv3.Cluster).GetTransportSocket()))
	}
	out := make([]string, 0, len(seen))
	for n := range seen {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}
