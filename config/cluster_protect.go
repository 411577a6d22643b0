package config

import "time"

// OutlierDetection is Envoy's config.cluster.v3.OutlierDetection, limited to
// the consecutive-error detectors (no success-rate or failure-percentage
// ejection yet). Percent fields are 0..100.
type OutlierDetection struct {
	// Consecutive5xx ejects a host after this many consecutive errors
	// (5xx-like answers, and local-origin failures such as refused connects
	// unless split_external_local_origin_errors). Default 5.
	Consecutive5xx uint32 `yaml:"consecutive_5xx" json:"consecutive_5xx"`
	// ConsecutiveGatewayFailure counts only gateway failures (502/503/504 and
	// local-origin failures when not split). Default 5.
	ConsecutiveGatewayFailure uint32 `yaml:"consecutive_gateway_failure" json:"consecutive_gateway_failure"`
	// ConsecutiveLocalOriginFailure counts connect failures, resets and
	// timeouts when split_external_local_origin_errors is on. Default 5.
	ConsecutiveLocalOriginFailure uint32 `yaml:"consecutive_local_origin_failure" json:"consecutive_local_origin_failure"`
	// Interval is the sweep that returns ejected hosts. Default 10s.
	Interval Duration `yaml:"interval" json:"interval"`
	// BaseEjectionTime is multiplied by how often the host was ejected.
	// Default 30s.
	BaseEjectionTime Duration `yaml:"base_ejection_time" json:"base_ejection_time"`
	// MaxEjectionTime caps the ejection time. Default 300s.
	MaxEjectionTime Duration `yaml:"max_ejection_time" json:"max_ejection_time"`
	// MaxEjectionPercent caps the ejected share of the cluster; an ejection
	// happens while fewer than this share is ejected. Default 10.
	MaxEjectionPercent uint32 `yaml:"max_ejection_percent" json:"max_ejection_percent"`
	// EnforcingConsecutive5xx is the chance (percent) that a detected
	// consecutive_5xx ejection is carried out. Default 100.
	EnforcingConsecutive5xx uint32 `yaml:"enforcing_consecutive_5xx" json:"enforcing_consecutive_5xx"`
	// EnforcingConsecutiveGatewayFailure: same for gateway failures. Default 0.
	EnforcingConsecutiveGatewayFailure uint32 `yaml:"enforcing_consecutive_gateway_failure" json:"enforcing_consecutive_gateway_failure"`
	// EnforcingConsecutiveLocalOriginFailure: same for local-origin
	// failures. Default 100.
	EnforcingConsecutiveLocalOriginFailure uint32 `yaml:"enforcing_consecutive_local_origin_failure" json:"enforcing_consecutive_local_origin_failure"`
	// SplitExternalLocalOriginErrors counts local-origin failures apart from
	// the upstream's own errors. Default false.
	SplitExternalLocalOriginErrors bool `yaml:"split_external_local_origin_errors" json:"split_external_local_origin_errors"`
	// SuccessfulActiveHealthCheckUnejectHost returns an ejected host as soon
	// as an active health check passes. Default true.
	SuccessfulActiveHealthCheckUnejectHost bool `yaml:"successful_active_health_check_uneject_host" json:"successful_active_health_check_uneject_host"`
}

// SetDefaults fills Envoy's defaults.
func (o *OutlierDetection) SetDefaults() {
	*o = OutlierDetection{
		Consecutive5xx: 5, ConsecutiveGatewayFailure: 5, ConsecutiveLocalOriginFailure: 5,
		Interval: Duration(10 * time.Second), BaseEjectionTime: Duration(30 * time.Second),
		MaxEjectionTime: Duration(300 * time.Second), MaxEjectionPercent: 10,
		EnforcingConsecutive5xx: 100, EnforcingConsecutiveLocalOriginFailure: 100,
		SuccessfulActiveHealthCheckUnejectHost: true,
	}
}

