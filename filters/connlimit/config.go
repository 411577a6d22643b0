package connlimit

import "github.com/sluice-proxy/sluice/config"

// Config is Envoy's ConnectionLimit
// (envoy.extensions.filters.network.connection_limit.v3).
type Config struct {
	// StatPrefix names the stats: connection_limit.<stat_prefix>.*. Required.
	StatPrefix string `yaml:"stat_prefix" json:"stat_prefix"`
	// MaxConnections is how many connections the chain serves at once;
	// more are closed. Required, at least 1.
	MaxConnections uint64 `yaml:"max_connections" json:"max_connections"`
	// Delay, when set, holds a refused connection this long (reading
	// nothing) before closing it, so a client cannot retry at full speed.
	// Default 0: closed at once.
	Delay config.Duration `yaml:"delay" json:"delay,omitempty"`
	// RuntimeEnabled is Envoy's RuntimeFeatureFlag; sluice has no runtime,
	// so default_value decides. Nil: enabled.
	RuntimeEnabled *RuntimeFlag `yaml:"runtime_enabled" json:"runtime_enabled,omitempty"`
}

// RuntimeFlag is Envoy's RuntimeFeatureFlag: default_value is used,
// runtime_key is accepted and has no effect (sluice has no runtime).
type RuntimeFlag struct {
	DefaultValue *bool  `yaml:"default_value" json:"default_value,omitempty"`
	RuntimeKey   string `yaml:"runtime_key" json:"runtime_key"`
}

// Enabled reports the flag's value; a nil flag or value is true.
func (f *RuntimeFlag) Enabled() bool {
	return f == nil || f.DefaultValue == nil || *f.DefaultValue
}

// NewConfig returns a config with Envoy's defaults.
func NewConfig() *Config { return &Config{} }

// Validate checks the required fields.
func (c *Config) Validate(path string, errs *config.Errors) {
	if c.StatPrefix == "" {
		errs.Add(config.Join(path, "stat_prefix"), "required")
	}
	if c.MaxConnections < 1 {
		errs.Add(config.Join(path, "max_connections"), "must be at least 1")
	}
	if c.Delay < 0 {
		errs.Add(config.Join(path, "delay"), "must not be negative")
	}
	if c.RuntimeEnabled != nil && c.RuntimeEnabled.RuntimeKey == "" {
		errs.Add(config.Join(path, "runtime_enabled.runtime_key"), "required")
	}
}
