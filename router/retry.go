package router

import (
	"strings"
	"time"

	"github.com/sluice-proxy/sluice/config"
)

// RetryPolicy is a route's retry_policy as data for the router filter:
// sluice's retry loop lives there, and the cluster's retry budget bounds it.
type RetryPolicy struct {
	// RetryOn holds Envoy's conditions, split and trimmed ("5xx",
	// "gateway-error", "reset", "connect-failure", "retriable-4xx",
	// "refused-stream", "retriable-status-codes", ...).
	RetryOn []string
	// NumRetries is how many retries after the first try (Envoy's default 1).
	NumRetries uint32
	// PerTryTimeout bounds each try; 0 means the route timeout alone.
	PerTryTimeout time.Duration
	// PerTryIdleTimeout bounds each try's silence; 0 means none.
	PerTryIdleTimeout time.Duration
	// BaseInterval and MaxInterval are the exponential back-off's (Envoy's
	// defaults: 25ms and 10x base).
	BaseInterval, MaxInterval time.Duration
	// RetriableStatusCodes are retried under "retriable-status-codes".
	RetriableStatusCodes []uint32
	// HostSelectionRetryMaxAttempts is how often to re-pick a host.
	HostSelectionRetryMaxAttempts int64
	// AvoidPreviousHosts is the previous_hosts retry host predicate.
	AvoidPreviousHosts bool
	// retriableHeaders are retry_policy.retriable_headers, for
	// "retriable-headers".
	retriableHeaders []headerMatch
}

// On reports whether cond is one of the policy's retry_on conditions.
func (p *RetryPolicy) On(cond string) bool {
	for _, c := range p.RetryOn {
		if c == cond {
			return true
		}
	}
	return false
}

// RetriableStatus reports whether a response with status is to be retried
// under the policy's status conditions (5xx, gateway-error,
// retriable-4xx, retriable-status-codes).
func (p *RetryPolicy) RetriableStatus(status int) bool {
	switch {
	case status >= 500 && p.On("5xx"):
		return true
	case (status == 502 || status == 503 || status == 504) && p.On("gateway-error"):
		return true
	case status == 409 && p.On("retriable-4xx"):
		return true
	}
	if p.On("retriable-status-codes") {
		for _, c := range p.RetriableStatusCodes {
			if int(c) == status {
				return true
			}
		}
	}
	return false
}

// defaultBaseInterval is Envoy's retry back-off base when none is set.
const defaultBaseInterval = 25 * time.Millisecond

func compileRetry(c *config.RetryPolicy) *RetryPolicy {
	p := &RetryPolicy{NumRetries: 1, BaseInterval: defaultBaseInterval,
		RetriableStatusCodes: c.RetriableStatusCodes, HostSelectionRetryMaxAttempts: c.HostSelectionRetryMaxAttempts}
	for _, s := range strings.Split(c.RetryOn, ",") {
		if s = strings.TrimSpace(s); s != "" {
			p.RetryOn = append(p.RetryOn, s)
		}
	}
	if c.NumRetries != nil {
		p.NumRetries = *c.NumRetries
	}
	if c.PerTryTimeout != nil {
		p.PerTryTimeout = c.PerTryTimeout.D()
	}
	if c.PerTryIdleTimeout != nil {
		p.PerTryIdleTimeout = c.PerTryIdleTimeout.D()
	}
	if b := c.RetryBackOff; b != nil {
		p.BaseInterval = b.BaseInterval.D()
	}
	p.AvoidPreviousHosts = len(c.RetryHostPredicate) > 0 // validation allows previous_hosts only
	for i := range c.RetriableHeaders {
		p.retriableHeaders = append(p.retriableHeaders, compileHeader(&c.RetriableHeaders[i]))
	}
	p.MaxInterval = 10 * p.BaseInterval
	if b := c.RetryBackOff; b != nil && b.MaxInterval != nil {
		p.MaxInterval = b.MaxInterval.D()
	}
	return p
}
