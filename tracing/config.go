package tracing

import (
	"net/url"
	"strings"

	"github.com/sluice-proxy/sluice/config"
)

// Config is http_connection_manager's tracing, after Envoy's
// HttpConnectionManager.Tracing (field names and defaults are Envoy's;
// percentages are Envoy's Percent values, 0..100, written as numbers).
type Config struct {
	// ClientSampling is the share of requests with x-client-trace-id that
	// are force-traced. Nil means 100.
	ClientSampling *float64 `yaml:"client_sampling" json:"client_sampling,omitempty"`
	// RandomSampling is the share of other requests traced, decided from
	// x-request-id so every hop agrees. Nil means 100.
	RandomSampling *float64 `yaml:"random_sampling" json:"random_sampling,omitempty"`
	// OverallSampling caps the traced share after the two above. Nil
	// means 100.
	OverallSampling *float64 `yaml:"overall_sampling" json:"overall_sampling,omitempty"`
	// Verbose adds an event per stage of the request to the span.
	Verbose bool `yaml:"verbose" json:"verbose,omitempty"`
	// MaxPathTagLength truncates the http.url tag. 0 means 256.
	MaxPathTagLength uint32 `yaml:"max_path_tag_length" json:"max_path_tag_length,omitempty"`
	// CustomTags are added to every span.
	CustomTags []CustomTag `yaml:"custom_tags" json:"custom_tags,omitempty"`
	// SpawnUpstreamSpan starts a child span "router <cluster> egress" for
	// the upstream request; without it the upstream sees the ingress span
	// as its parent.
	SpawnUpstreamSpan bool `yaml:"spawn_upstream_span" json:"spawn_upstream_span,omitempty"`
	// Provider is where spans go. Required.
	Provider Provider `yaml:"provider" json:"provider"`
}

// CustomTag is Envoy's envoy.type.tracing.v3.CustomTag: one of literal,
// request_header or environment.
type CustomTag struct {
	Tag           string     `yaml:"tag" json:"tag"`
	Literal       *Literal   `yaml:"literal" json:"literal,omitempty"`
	RequestHeader *NameValue `yaml:"request_header" json:"request_header,omitempty"`
	Environment   *NameValue `yaml:"environment" json:"environment,omitempty"`
}

// Literal is a fixed tag value.
type Literal struct {
	Value string `yaml:"value" json:"value"`
}

// NameValue names a header or environment variable, with the value used
// when it is absent (no tag when empty).
type NameValue struct {
	Name         string `yaml:"name" json:"name"`
	DefaultValue string `yaml:"default_value" json:"default_value,omitempty"`
}

// Provider is Envoy's envoy.config.trace.v3.Tracing.Http; sluice has the
// OpenTelemetry tracer (envoy.tracers.opentelemetry).
type Provider struct {
	OpenTelemetry *OpenTelemetry `yaml:"opentelemetry" json:"opentelemetry,omitempty"`
}

// OpenTelemetry is Envoy's envoy.config.trace.v3.OpenTelemetryConfig: OTLP
// over gRPC (grpc_service) or HTTP (http_service), one of them.
type OpenTelemetry struct {
	// GRPCService sends OTLP/gRPC to a cluster.
	GRPCService *GRPCService `yaml:"grpc_service" json:"grpc_service,omitempty"`
	// HTTPService posts OTLP/HTTP protobuf to a URI through a cluster.
	HTTPService *HTTPService `yaml:"http_service" json:"http_service,omitempty"`
	// ServiceName is the resource's service.name. Default
	// "unknown_service:envoy" (Envoy's).
	ServiceName string `yaml:"service_name" json:"service_name,omitempty"`
	// ResourceDetectors: "environment" adds OTEL_RESOURCE_ATTRIBUTES (Envoy's
	// envoy.tracers.opentelemetry.resource_detectors.environment).
	ResourceDetectors []string `yaml:"resource_detectors" json:"resource_detectors,omitempty"`
	// Propagators are the formats written to upstream requests (sluice's
	// field; every format is read): tracecontext (W3C, the default), b3
	// (single header), b3multi (x-b3-*), xray (X-Amzn-Trace-Id).
	Propagators []string `yaml:"propagators" json:"propagators,omitempty"`
	// MaxQueueSize bounds the spans waiting for export; more are dropped
	// (sluice's field). Default 2048.
	MaxQueueSize int `yaml:"max_queue_size" json:"max_queue_size,omitempty"`
	// MaxExportBatchSize is the most spans per export. Default 512.
	MaxExportBatchSize int `yaml:"max_export_batch_size" json:"max_export_batch_size,omitempty"`
	// FlushInterval is the longest a span waits for export. Default 5s.
	FlushInterval config.Duration `yaml:"flush_interval" json:"flush_interval,omitempty"`
}

