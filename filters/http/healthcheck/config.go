package healthcheck

import (
	"go.yaml.in/yaml/v3"

	"github.com/sluice-proxy/sluice/config"
)

// Config is Envoy's envoy.extensions.filters.http.health_check.v3.HealthCheck.
type Config struct {
	// PassThroughMode (required): false answers health checks here, true
	// forwards them (answering from the cache when cache_time is set).
	PassThroughMode *bool `yaml:"pass_through_mode" json:"pass_through_mode"`
	// CacheTime, in pass-through mode, keeps the upstream's answer this long
	// and serves it without forwarding.
	CacheTime *config.Duration `yaml:"cache_time" json:"cache_time,omitempty"`
	// ClusterMinHealthyPercentages: without pass-through, answer 503 when a
	// listed cluster has fewer healthy hosts than this percentage.
	ClusterMinHealthyPercentages map[string]Percent `yaml:"cluster_min_healthy_percentages" json:"cluster_min_healthy_percentages,omitempty"`
	// Headers all must match for a request to be a health check (":path"
	// is the path with its query, ":method" and ":authority" too).
	Headers []config.HeaderMatcher `yaml:"headers" json:"headers,omitempty"`
}

// Percent is Envoy's envoy.type.v3.Percent, written {value: 50} or 50.
type Percent struct {
	Value float64 `yaml:"value" json:"value"`
}

// DecodeNode accepts the number alone, as the Envoy loader writes it.
func (p *Percent) DecodeNode(d *config.Decoder, path string, n *yaml.Node) {
	if n.Kind == yaml.ScalarNode {
		d.Decode(path, n, &p.Value)
		return
	}
	type plain Percent
	d.Decode(path, n, (*plain)(p))
}

// Validate checks what Envoy's proto validation and filter factory check.
func (c *Config) Validate(path string, errs *config.Errors) {
	if c.PassThroughMode == nil {
		errs.Add(config.Join(path, "pass_through_mode"), "required")
	} else if !*c.PassThroughMode && c.CacheTime != nil {
		errs.Add(config.Join(path, "cache_time"), "only with pass_through_mode: true")
	}
	for name, p := range c.ClusterMinHealthyPercentages {
		if p.Value < 0 || p.Value > 100 {
			errs.Add(config.Join(path, "cluster_min_healthy_percentages."+name), "must be within [0, 100], got %v", p.Value)
		}
	}
}
