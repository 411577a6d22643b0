package redis

import (
	"fmt"
	"time"

	"github.com/sluice-proxy/sluice/config"
	"github.com/sluice-proxy/sluice/tracing"
)

// Config is redis_proxy's typed config, after Envoy's RedisProxy message.
type Config struct {
	// StatPrefix names the stats: redis.<stat_prefix>.*. Required.
	StatPrefix string `yaml:"stat_prefix" json:"stat_prefix"`
	// Settings are the connection pool settings (Envoy's ConnPoolSettings).
	Settings Settings `yaml:"settings" json:"settings"`
	// PrefixRoutes maps key prefixes to clusters. Required.
	PrefixRoutes PrefixRoutes `yaml:"prefix_routes" json:"prefix_routes"`
	// DownstreamAuthPassword, when set, makes clients AUTH before any command.
	DownstreamAuthPassword string `yaml:"downstream_auth_password" json:"downstream_auth_password,omitempty"`
	// DownstreamAuthUsername, with the password, requires the ACL form
	// AUTH <username> <password>.
	DownstreamAuthUsername string `yaml:"downstream_auth_username" json:"downstream_auth_username,omitempty"`
	// UpstreamAuth holds credentials per cluster name, sent with AUTH on
	// every new upstream connection to a host of that cluster.
	UpstreamAuth map[string]Credentials `yaml:"upstream_auth" json:"upstream_auth,omitempty"`
	// PubsubRoute is the cluster whose first host serves SUBSCRIBE and
	// PSUBSCRIBE (and PUBLISH, so that both meet). Empty means the catch-all
	// route's cluster.
	PubsubRoute string `yaml:"pubsub_route" json:"pubsub_route,omitempty"`
	// Tracing emits a span per command (sluice's; tracing.go).
	Tracing *tracing.StatementConfig `yaml:"tracing" json:"tracing,omitempty"`
}

// Credentials authenticate to an upstream Redis.
type Credentials struct {
	// Username is optional (ACL form when set).
	Username string `yaml:"username" json:"username,omitempty"`
	Password string `yaml:"password" json:"password"`
}

// Settings are Envoy's ConnPoolSettings plus sluice's pool size.
type Settings struct {
	// OpTimeout bounds each request: when an upstream connection has
	// requests in flight and no reply for this long, it is closed and its
	// requests fail. Required, as in Envoy.
	OpTimeout config.Duration `yaml:"op_timeout" json:"op_timeout"`
	// EnableHashtagging hashes only the {tag} part of keys.
	EnableHashtagging bool `yaml:"enable_hashtagging" json:"enable_hashtagging"`
	// EnableRedirection follows MOVED and ASK replies.
	EnableRedirection bool `yaml:"enable_redirection" json:"enable_redirection"`
	// EnableCommandStats is Envoy's switch for per-cluster
	// cluster.<name>.redis_cluster.upstream_commands.<cmd>.total|success|
	// failure|latency and upstream_commands.upstream_rq_time (microseconds). The
	// filter-level command.<cmd>.* are always counted, as in Envoy.
	EnableCommandStats bool `yaml:"enable_command_stats" json:"enable_command_stats"`
	// ReadPolicy picks the node of a redis_cluster shard for read commands:
	// master (default), prefer_master, replica, prefer_replica, any.
	ReadPolicy string `yaml:"read_policy" json:"read_policy"`
	// MaxBufferSizeBeforeFlush holds upstream writes until this many bytes
	// are queued or BufferFlushTimeout passes. 0 (default) writes at once;
	// writes are batched anyway while a write is in progress.
	MaxBufferSizeBeforeFlush int `yaml:"max_buffer_size_before_flush" json:"max_buffer_size_before_flush"`
	// BufferFlushTimeout is the longest a write is held. Default 3ms.
	BufferFlushTimeout config.Duration `yaml:"buffer_flush_timeout" json:"buffer_flush_timeout"`
	// MaxUpstreamConnectionsPerHost is the size of each host's shared pool
	// of multiplexed connections. Default 1.
	MaxUpstreamConnectionsPerHost int `yaml:"max_upstream_connections_per_host" json:"max_upstream_connections_per_host"`
	// MaxPendingPerClient caps the commands of one client in flight; the
	// proxy stops reading from the client when it is reached. Default 1024.
	MaxPendingPerClient int `yaml:"max_pending_per_client" json:"max_pending_per_client"`
	// RequestTimeout bounds how long a client may take to send one command
	// once its first bytes arrived (Envoy's request_timeout of the HTTP
	// connection manager, for RESP): a partial command still incomplete
	// after this long closes the connection (downstream_rq_timeout). It
	// covers a large value streamed through too (timed from when it may
	// start to flow: waiting for the shared connection is not counted).
	// Idle clients between commands are not timed. Default 10s; 0 disables.
	RequestTimeout config.Duration `yaml:"request_timeout" json:"request_timeout"`
}

