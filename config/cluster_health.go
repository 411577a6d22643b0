package config

import (
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"time"
)

// HealthCheck is one active health check of a cluster's hosts, after Envoy's
// config.core.v3.HealthCheck. Exactly one of the *_health_check blocks is set.
type HealthCheck struct {
	// Timeout bounds one check (connect, send and response). Default 1s.
	Timeout Duration `yaml:"timeout" json:"timeout"`
	// Interval is the time between checks of one host. Default 10s.
	Interval Duration `yaml:"interval" json:"interval"`
	// IntervalJitter adds a random 0..jitter to every interval. Default 0.
	IntervalJitter Duration `yaml:"interval_jitter" json:"interval_jitter,omitempty"`
	// InitialJitter delays a host's first check by a random 0..jitter, so
	// that many hosts are not checked at the same instant. Default 0.
	InitialJitter Duration `yaml:"initial_jitter" json:"initial_jitter,omitempty"`
	// UnhealthyThreshold is how many consecutive network failures (refused,
	// reset, timed out) mark a healthy host unhealthy; a wrong answer marks
	// it unhealthy at once, as in Envoy. Default 3.
	UnhealthyThreshold uint32 `yaml:"unhealthy_threshold" json:"unhealthy_threshold"`
	// HealthyThreshold is how many consecutive successes mark an unhealthy
	// host healthy again. A new host needs one. Default 2.
	HealthyThreshold uint32 `yaml:"healthy_threshold" json:"healthy_threshold"`

	// TCPHealthCheck connects, optionally sends bytes and expects bytes back.
	TCPHealthCheck *TCPHealthCheck `yaml:"tcp_health_check" json:"tcp_health_check,omitempty"`
	// HTTPHealthCheck sends GET path and expects a status in ExpectedStatuses.
	HTTPHealthCheck *HTTPHealthCheck `yaml:"http_health_check" json:"http_health_check,omitempty"`
	// RedisHealthCheck sends PING and expects PONG (or EXISTS key → 0).
	RedisHealthCheck *RedisHealthCheck `yaml:"redis_health_check" json:"redis_health_check,omitempty"`
	// GRPCHealthCheck calls grpc.health.v1.Health/Check and expects SERVING.
	GRPCHealthCheck *GRPCHealthCheck `yaml:"grpc_health_check" json:"grpc_health_check,omitempty"`
}

// TCPHealthCheck is Envoy's tcp_health_check. With neither Send nor Receive
// a check is a connect.
type TCPHealthCheck struct {
	// Send is written after connecting.
	Send *Payload `yaml:"send" json:"send,omitempty"`
	// Receive blocks must all be found in the response, in order, not
	// necessarily next to each other (Envoy's fuzzy match).
	Receive []Payload `yaml:"receive" json:"receive,omitempty"`
}

// Payload is bytes given as hex text or base64 binary, as in Envoy.
type Payload struct {
	// Text is hex ("50494e47" for PING).
	Text string `yaml:"text" json:"text,omitempty"`
	// Binary is base64.
	Binary string `yaml:"binary" json:"binary,omitempty"`
}

// Bytes decodes the payload; Validate has checked it already.
func (p *Payload) Bytes() []byte {
	if p.Text != "" {
		b, _ := hex.DecodeString(p.Text)
		return b
	}
	b, _ := base64.StdEncoding.DecodeString(p.Binary)
	return b
}

// Validate checks that exactly one encoding is given and decodes.
func (p *Payload) Validate(path string, errs *Errors) {
	switch {
	case (p.Text == "") == (p.Binary == ""):
		errs.Add(path, "give exactly one of text (hex) and binary (base64)")
	case p.Text != "":
		if _, err := hex.DecodeString(p.Text); err != nil {
			errs.Add(Join(path, "text"), "not hex: %v", err)
		}
	default:
		if _, err := base64.StdEncoding.DecodeString(p.Binary); err != nil {
			errs.Add(Join(path, "binary"), "not base64: %v", err)
		}
	}
}

// HTTPHealthCheck is Envoy's http_health_check (HTTP/1.1 GET).
type HTTPHealthCheck struct {
	// Path is requested; required.
	Path string `yaml:"path" json:"path"`
	// Host is the Host header; default the cluster name, as in Envoy.
	Host string `yaml:"host" json:"host,omitempty"`
	// ExpectedStatuses are [start, end) ranges; default [200, 201).
	ExpectedStatuses []StatusRange `yaml:"expected_statuses" json:"expected_statuses,omitempty"`
}

// StatusRange is a half-open HTTP status range [Start, End).
type StatusRange struct {
	Start int `yaml:"start" json:"start"`
	End   int `yaml:"end" json:"end"`
}

// Validate checks the path and ranges.
func (h *HTTPHealthCheck) Validate(path string, errs *Errors) {
	if len(h.Path) == 0 || h.Path[0] != '/' {
		errs.Add(Join(path, "path"), "required, starting with '/'")
	}
	for i, r := range h.ExpectedStatuses {
		if r.Start < 100 || r.End > 600 || r.Start >= r.End {
			errs.Add(Index(Join(path, "expected_statuses"), i), "want 100 <= start < end <= 600, got [%d, %d)", r.Start, r.End)
		}
	}
}

// Expects reports whether status is healthy.
func (h *HTTPHealthCheck) Expects(status int) bool {
	if len(h.ExpectedStatuses) == 0 {
		return status == 200
	}
	for _, r := range h.ExpectedStatuses {
		if status >= r.Start && status < r.End {
			return true
		}
	}
	return false
}

// RedisHealthCheck is Envoy's redis health checker config.
type RedisHealthCheck struct {
	// Key, when set, is checked with EXISTS: healthy when it does not exist
	// (a way to drain a host by setting the key). Default: PING.
	Key string `yaml:"key" json:"key,omitempty"`
}

// SetDefaults fills sluice's defaults (Envoy has none: it requires them).
func (h *HealthCheck) SetDefaults() {
	h.Timeout = Duration(time.Second)
	h.Interval = Duration(10 * time.Second)
	h.UnhealthyThreshold = 3
	h.HealthyThreshold = 2
}

// Kind returns "tcp", "http", "redis" or "grpc".
func (h *HealthCheck) Kind() string {
	switch {
	case h.HTTPHealthCheck != nil:
		return "http"
	case h.RedisHealthCheck != nil:
		return "redis"
	case h.GRPCHealthCheck != nil:
		return "grpc"
	}
	return "tcp"
}

// Validate checks durations, thresholds and that one checker is chosen.
func (h *HealthCheck) Validate(path string, errs *Errors) {
	if h.Timeout <= 0 {
		errs.Add(Join(path, "timeout"), "must be positive")
	}
	if h.Interval <= 0 {
		errs.Add(Join(path, "interval"), "must be positive")
	}
	if h.UnhealthyThreshold == 0 {
		errs.Add(Join(path, "unhealthy_threshold"), "must be at least 1")
	}
	if h.HealthyThreshold == 0 {
		errs.Add(Join(path, "healthy_threshold"), "must be at least 1")
	}
	n := 0
	for _, set := range []bool{h.TCPHealthCheck != nil, h.HTTPHealthCheck != nil, h.RedisHealthCheck != nil, h.GRPCHealthCheck != nil} {
		if set {
			n++
		}
	}
	if n != 1 {
		errs.Add(path, "give exactly one of tcp_health_check, http_health_check, redis_health_check, grpc_health_check (got %d)", n)
	}
}

// String is for logs.
func (h *HealthCheck) String() string {
	return fmt.Sprintf("%s health check every %v", h.Kind(), h.Interval.D())
}
