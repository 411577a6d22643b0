package xds

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	bootstrapv3 "github.com/envoyproxy/go-control-plane/envoy/config/bootstrap/v3"
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
	rdsNames []string // route configurations asked of ADS
	sdsNames []string // secrets asked of ADS
	secrets  secretStore
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
	rds      map[string]*subStats // by stat_prefix NUL route_config_name
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
		eds: map[string]*subStats{}, rds: map[string]*subStats{}, cp: newControlPlaneStats(o.Stats),
		ready: make(chan struct{}), pending: map[string]bool{}}
	p, err := c.plan()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", o.File, err)
	}
	c.p = p
	c.rdsNames = c.wantedRoutes(c.res) // static listeners' routes
	c.sdsNames = c.wantedSecrets(c.res)
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

// Run starts the subscriptions of the bootstrap's dynamic_resources and
// returns when ctx ends and every stream has stopped.
func (c *Client) Run(ctx context.Context) error {
	return c.p.run(ctx, c)
}

// SetBootstrap replaces the bootstrap whose static resources the client
// merges and dumps (a static bootstrap reloaded from its file).
func (c *Client) SetBootstrap(bs *bootstrapv3.Bootstrap) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.o.Bootstrap = bs
	c.started = time.Now()
}