// PrefixRoutes is Envoy's PrefixRoutes.
type PrefixRoutes struct {
	Routes []Route `yaml:"routes" json:"routes,omitempty"`
	// CaseInsensitive matches prefixes ignoring ASCII case.
	CaseInsensitive bool `yaml:"case_insensitive" json:"case_insensitive"`
	// CatchAllRoute serves keys no prefix matches.
	CatchAllRoute *Route `yaml:"catch_all_route" json:"catch_all_route,omitempty"`
}

// Route sends keys with Prefix to Cluster.
type Route struct {
	Prefix string `yaml:"prefix" json:"prefix,omitempty"`
	// RemovePrefix strips Prefix from keys before they are sent.
	RemovePrefix bool   `yaml:"remove_prefix" json:"remove_prefix,omitempty"`
	Cluster      string `yaml:"cluster" json:"cluster"`
	// RequestMirrorPolicy copies requests to other clusters; their replies
	// are ignored.
	RequestMirrorPolicy []MirrorPolicy `yaml:"request_mirror_policy" json:"request_mirror_policy,omitempty"`
}

// MirrorPolicy is one mirror of a route.
type MirrorPolicy struct {
	Cluster string `yaml:"cluster" json:"cluster"`
	// ExcludeReadCommands mirrors only writes.
	ExcludeReadCommands bool `yaml:"exclude_read_commands" json:"exclude_read_commands"`
}

// SetDefaults fills the defaults of Settings.
func (s *Settings) SetDefaults() {
	s.ReadPolicy = "master"
	s.BufferFlushTimeout = config.Duration(3 * time.Millisecond)
	s.MaxUpstreamConnectionsPerHost = 1
	s.MaxPendingPerClient = 1024
	s.RequestTimeout = config.Duration(10 * time.Second)
}

// NewConfig returns a config with its defaults.
func NewConfig() *Config {
	c := &Config{}
	c.Settings.SetDefaults()
	return c
}

var readPolicies = map[string]bool{"master": true, "prefer_master": true, "replica": true, "prefer_replica": true, "any": true}

// Validate checks the settings.
func (s *Settings) Validate(path string, errs *config.Errors) {
	if s.OpTimeout <= 0 {
		errs.Add(config.Join(path, "op_timeout"), "required and positive")
	}
	if !readPolicies[s.ReadPolicy] {
		errs.Add(config.Join(path, "read_policy"), "unknown read_policy %q (known: master, prefer_master, replica, prefer_replica, any)", s.ReadPolicy)
	}
	if s.MaxBufferSizeBeforeFlush < 0 {
		errs.Add(config.Join(path, "max_buffer_size_before_flush"), "must not be negative")
	}
	if s.MaxBufferSizeBeforeFlush > 0 && s.BufferFlushTimeout <= 0 {
		errs.Add(config.Join(path, "buffer_flush_timeout"), "must be positive")
	}
	if s.MaxUpstreamConnectionsPerHost < 1 || s.MaxUpstreamConnectionsPerHost > 64 {
		errs.Add(config.Join(path, "max_upstream_connections_per_host"), "must be 1..64, got %d", s.MaxUpstreamConnectionsPerHost)
	}
	if s.MaxPendingPerClient < 1 || s.MaxPendingPerClient > 1<<16 {
		errs.Add(config.Join(path, "max_pending_per_client"), "must be 1..65536, got %d", s.MaxPendingPerClient)
	}
}

