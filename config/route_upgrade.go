package config

import "strings"

// UpgradeConfig is Envoy's RouteAction.UpgradeConfig: an upgrade type the
// route allows (or, with enabled false, refuses). "CONNECT" makes the route
// tunnel CONNECT requests to its cluster; other types (websocket) are
// accepted and recorded, and every route still forwards Upgrade requests.
type UpgradeConfig struct {
	UpgradeType string `yaml:"upgrade_type" json:"upgrade_type"`
	// Enabled defaults to true.
	Enabled *bool `yaml:"enabled" json:"enabled,omitempty"`
	// ConnectConfig applies to CONNECT only; its fields are not supported
	// yet (sluice always terminates CONNECT and tunnels the payload).
	ConnectConfig *ConnectConfig `yaml:"connect_config" json:"connect_config,omitempty"`
}

// ConnectConfig is Envoy's RouteAction.UpgradeConfig.ConnectConfig. Only
// its empty form is accepted: proxy_protocol_config and allow_post are not
// supported, and the loader refuses them.
type ConnectConfig struct{}

// On reports whether the upgrade is enabled.
func (u *UpgradeConfig) On() bool { return u.Enabled == nil || *u.Enabled }

// Validate checks the upgrade type.
func (u *UpgradeConfig) Validate(path string, errs *Errors) {
	if u.UpgradeType == "" {
		errs.Add(Join(path, "upgrade_type"), "required")
	}
	if u.ConnectConfig != nil && !strings.EqualFold(u.UpgradeType, "CONNECT") {
		errs.Add(Join(path, "connect_config"), "only with upgrade_type CONNECT")
	}
}
