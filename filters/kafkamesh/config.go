package kafkamesh

import (
	"strings"

	"github.com/sluice-proxy/sluice/config"
)

// Config is kafka_mesh's typed config, after Envoy's KafkaMesh message, plus
// sluice's stat prefix and consumer-group routing.
type Config struct {
	// StatPrefix names the stats: kafka_mesh.<stat_prefix>.*. Default "mesh".
	StatPrefix string `yaml:"stat_prefix" json:"stat_prefix"`
	// AdvertisedHost and AdvertisedPort are the address clients are given
	// for the one broker the mesh pretends to be (sluice's listener).
	// Required.
	AdvertisedHost string `yaml:"advertised_host" json:"advertised_host"`
	AdvertisedPort uint32 `yaml:"advertised_port" json:"advertised_port"`
	// UpstreamClusters are the Kafka clusters behind the mesh. Required.
	UpstreamClusters []UpstreamCluster `yaml:"upstream_clusters" json:"upstream_clusters"`
	// ForwardingRules send topics to clusters by name prefix; the longest
	// matching prefix wins. A topic no rule matches is unknown to clients.
	ForwardingRules []ForwardingRule `yaml:"forwarding_rules" json:"forwarding_rules"`
	// GroupRouting sends consumer groups to clusters by group id prefix
	// (sluice). Groups no rule matches go to the cluster of the topics they
	// name in JoinGroup, OffsetCommit or OffsetFetch.
	GroupRouting []GroupRoute `yaml:"group_routing" json:"group_routing,omitempty"`
	// MaxRequestBytes bounds a request frame the mesh reads (it decodes
	// whole requests to split them). Default 16 MiB.
	MaxRequestBytes uint32 `yaml:"max_request_bytes" json:"max_request_bytes"`
}

// UpstreamCluster is one Kafka cluster behind the mesh.
type UpstreamCluster struct {
	// ClusterName is the name forwarding rules use. Required, unique.
	ClusterName string `yaml:"cluster_name" json:"cluster_name"`
	// BootstrapServers is a comma-separated host:port list. Required.
	BootstrapServers string `yaml:"bootstrap_servers" json:"bootstrap_servers"`
	// PartitionCount is the partition count of topics the mesh creates
	// when a client's Metadata request asks for auto-creation. Default 1.
	PartitionCount int32 `yaml:"partition_count" json:"partition_count"`
	// ProducerConfig is Envoy's librdkafka producer settings. The mesh
	// forwards the clients' record batches as they are rather than
	// re-producing them, so only client.id, request.timeout.ms and the TLS
	// properties (security.protocol, ssl.ca.location,
	// ssl.certificate.location, ssl.key.location,
	// ssl.endpoint.identification.algorithm,
	// enable.ssl.certificate.verification) apply.
	ProducerConfig map[string]string `yaml:"producer_config" json:"producer_config,omitempty"`
}

// ForwardingRule sends topics starting with TopicPrefix to TargetCluster.
type ForwardingRule struct {
	TargetCluster string `yaml:"target_cluster" json:"target_cluster"`
	TopicPrefix   string `yaml:"topic_prefix" json:"topic_prefix"`
}

// GroupRoute sends consumer groups starting with GroupPrefix to
// TargetCluster's group coordinator.
type GroupRoute struct {
	TargetCluster string `yaml:"target_cluster" json:"target_cluster"`
	GroupPrefix   string `yaml:"group_prefix" json:"group_prefix"`
}

// NewConfig returns a config with its defaults.
func NewConfig() *Config { return &Config{StatPrefix: "mesh", MaxRequestBytes: 16 << 20} }

// SetDefaults sets PartitionCount's default.
func (u *UpstreamCluster) SetDefaults() { u.PartitionCount = 1 }

// Validate checks the config.
func (c *Config) Validate(path string, errs *config.Errors) {
	if c.StatPrefix == "" {
		errs.Add(config.Join(path, "stat_prefix"), "required")
	}
	if c.AdvertisedHost == "" {
		errs.Add(config.Join(path, "advertised_host"), "required")
	}
	if c.AdvertisedPort == 0 || c.AdvertisedPort > 65535 {
		errs.Add(config.Join(path, "advertised_port"), "must be 1-65535")
	}
	if c.MaxRequestBytes < 1024 {
		errs.Add(config.Join(path, "max_request_bytes"), "must be at least 1024")
	}
	names := map[string]bool{}
	up := config.Join(path, "upstream_clusters")
	if len(c.UpstreamClusters) == 0 {
		errs.Add(up, "needs at least one cluster")
	}
	for i, u := range c.UpstreamClusters {
		p := config.Index(up, i)
		switch {
		case u.ClusterName == "":
			errs.Add(config.Join(p, "cluster_name"), "required")
		case names[u.ClusterName]:
			errs.Add(config.Join(p, "cluster_name"), "%q given twice", u.ClusterName)
		}
		names[u.ClusterName] = true
		if len(u.seeds()) == 0 {
			errs.Add(config.Join(p, "bootstrap_servers"), "required")
		}
		if u.PartitionCount < 1 {
			errs.Add(config.Join(p, "partition_count"), "must be positive")
		}
		checkTLS(&u, p, errs)
	}
	fr := config.Join(path, "forwarding_rules")
	if len(c.ForwardingRules) == 0 {
		errs.Add(fr, "needs at least one rule")
	}
	for i, r := range c.ForwardingRules {
		if !names[r.TargetCluster] {
			errs.Add(config.Join(config.Index(fr, i), "target_cluster"), "no upstream cluster %q", r.TargetCluster)
		}
	}
	for i, r := range c.GroupRouting {
		if !names[r.TargetCluster] {
			errs.Add(config.Join(config.Index(config.Join(path, "group_routing"), i), "target_cluster"), "no upstream cluster %q", r.TargetCluster)
		}
	}
}

// seeds splits BootstrapServers.
func (u *UpstreamCluster) seeds() []string {
	var out []string
	for _, s := range strings.Split(u.BootstrapServers, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}