// Validate checks the config.
func (c *Config) Validate(path string, errs *config.Errors) {
	if c.StatPrefix == "" {
		errs.Add(config.Join(path, "stat_prefix"), "required")
	}
	pr := config.Join(path, "prefix_routes")
	if len(c.PrefixRoutes.Routes) == 0 && c.PrefixRoutes.CatchAllRoute == nil {
		errs.Add(pr, "needs routes or a catch_all_route")
	}
	seen := map[string]bool{}
	for i, r := range c.PrefixRoutes.Routes {
		p := config.Index(config.Join(pr, "routes"), i)
		key := r.Prefix
		if c.PrefixRoutes.CaseInsensitive {
			key = string(lower([]byte(key)))
		}
		if seen[key] {
			errs.Add(config.Join(p, "prefix"), "prefix %q given twice", r.Prefix)
		}
		seen[key] = true
		r.validate(p, errs)
	}
	if ca := c.PrefixRoutes.CatchAllRoute; ca != nil {
		p := config.Join(pr, "catch_all_route")
		if ca.Prefix != "" || ca.RemovePrefix {
			errs.Add(p, "a catch_all_route has no prefix")
		}
		ca.validate(p, errs)
	}
	if c.DownstreamAuthUsername != "" && c.DownstreamAuthPassword == "" {
		errs.Add(config.Join(path, "downstream_auth_password"), "required with downstream_auth_username")
	}
	if c.Tracing != nil {
		c.Tracing.Validate(config.Join(path, "tracing"), errs)
	}
	for name, cr := range c.UpstreamAuth {
		if cr.Password == "" {
			errs.Add(config.Join(config.Join(path, "upstream_auth"), name)+".password", "required")
		}
	}
}

func (r *Route) validate(path string, errs *config.Errors) {
	if r.Cluster == "" {
		errs.Add(config.Join(path, "cluster"), "required")
	}
	for i, m := range r.RequestMirrorPolicy {
		if m.Cluster == "" {
			errs.Add(config.Join(config.Index(config.Join(path, "request_mirror_policy"), i), "cluster"), "required")
		}
	}
}

// ClusterRefs names the clusters the config uses, for the loader's check.
func (c *Config) ClusterRefs(path string) []config.ClusterRef {
	var out []config.ClusterRef
	add := func(r *Route, p string) {
		out = append(out, config.ClusterRef{Path: config.Join(p, "cluster"), Name: r.Cluster, Check: hashesKeys})
		for i, m := range r.RequestMirrorPolicy {
			out = append(out, config.ClusterRef{Check: hashesKeys,
				Path: config.Join(config.Index(config.Join(p, "request_mirror_policy"), i), "cluster"), Name: m.Cluster})
		}
	}
	pr := config.Join(path, "prefix_routes")
	for i := range c.PrefixRoutes.Routes {
		add(&c.PrefixRoutes.Routes[i], config.Index(config.Join(pr, "routes"), i))
	}
	if c.PrefixRoutes.CatchAllRoute != nil {
		add(c.PrefixRoutes.CatchAllRoute, config.Join(pr, "catch_all_route"))
	}
	if c.PubsubRoute != "" {
		out = append(out, config.ClusterRef{Path: config.Join(path, "pubsub_route"), Name: c.PubsubRoute, Check: hashesKeys})
	}
	for name := range c.UpstreamAuth {
		out = append(out, config.ClusterRef{Path: config.Join(config.Join(path, "upstream_auth"), name), Name: name})
	}
	if c.Tracing != nil {
		out = append(out, c.Tracing.ClusterRefs(config.Join(path, "tracing"))...)
	}
	return out
}

// hashesKeys refuses a cluster of several endpoints whose balancer does not
// hash keys: any other balancer would send one key to different hosts.
func hashesKeys(c *config.Cluster) string {
	if c.Type == "redis_cluster" || len(c.Endpoints) <= 1 || c.LBPolicy == "ring_hash" || c.LBPolicy == "maglev" {
		return ""
	}
	return fmt.Sprintf("lb_policy %q does not hash keys; use ring_hash or maglev (or type redis_cluster)", c.LBPolicy)
}
