package xds

import (
	"context"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	bootstrapv3 "github.com/envoyproxy/go-control-plane/envoy/config/bootstrap/v3"
	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	"google.golang.org/protobuf/proto"

	"github.com/sluice-proxy/sluice/cluster"
	"github.com/sluice-proxy/sluice/config"
	"github.com/sluice-proxy/sluice/internal/guard"
	"github.com/sluice-proxy/sluice/stats"
)

// Applier is the server the client drives; *proxy.Server is one. Apply
// runs a whole config; ApplyClusters runs one whose listeners are the
// running ones and reports false, doing nothing, otherwise.
type Applier interface {
	Apply(cfg *config.Config) error
	ApplyClusters(cfg *config.Config) (bool, error)
}

// Options configure a Client. File, Bootstrap, Server, Clusters and Stats
// are required.
type Options struct {
	// File is the bootstrap's file name: errors name it and relative paths
	// in resources resolve against its directory.
	File string
	// Bootstrap is the decoded bootstrap (envoy.Decode): its static
	// resources, dynamic_resources and node.
	Bootstrap *bootstrapv3.Bootstrap
	// Server applies each new config.
	Server Applier
	// Clusters holds the management server's cluster (an envoy_grpc
	// cluster_name of the bootstrap's static clusters).
	Clusters *cluster.Manager
	// Stats is the root scope (control_plane.*, cluster_manager.cds.*...).
	Stats *stats.Scope
	// Log gets connection changes, refusals and warnings; nil discards.
	Log *slog.Logger
	// NodeID and NodeCluster, when set, replace the bootstrap's node.id and
	// node.cluster (Envoy's --service-node and --service-cluster).
	NodeID, NodeCluster string
	// BackoffBase and BackoffMax bound the reconnect delay: exponential from
	// the base, each delay drawn at random up to the bound (full jitter).
	// Defaults 500ms and 30s, Envoy's.
	BackoffBase, BackoffMax time.Duration
	// FileInterval is how often path_config_source files are read. Default
	// 1s (sluice's -watch-interval).
	FileInterval time.Duration
}

// resource is one resource received, as Envoy's proto.
type resource struct {
	msg     proto.Message
	version string
	updated time.Time // when it was accepted (config_dump's last_updated)
}

// Client keeps the resources a control plane or files sent, merges them
// with the static ones and applies the result. Its methods are safe for
// concurrent use; updates are applied one at a time.
type Client struct {
	o       Options
	p       *plan
	started time.Time
	node    *corev3.Node
	log     *slog.Logger

	mu       sync.Mutex
	res      map[string]map[string]resource // type URL → name → resource
	active   map[string]*listenerv3.Listener
	applied  *config.Config
	warmed   map[string]time.Time // EDS cluster → when it began to wait for endpoints
	expired  map[string]bool      // EDS clusters whose initial fetch timed out
	edsNames []string
	watchers []chan struct{}
	warned   map[string]bool
	timers   []*time.Timer
	lastVer  map[string]string // type → last accepted version_info (State of the World)
	stopped  bool

	streamsOpen atomic.Int64
	files       edsFiles        // dynamic clusters' EDS files
	staticFiles map[string]bool // files the plan reads itself

	cds, lds *subStats
	eds      map[string]*subStats
	cp       *controlPlaneStats
	guard    *guard.Guard // server.contained_panics

	readyOnce sync.Once
	ready     chan struct{}
	pending   map[string]bool // wildcard types awaiting their first update
}

// New returns a client for the bootstrap's dynamic_resources. Run starts it.
func New(o Options) (*Client, error) {
	if o.Bootstrap == nil || o.Server == nil || o.Clusters == nil || o.Stats == nil {
		return nil, fmt.Errorf("xds: Bootstrap, Server, Clusters and Stats are required")
	}
	if o.BackoffBase <= 0 {
		o.BackoffBase = 500 * time.Millisecond
	}
	if o.BackoffMax <= 0 {
		o.BackoffMax = 30 * time.Second
	}
	if o.FileInterval <= 0 {
		o.FileInterval = time.Second
	}
	log := o.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	node := proto.Clone(o.Bootstrap.GetNode()).(*corev3.Node)
	if node == nil {
		node = &corev3.Node{}
	}
	if o.NodeID != "" {
		node.Id = o.NodeID
	}
	if o.NodeCluster != "" {
		node.Cluster = o.NodeCluster
	}
	node.UserAgentName = "sluice"
	c := &Client{o: o, node: node, started: time.Now(),
		guard: &guard.Guard{Log: log, Panics: o.Stats.Sub("server").Counter("contained_panics")}, log: log.With("component", "xds"),
		res: map[string]map[string]resource{}, active: map[string]*listenerv3.Listener{},
		warmed: map[string]time.Time{}, expired: map[string]bool{}, warned: map[string]bool{}, lastVer: map[string]string{},
		cds: typeStats(o.Stats, ClusterType), lds: typeStats(o.Stats, ListenerType),
		eds: map[string]*subStats{}, cp: newControlPlaneStats(o.Stats),
		ready: make(chan struct{}), pending: map[string]bool{}}
	p, err := c.plan()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", o.File, err)
	}
	c.p = p
	return c, nil
}

// Dynamic reports whether the bootstrap asks for anything dynamic: a
// stream or a watched file. Run has nothing to do otherwise.
func (c *Client) Dynamic() bool { return len(c.p.streams)+len(c.p.files) > 0 }

// Node returns the node identity sent to the control plane.
func (c *Client) Node() *corev3.Node { return c.node }

// Ready is closed once every wildcard subscription (LDS, CDS) had its first
// update, accepted or refused, or its initial_fetch_timeout passed.
func (c *Client) Ready() <-chan struct{} { return c.ready }

func (c *Client) markFetched(typeURL string) {
	c.mu.Lock()
	delete(c.pending, typeURL)
	done := len(c.pending) == 0
	c.mu.Unlock()
	if done {
		c.readyOnce.Do(func() { close(c.ready) })
	}
}

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
		err = c.build(cand)
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
// clusters held) and tells the streams when they changed. c.mu is held.
func (c *Client) resubscribe() {
	names := c.wantedEDS(c.res)
	if strings.Join(names, "\x00") == strings.Join(c.edsNames, "\x00") {
		return
	}
	c.edsNames = names
	for _, w := range c.watchers {
		select {
		case w <- struct{}{}:
		default:
		}
	}
}

// names returns what a stream subscribes to for typeURL: nil for a
// wildcard type, else the EDS names.
func (c *Client) names(typeURL string) []string {
	if h := handler(typeURL); h != nil && h.Wildcard {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
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

// Run starts the subscriptions of the bootstrap's dynamic_resources and
// returns when ctx ends and every stream has stopped.
func (c *Client) Run(ctx context.Context) error {
	return c.p.run(ctx, c)
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

// SetBootstrap replaces the bootstrap whose static resources the client
// merges and dumps (a static bootstrap reloaded from its file).
func (c *Client) SetBootstrap(bs *bootstrapv3.Bootstrap) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.o.Bootstrap = bs
	c.started = time.Now()
}
