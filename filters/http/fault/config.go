package fault

import (
	"github.com/sluice-proxy/sluice/config"
	"github.com/sluice-proxy/sluice/router"
)

// Config is Envoy's envoy.extensions.filters.http.fault.v3.HTTPFault, in
// http_filters and, replacing it for one route, in typed_per_filter_config.
type Config struct {
	// Delay injects a delay before the request goes on.
	Delay *Delay `yaml:"delay" json:"delay,omitempty"`
	// Abort answers the request with an error instead of forwarding it.
	Abort *Abort `yaml:"abort" json:"abort,omitempty"`
	// MaxActiveFaults caps the requests with a fault in progress; further
	// faults are skipped and counted in faults_overflow. Unset: no cap.
	MaxActiveFaults *uint32 `yaml:"max_active_faults" json:"max_active_faults,omitempty"`
	// Headers restrict faults to requests matching all of them.
	Headers []config.HeaderMatcher `yaml:"headers" json:"headers,omitempty"`

	matchers router.HeaderMatchers // compiled by Validate
}

// Delay is Envoy's envoy.extensions.filters.common.fault.v3.FaultDelay.
type Delay struct {
	// FixedDelay is the delay injected.
	FixedDelay *config.Duration `yaml:"fixed_delay" json:"fixed_delay,omitempty"`
	// HeaderDelay takes the delay from x-envoy-fault-delay-request
	// (milliseconds) instead.
	HeaderDelay *struct{} `yaml:"header_delay" json:"header_delay,omitempty"`
	// Percentage of requests delayed; unset is 0%, as in Envoy.
	Percentage config.FractionalPercent `yaml:"percentage" json:"percentage"`
}

// Abort is Envoy's envoy.extensions.filters.http.fault.v3.FaultAbort.
type Abort struct {
	// HTTPStatus answers with this status, in [200, 600).
	HTTPStatus int `yaml:"http_status" json:"http_status,omitempty"`
	// GRPCStatus answers a gRPC trailers-only response with this status.
	GRPCStatus *uint32 `yaml:"grpc_status" json:"grpc_status,omitempty"`
	// HeaderAbort takes the status from x-envoy-fault-abort-request or
	// x-envoy-fault-abort-grpc-request.
	HeaderAbort *struct{} `yaml:"header_abort" json:"header_abort,omitempty"`
	// Percentage of requests aborted; unset is 0%, as in Envoy.
	Percentage config.FractionalPercent `yaml:"percentage" json:"percentage"`
}

// Validate checks the values Envoy's proto validation checks, and compiles
// the header matchers.
func (c *Config) Validate(path string, errs *config.Errors) {
	c.matchers = router.CompileHeaders(c.Headers)
	if d := c.Delay; d != nil {
		p := config.Join(path, "delay")
		if (d.FixedDelay == nil) == (d.HeaderDelay == nil) {
			errs.Add(p, "exactly one of fixed_delay and header_delay is needed")
		}
		checkPercent(config.Join(p, "percentage"), d.Percentage, errs)
	}
	if a := c.Abort; a != nil {
		p := config.Join(path, "abort")
		n := 0
		if a.HTTPStatus != 0 {
			n++
			if a.HTTPStatus < 200 || a.HTTPStatus >= 600 {
				errs.Add(config.Join(p, "http_status"), "must be in [200, 600), got %d", a.HTTPStatus)
			}
		}
		if a.GRPCStatus != nil {
			n++
		}
		if a.HeaderAbort != nil {
			n++
		}
		if n != 1 {
			errs.Add(p, "exactly one of http_status, grpc_status and header_abort is needed")
		}
		checkPercent(config.Join(p, "percentage"), a.Percentage, errs)
	}
}

func checkPercent(path string, f config.FractionalPercent, errs *config.Errors) {
	if f.Scale() == 0 {
		errs.Add(config.Join(path, "denominator"), "unknown denominator %q", f.Denominator)
	}
}