// GRPCService is Envoy's GrpcService with envoy_grpc.
type GRPCService struct {
	EnvoyGRPC struct {
		ClusterName string `yaml:"cluster_name" json:"cluster_name"`
		Authority   string `yaml:"authority" json:"authority,omitempty"`
	} `yaml:"envoy_grpc" json:"envoy_grpc"`
	// Timeout bounds one export. Default 10s.
	Timeout config.Duration `yaml:"timeout" json:"timeout,omitempty"`
}

// HTTPService is Envoy's HttpService.
type HTTPService struct {
	HTTPURI struct {
		URI     string          `yaml:"uri" json:"uri"`
		Cluster string          `yaml:"cluster" json:"cluster"`
		Timeout config.Duration `yaml:"timeout" json:"timeout,omitempty"`
	} `yaml:"http_uri" json:"http_uri"`
	// RequestHeadersToAdd are sent with every export.
	RequestHeadersToAdd []Header `yaml:"request_headers_to_add" json:"request_headers_to_add,omitempty"`
}

// Header is one header to add (Envoy's HeaderValueOption, flattened).
type Header struct {
	Key   string `yaml:"key" json:"key"`
	Value string `yaml:"value" json:"value"`
}

// Validate checks the config; path is the tracing field's.
func (c *Config) Validate(path string, errs *config.Errors) {
	for name, p := range map[string]*float64{"client_sampling": c.ClientSampling, "random_sampling": c.RandomSampling, "overall_sampling": c.OverallSampling} {
		if p != nil && (*p < 0 || *p > 100) {
			errs.Add(config.Join(path, name), "must be between 0 and 100 (got %v)", *p)
		}
	}
	for i, t := range c.CustomTags {
		tp := config.Index(config.Join(path, "custom_tags"), i)
		if t.Tag == "" {
			errs.Add(config.Join(tp, "tag"), "required")
		}
		n := 0
		for _, set := range []bool{t.Literal != nil, t.RequestHeader != nil, t.Environment != nil} {
			if set {
				n++
			}
		}
		if n != 1 {
			errs.Add(tp, "give exactly one of literal, request_header or environment")
		}
	}
	o := c.Provider.OpenTelemetry
	pp := config.Join(path, "provider")
	if o == nil {
		errs.Add(pp, "required: opentelemetry (envoy.tracers.opentelemetry)")
		return
	}
	o.validate(config.Join(pp, "opentelemetry"), errs)
}

func (o *OpenTelemetry) validate(path string, errs *config.Errors) {
	switch {
	case o.GRPCService == nil && o.HTTPService == nil:
		errs.Add(path, "give grpc_service or http_service")
	case o.GRPCService != nil && o.HTTPService != nil:
		errs.Add(path, "give grpc_service or http_service, not both")
	case o.GRPCService != nil && o.GRPCService.EnvoyGRPC.ClusterName == "":
		errs.Add(config.Join(path, "grpc_service.envoy_grpc.cluster_name"), "required")
	case o.HTTPService != nil:
		u, err := url.Parse(o.HTTPService.HTTPURI.URI)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			errs.Add(config.Join(path, "http_service.http_uri.uri"), "must be an http:// or https:// URL (got %q)", o.HTTPService.HTTPURI.URI)
		}
		if o.HTTPService.HTTPURI.Cluster == "" {
			errs.Add(config.Join(path, "http_service.http_uri.cluster"), "required")
		}
	}
	for i, p := range o.Propagators {
		if _, ok := injectors[p]; !ok {
			errs.Add(config.Index(config.Join(path, "propagators"), i), "unknown propagator %q (tracecontext, b3, b3multi, xray)", p)
		}
	}
	for i, d := range o.ResourceDetectors {
		if d != "environment" && !strings.HasSuffix(d, "resource_detectors.environment") {
			errs.Add(config.Index(config.Join(path, "resource_detectors"), i), "unknown resource detector %q (environment)", d)
		}
	}
	if o.MaxQueueSize < 0 || o.MaxExportBatchSize < 0 {
		errs.Add(path, "max_queue_size and max_export_batch_size must not be negative")
	}
}

// ClusterRefs names the exporter's cluster for the loader's check.
func (c *Config) ClusterRefs(path string) []config.ClusterRef {
	o := c.Provider.OpenTelemetry
	p := config.Join(config.Join(path, "provider"), "opentelemetry")
	switch {
	case o == nil:
		return nil
	case o.GRPCService != nil:
		return []config.ClusterRef{{Path: config.Join(p, "grpc_service.envoy_grpc.cluster_name"), Name: o.GRPCService.EnvoyGRPC.ClusterName}}
	case o.HTTPService != nil:
		return []config.ClusterRef{{Path: config.Join(p, "http_service.http_uri.cluster"), Name: o.HTTPService.HTTPURI.Cluster}}
	}
	return nil
}
