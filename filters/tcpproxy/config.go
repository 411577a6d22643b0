package tcpproxy

import (
	"time"

	"github.com/sluice-proxy/sluice/config"
)

// Config is tcp_proxy's typed config, after Envoy's TcpProxy message.
type Config struct {
	// StatPrefix names the stats: tcp.<stat_prefix>.*. Required.
	StatPrefix string `yaml:"stat_prefix" json:"stat_prefix"`
	// Cluster is the upstream cluster. Exactly one of Cluster and
	// WeightedClusters is set (an observer may still choose another cluster
	// per connection, e.g. postgres_proxy routing by database).
	Cluster string `yaml:"cluster" json:"cluster,omitempty"`
	// WeightedClusters spreads connections over clusters by weight.
	WeightedClusters *WeightedClusters `yaml:"weighted_clusters" json:"weighted_clusters,omitempty"`
	// IdleTimeout closes a connection with no bytes in either direction for
	// this long. Default 1h (Envoy's); 0s disables it.
	IdleTimeout config.Duration `yaml:"idle_timeout" json:"idle_timeout"`
	// MaxConnectAttempts is how many upstream connects are tried, each to a
	// freshly picked host. Default 1.
	MaxConnectAttempts int `yaml:"max_connect_attempts" json:"max_connect_attempts"`
	// MaxDownstreamConnectionDuration closes connections older than this.
	// Zero (default) means no limit.
	MaxDownstreamConnectionDuration config.Duration `yaml:"max_downstream_connection_duration" json:"max_downstream_connection_duration,omitempty"`
	// HashPolicy gives hash balancers (ring_hash, maglev) a key; only
	// source_ip is defined for TCP, as in Envoy.
	HashPolicy []HashPolicy `yaml:"hash_policy" json:"hash_policy,omitempty"`
}

// WeightedClusters is Envoy's weighted_clusters.
type WeightedClusters struct {
	Clusters []WeightedCluster `yaml:"clusters" json:"clusters"`
}

// WeightedCluster is one cluster and its share.
type WeightedCluster struct {
	Name   string `yaml:"name" json:"name"`
	Weight uint32 `yaml:"weight" json:"weight"`
}

// HashPolicy is one hash key source.
type HashPolicy struct {
	// SourceIP hashes the downstream IP address.
	SourceIP *struct{} `yaml:"source_ip" json:"source_ip,omitempty"`
}

// NewConfig returns a config with Envoy's defaults.
func NewConfig() *Config {
	return &Config{IdleTimeout: config.Duration(time.Hour), MaxConnectAttempts: 1}
}

// Validate checks the config.
func (c *Config) Validate(path string, errs *config.Errors) {
	if c.StatPrefix == "" {
		errs.Add(config.Join(path, "stat_prefix"), "required")
	}
	switch {
	case c.Cluster != "" && c.WeightedClusters != nil:
		errs.Add(path, "give either cluster or weighted_clusters, not both")
	case c.Cluster == "" && c.WeightedClusters == nil:
		errs.Add(config.Join(path, "cluster"), "required (or weighted_clusters)")
	}
	if c.WeightedClusters != nil {
		p := config.Join(path, "weighted_clusters.clusters")
		if len(c.WeightedClusters.Clusters) == 0 {
			errs.Add(p, "needs at least one cluster")
		}
		for i, wc := range c.WeightedClusters.Clusters {
			if wc.Name == "" {
				errs.Add(config.Join(config.Index(p, i), "name"), "required")
			}
			if wc.Weight == 0 {
				errs.Add(config.Join(config.Index(p, i), "weight"), "must be positive")
			}
		}
	}
	if c.MaxConnectAttempts < 1 {
		errs.Add(config.Join(path, "max_connect_attempts"), "must be at least 1")
	}
	for i, h := range c.HashPolicy {
		if h.SourceIP == nil {
			errs.Add(config.Index(config.Join(path, "hash_policy"), i), "a hash policy needs source_ip: {}")
		}
	}
}

// ClusterRefs names the clusters the config uses, for the loader's check.
func (c *Config) ClusterRefs(path string) []config.ClusterRef {
	if c.Cluster != "" {
		return []config.ClusterRef{{Path: config.Join(path, "cluster"), Name: c.Cluster}}
	}
	var out []config.ClusterRef
	if c.WeightedClusters != nil {
		for i, wc := range c.WeightedClusters.Clusters {
			out = append(out, config.ClusterRef{
				Path: config.Join(config.Index(config.Join(path, "weighted_clusters.clusters"), i), "name"), Name: wc.Name})
		}
	}
	return out
}
