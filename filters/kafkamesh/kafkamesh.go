// Package kafkamesh is the kafka_mesh terminal filter, after Envoy's filter
// of that name: one Kafka endpoint (sluice itself, the only broker clients
// ever see) in front of several Kafka clusters, with topics routed to
// clusters by name prefix. Produce requests are split per cluster and per
// partition leader and the responses merged; Fetch and ListOffsets are routed
// per topic the same way; Metadata and FindCoordinator are answered with
// sluice as the only broker; ApiVersions is answered with what the mesh
// supports; InitProducerId is answered with a mesh producer id that maps to
// one producer id per cluster (producer.go), so idempotent producers work.
// Beyond Envoy's mesh, consumer groups work when a group's topics live in
// one cluster: group requests go to that cluster's coordinator.
//
// Upstream traffic uses franz-go's kgo client (one per cluster and acks
// setting): it keeps the broker connections, discovers coordinators and
// shards ListOffsets and OffsetFetch. Requests are decoded and re-encoded
// with kmsg. Written by hand: the splitting and merging, since neither
// franz-go nor kafka-go has a server side.
package kafkamesh

import (
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/sluice-proxy/sluice/filters"
)

// Name is the filter's config key.
const Name = "kafka_mesh"

func init() {
	filters.Register(filters.Typed(Name, filters.Terminal, NewConfig, New))
}

// Mesh is a built kafka_mesh; one per filter chain, shared by its
// connections.
type Mesh struct {
	cfg       *Config
	limit     int // the listener's per_connection_buffer_limit_bytes
	stats     *Stats
	upstreams []*upstream
	byName    map[string]*upstream
	rules     []rule // longest prefix first
	groups    []groupRule
	producers *producers

	mu      sync.Mutex
	learned map[string]*upstream // group id -> cluster, from the topics it named
}

type rule struct {
	prefix string
	up     *upstream
}

type groupRule struct {
	prefix string
	up     *upstream
}

// New builds a kafka_mesh from a validated config. Upstream clients connect
// lazily, on the first request that needs them.
func New(cfg *Config, env *filters.Env) (*Mesh, error) {
	m := &Mesh{cfg: cfg, stats: newStats(env.Stats, cfg.StatPrefix), byName: map[string]*upstream{}, limit: env.PerConnectionBufferLimit(),
		learned: map[string]*upstream{}}
	m.producers = env.Retained.Get(Name+"/"+cfg.StatPrefix, func() any { return newProducers() }).(*producers)
	for i := range cfg.UpstreamClusters {
		u := newUpstream(&cfg.UpstreamClusters[i], env.Log)
		m.upstreams = append(m.upstreams, u)
		m.byName[u.name] = u
	}
	for _, r := range cfg.ForwardingRules {
		m.rules = append(m.rules, rule{r.TopicPrefix, m.byName[r.TargetCluster]})
	}
	sort.SliceStable(m.rules, func(i, j int) bool { return len(m.rules[i].prefix) > len(m.rules[j].prefix) })
	for _, r := range cfg.GroupRouting {
		m.groups = append(m.groups, groupRule{r.GroupPrefix, m.byName[r.TargetCluster]})
	}
	sort.SliceStable(m.groups, func(i, j int) bool { return len(m.groups[i].prefix) > len(m.groups[j].prefix) })
	for _, u := range m.upstreams {
		// Build the acks=all clients now: that validates the options. A
		// failure closes the clients built before it.
		if _, err := u.client(-1); err != nil {
			m.Close()
			return nil, fmt.Errorf("kafka_mesh: upstream %s: %w", u.name, err)
		}
	}
	return m, nil
}

// route returns the cluster a topic is forwarded to, or nil.
func (m *Mesh) route(topic string) *upstream {
	for _, r := range m.rules {
		if strings.HasPrefix(topic, r.prefix) {
			return r.up
		}
	}
	return nil
}

// groupCluster returns the cluster of a consumer group: a group_routing rule,
// else the cluster its topics were seen in; topics, when given, teach it.
func (m *Mesh) groupCluster(group string, topics []string) *upstream {
	for _, r := range m.groups {
		if strings.HasPrefix(group, r.prefix) {
			return r.up
		}
	}
	var found *upstream
	for _, t := range topics {
		if u := m.route(t); u != nil {
			found = u
			break
		}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if found != nil {
		m.learned[group] = found
		return found
	}
	if u := m.learned[group]; u != nil {
		return u
	}
	if len(m.upstreams) == 1 {
		return m.upstreams[0]
	}
	return nil
}

// Close closes the upstream clients (filters.Closer): the server calls it
// once the mesh's chain set is retired and its last connection has ended.
func (m *Mesh) Close() error {
	for _, u := range m.upstreams {
		u.close()
	}
	return nil
}

var (
	_ filters.TerminalFilter = (*Mesh)(nil)
	_ filters.Closer         = (*Mesh)(nil)
)
