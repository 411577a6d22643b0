package kafkabroker

import (
	"net"

	"github.com/sluice-proxy/sluice/config"
	"github.com/sluice-proxy/sluice/tracing"
)

// Config is kafka_broker's typed config, after Envoy's KafkaBroker message,
// plus sluice's automatic broker address rewrite.
type Config struct {
	// StatPrefix names the stats: kafka.<stat_prefix>.*. Required.
	StatPrefix string `yaml:"stat_prefix" json:"stat_prefix"`
	// ForceResponseRewrite decodes and re-encodes every response instead of
	// passing the broker's bytes through (Envoy's testing aid). Default false.
	ForceResponseRewrite bool `yaml:"force_response_rewrite" json:"force_response_rewrite,omitempty"`
	// IDBasedBrokerAddressRewriteSpec rewrites the address of the brokers it
	// names in Metadata, FindCoordinator and DescribeCluster responses;
	// brokers without a rule keep theirs. At most one of this and
	// BrokerAddressRewrite is set.
	IDBasedBrokerAddressRewriteSpec *RewriteSpec `yaml:"id_based_broker_address_rewrite_spec" json:"id_based_broker_address_rewrite_spec,omitempty"`
	// BrokerAddressRewrite is sluice's automatic mode: one listener per
	// discovered broker, advertised in place of the broker.
	BrokerAddressRewrite *AutoRewrite `yaml:"broker_address_rewrite" json:"broker_address_rewrite,omitempty"`
	// APIKeysAllowed, when not empty, refuses every API key not listed.
	APIKeysAllowed []uint32 `yaml:"api_keys_allowed" json:"api_keys_allowed,omitempty"`
	// APIKeysDenied refuses the listed API keys (checked after
	// APIKeysAllowed). A refused request is answered with the API's own
	// error response and never reaches the broker.
	APIKeysDenied []uint32 `yaml:"api_keys_denied" json:"api_keys_denied,omitempty"`
	// Tracing emits a span per request (sluice's; tracing.go).
	Tracing *tracing.StatementConfig `yaml:"tracing" json:"tracing,omitempty"`
}

// RewriteSpec is Envoy's IdBasedBrokerRewriteSpec.
type RewriteSpec struct {
	Rules []RewriteRule `yaml:"rules" json:"rules"`
}

// RewriteRule advertises Host:Port for the broker with node id ID.
type RewriteRule struct {
	ID   uint32 `yaml:"id" json:"id"`
	Host string `yaml:"host" json:"host"`
	Port uint32 `yaml:"port" json:"port"`
}

// AutoRewrite holds the automatic mode (a block, so that other modes can
// join it later).
type AutoRewrite struct {
	Auto *Auto `yaml:"auto" json:"auto,omitempty"`
}

// Auto opens a listener for each broker seen in a response and advertises
// it instead of the broker, as grepplabs/kafka-proxy does.
type Auto struct {
	// BindHost is the address the per-broker listeners bind. Default
	// 127.0.0.1.
	BindHost string `yaml:"bind_host" json:"bind_host"`
	// AdvertisedHost is the host clients are told to use. Empty (default)
	// means BindHost.
	AdvertisedHost string `yaml:"advertised_host" json:"advertised_host"`
	// PortRangeStart is the port of broker 0; broker n gets
	// PortRangeStart+n, so that addresses survive restarts. Zero (default)
	// lets the kernel pick a free port per broker.
	PortRangeStart uint32 `yaml:"port_range_start" json:"port_range_start"`
}

// NewConfig returns a config with its defaults.
func NewConfig() *Config { return &Config{} }

// SetDefaults sets BindHost's default; an empty AdvertisedHost means
// BindHost, resolved when the filter is built.
func (a *Auto) SetDefaults() { a.BindHost = "127.0.0.1" }

func (c *Config) auto() *Auto {
	if c.BrokerAddressRewrite == nil {
		return nil
	}
	return c.BrokerAddressRewrite.Auto
}

// Validate checks the config.
func (c *Config) Validate(path string, errs *config.Errors) {
	if c.Tracing != nil {
		c.Tracing.Validate(config.Join(path, "tracing"), errs)
	}
	if c.StatPrefix == "" {
		errs.Add(config.Join(path, "stat_prefix"), "required")
	}
	if c.IDBasedBrokerAddressRewriteSpec != nil && c.BrokerAddressRewrite != nil {
		errs.Add(path, "give either id_based_broker_address_rewrite_spec or broker_address_rewrite, not both")
	}
	if spec := c.IDBasedBrokerAddressRewriteSpec; spec != nil {
		p := config.Join(path, "id_based_broker_address_rewrite_spec.rules")
		seen := map[uint32]bool{}
		for i, r := range spec.Rules {
			rp := config.Index(p, i)
			if seen[r.ID] {
				errs.Add(config.Join(rp, "id"), "broker id %d has two rules", r.ID)
			}
			seen[r.ID] = true
			if r.Host == "" {
				errs.Add(config.Join(rp, "host"), "required")
			}
			if r.Port == 0 || r.Port > 65535 {
				errs.Add(config.Join(rp, "port"), "must be 1-65535")
			}
		}
	}
	if c.BrokerAddressRewrite != nil {
		p := config.Join(path, "broker_address_rewrite")
		a := c.BrokerAddressRewrite.Auto
		switch {
		case a == nil:
			errs.Add(p, "needs auto: {...}")
		case net.ParseIP(a.BindHost) == nil && a.BindHost != "localhost":
			errs.Add(config.Join(p, "auto.bind_host"), "must be an IP address")
		case a.PortRangeStart > 65535:
			errs.Add(config.Join(p, "auto.port_range_start"), "must be at most 65535")
		}
	}
	checkKeys(config.Join(path, "api_keys_allowed"), c.APIKeysAllowed, errs)
	checkKeys(config.Join(path, "api_keys_denied"), c.APIKeysDenied, errs)
}

func checkKeys(path string, keys []uint32, errs *config.Errors) {
	for i, k := range keys {
		if k > 32767 {
			errs.Add(config.Index(path, i), "api key %d out of range", k)
		}
	}
}
