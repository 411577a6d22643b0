package config

import (
	"errors"
	"reflect"

	"go.yaml.in/yaml/v3"

	"github.com/sluice-proxy/sluice/cluster/lb"
)

// KnownLBPolicies are the lb_policy values a cluster accepts: every policy
// registered in cluster/lb.
var KnownLBPolicies = knownLBPolicies()

func knownLBPolicies() map[string]bool {
	m := map[string]bool{}
	for _, n := range lb.Names() {
		m[n] = true
	}
	return m
}

// RingHashLBConfig is Envoy's ring_hash_lb_config: lb.RingHashConfig with
// its defaults applied before decoding.
type RingHashLBConfig struct{ lb.RingHashConfig }

// MaglevLBConfig is Envoy's maglev_lb_config.
type MaglevLBConfig struct{ lb.MaglevConfig }

// LeastRequestLBConfig is Envoy's least_request_lb_config.
type LeastRequestLBConfig struct{ lb.LeastRequestConfig }

// DecodeNode starts from ring_hash's defaults.
func (c *RingHashLBConfig) DecodeNode(d *Decoder, path string, n *yaml.Node) {
	c.RingHashConfig = *lb.DefaultRingHashConfig()
	d.decodeStruct(path, n, reflect.ValueOf(&c.RingHashConfig).Elem())
}

// DecodeNode starts from maglev's defaults.
func (c *MaglevLBConfig) DecodeNode(d *Decoder, path string, n *yaml.Node) {
	c.MaglevConfig = *lb.DefaultMaglevConfig()
	d.decodeStruct(path, n, reflect.ValueOf(&c.MaglevConfig).Elem())
}

// DecodeNode starts from least_request's defaults.
func (c *LeastRequestLBConfig) DecodeNode(d *Decoder, path string, n *yaml.Node) {
	c.LeastRequestConfig = *lb.DefaultLeastRequestConfig()
	d.decodeStruct(path, n, reflect.ValueOf(&c.LeastRequestConfig).Elem())
}

// Validate reports lb's field errors under path.
func (c *RingHashLBConfig) Validate(path string, errs *Errors) {
	addLBErrors(path, c.RingHashConfig.Validate(), errs)
}

// Validate reports lb's field errors under path.
func (c *MaglevLBConfig) Validate(path string, errs *Errors) {
	addLBErrors(path, c.MaglevConfig.Validate(), errs)
}

// Validate reports lb's field errors under path.
func (c *LeastRequestLBConfig) Validate(path string, errs *Errors) {
	addLBErrors(path, c.LeastRequestConfig.Validate(), errs)
}

func addLBErrors(path string, err error, errs *Errors) {
	if err == nil {
		return
	}
	list := []error{err}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		list = j.Unwrap()
	}
	for _, e := range list {
		var fe *lb.FieldError
		if errors.As(e, &fe) {
			errs.Add(Join(path, fe.Field), "%s", fe.Reason)
		} else {
			errs.Add(path, "%v", e)
		}
	}
}

// LBConfig returns the typed config of the cluster's lb_policy, or nil for
// the policy's defaults.
func (c *Cluster) LBConfig() lb.Config {
	switch {
	case c.LBPolicy == lb.RingHashName && c.RingHashLBConfig != nil:
		return &c.RingHashLBConfig.RingHashConfig
	case c.LBPolicy == lb.MaglevName && c.MaglevLBConfig != nil:
		return &c.MaglevLBConfig.MaglevConfig
	case c.LBPolicy == lb.LeastRequestName && c.LeastRequestLBConfig != nil:
		return &c.LeastRequestLBConfig.LeastRequestConfig
	}
	return nil
}

// validateLBBlocks refuses a policy block that does not match lb_policy
// (Envoy's lb_config is a oneof tied to the policy).
func (c *Cluster) validateLBBlocks(path string, errs *Errors) {
	blocks := []struct {
		field, policy string
		set           bool
	}{
		{"ring_hash_lb_config", lb.RingHashName, c.RingHashLBConfig != nil},
		{"maglev_lb_config", lb.MaglevName, c.MaglevLBConfig != nil},
		{"least_request_lb_config", lb.LeastRequestName, c.LeastRequestLBConfig != nil},
	}
	for _, b := range blocks {
		if b.set && c.LBPolicy != b.policy {
			errs.Add(Join(path, b.field), "only for lb_policy %s, not %s", b.policy, c.LBPolicy)
		}
	}
}