// Validate checks durations and percentages.
func (o *OutlierDetection) Validate(path string, errs *Errors) {
	if o.Interval <= 0 {
		errs.Add(Join(path, "interval"), "must be positive")
	}
	if o.BaseEjectionTime <= 0 {
		errs.Add(Join(path, "base_ejection_time"), "must be positive")
	}
	pcts := []struct {
		name string
		v    uint32
	}{
		{"max_ejection_percent", o.MaxEjectionPercent},
		{"enforcing_consecutive_5xx", o.EnforcingConsecutive5xx},
		{"enforcing_consecutive_gateway_failure", o.EnforcingConsecutiveGatewayFailure},
		{"enforcing_consecutive_local_origin_failure", o.EnforcingConsecutiveLocalOriginFailure},
	}
	for _, p := range pcts {
		if p.v > 100 {
			errs.Add(Join(path, p.name), "is a percentage: 0..100, got %d", p.v)
		}
	}
}

// CircuitBreakers is Envoy's cluster circuit_breakers.
type CircuitBreakers struct {
	// Thresholds has at most one entry per priority.
	Thresholds []Thresholds `yaml:"thresholds" json:"thresholds"`
}

// Thresholds are the limits of one routing priority.
type Thresholds struct {
	// Priority is DEFAULT (the default) or HIGH.
	Priority string `yaml:"priority" json:"priority"`
	// MaxConnections to all hosts of the cluster. Default 1024.
	MaxConnections uint32 `yaml:"max_connections" json:"max_connections"`
	// MaxPendingRequests waiting for a connection. Default 1024.
	MaxPendingRequests uint32 `yaml:"max_pending_requests" json:"max_pending_requests"`
	// MaxRequests in flight. Default 1024.
	MaxRequests uint32 `yaml:"max_requests" json:"max_requests"`
	// MaxRetries in flight. Default 3.
	MaxRetries uint32 `yaml:"max_retries" json:"max_retries"`
	// TrackRemaining publishes the remaining_* gauges. Default false.
	TrackRemaining bool `yaml:"track_remaining" json:"track_remaining"`
	// RetryBudget, when set, replaces max_retries with a limit relative to
	// the requests in flight.
	RetryBudget *RetryBudget `yaml:"retry_budget" json:"retry_budget,omitempty"`
}

// RetryBudget is Envoy's Thresholds.RetryBudget: retries in flight may be
// budget_percent of the active and pending requests (default 20), and at
// least min_retry_concurrency (default 3).
type RetryBudget struct {
	BudgetPercent       *float64 `yaml:"budget_percent" json:"budget_percent,omitempty"`
	MinRetryConcurrency *uint32  `yaml:"min_retry_concurrency" json:"min_retry_concurrency,omitempty"`
}

// DefaultThresholds returns Envoy's defaults for priority p.
func DefaultThresholds(p string) Thresholds {
	return Thresholds{Priority: p, MaxConnections: 1024, MaxPendingRequests: 1024, MaxRequests: 1024, MaxRetries: 3}
}

// SetDefaults fills Envoy's defaults.
func (t *Thresholds) SetDefaults() { *t = DefaultThresholds("DEFAULT") }

// Validate checks the priority.
func (t *Thresholds) Validate(path string, errs *Errors) {
	if t.Priority != "DEFAULT" && t.Priority != "HIGH" {
		errs.Add(Join(path, "priority"), "must be DEFAULT or HIGH, got %q", t.Priority)
	}
	if b := t.RetryBudget; b != nil && b.BudgetPercent != nil && (*b.BudgetPercent < 0 || *b.BudgetPercent > 100) {
		errs.Add(Join(path, "retry_budget.budget_percent"), "must be 0..100, got %v", *b.BudgetPercent)
	}
}

// Validate refuses two entries for one priority.
func (c *CircuitBreakers) Validate(path string, errs *Errors) {
	seen := map[string]bool{}
	for i, t := range c.Thresholds {
		if seen[t.Priority] {
			errs.Add(Join(Index(Join(path, "thresholds"), i), "priority"), "priority %s given twice", t.Priority)
		}
		seen[t.Priority] = true
	}
}

// For returns the thresholds of priority p, or Envoy's defaults; c may be nil.
func (c *CircuitBreakers) For(p string) Thresholds {
	if c != nil {
		for _, t := range c.Thresholds {
			if t.Priority == p {
				return t
			}
		}
	}
	return DefaultThresholds(p)
}
