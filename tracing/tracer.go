// Package tracing is http_connection_manager's tracing (Envoy's
// HttpConnectionManager.tracing with the envoy.tracers.opentelemetry
// provider) and the statement spans of the datastore filters. Spans are
// made and exported by the OpenTelemetry SDK (go.opentelemetry.io/otel)
// and its OTLP exporters: batched, through a bounded queue that drops
// rather than blocks, so a slow or absent collector never holds a request.
// What is Envoy's and written here: the sampling decision carried in
// x-request-id, span names and tags, and which propagation formats are
// read and written (W3C, B3 single and multi header, AWS X-Ray, through
// the OpenTelemetry propagators).
package tracing

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/sluice-proxy/sluice/cluster"
)

// The SDK reports export failures (an unreachable collector) through its
// global error handler, which by default writes unstructured lines to
// stderr; sluice logs them as warnings instead.
func init() {
	otel.SetErrorHandler(otel.ErrorHandlerFunc(func(err error) {
		slog.Default().Warn("tracing: exporting spans", "err", err)
	}))
}

// Deps are what a tracer takes from the server.
type Deps struct {
	// Clusters resolves the exporter's cluster; the exporter dials
	// through it (its hosts, TLS and upstream_cx_* stats).
	Clusters *cluster.Manager
	Log      *slog.Logger
	// NodeID and Zone are the node_id and zone tags (Envoy's local info).
	NodeID, Zone string
}

// Pipeline owns the OpenTelemetry SDK pieces of one tracing config: the
// exporter and the batch processor. Close flushes and stops them.
type Pipeline struct {
	exp    *closingExporter
	tp     *sdktrace.TracerProvider
	tracer trace.Tracer
	inject []string
	log    *slog.Logger
}

// NewPipeline builds the exporter and its batching tracer provider. It
// does not connect: the first export dials the cluster.
func NewPipeline(o *OpenTelemetry, d Deps) (*Pipeline, error) {
	if d.Log == nil {
		d.Log = slog.Default()
	}
	exp, err := newExporter(o, d)
	if err != nil {
		return nil, err
	}
	name := o.ServiceName
	if name == "" {
		name = "unknown_service:envoy"
	}
	attrs := []attribute.KeyValue{attribute.String("service.name", name)}
	opts := []resource.Option{resource.WithAttributes(attrs...)}
	if len(o.ResourceDetectors) > 0 {
		opts = append([]resource.Option{resource.WithFromEnv()}, opts...)
	}
	res, err := resource.New(context.Background(), opts...)
	if err != nil {
		return nil, fmt.Errorf("tracing: resource: %w", err)
	}
	q, batch, flush := o.MaxQueueSize, o.MaxExportBatchSize, o.FlushInterval.D()
	if q == 0 {
		q = 2048
	}
	if batch == 0 || batch > q {
		batch = min(512, q)
	}
	if flush == 0 {
		flush = 5 * time.Second
	}
	// The batch processor drops spans when its queue is full (no
	// WithBlocking): a request never waits for the collector.
	bsp := sdktrace.NewBatchSpanProcessor(exp, sdktrace.WithMaxQueueSize(q),
		sdktrace.WithMaxExportBatchSize(batch), sdktrace.WithBatchTimeout(flush), sdktrace.WithExportTimeout(10*time.Second))
	tp := sdktrace.NewTracerProvider(sdktrace.WithResource(res), sdktrace.WithSpanProcessor(bsp),
		sdktrace.WithSampler(decisionSampler{}))
	inject := o.Propagators
	if len(inject) == 0 {
		inject = []string{"tracecontext"}
	}
	return &Pipeline{exp: exp, tp: tp, tracer: tp.Tracer("sluice"), inject: inject, log: d.Log}, nil
}

// Close exports what is queued (within 5 s), then aborts any export
// still running and stops the exporter.
func (p *Pipeline) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := p.tp.Shutdown(ctx)
	p.exp.abort()
	if err != nil { // the deadline passed: the exporter's shutdown did not run
		p.exp.Shutdown(context.Background())
	}
	return err
}

// Flush exports what is queued now (tests, and before a reload).
func (p *Pipeline) Flush(ctx context.Context) error { return p.tp.ForceFlush(ctx) }

func newExporter(o *OpenTelemetry, d Deps) (*closingExporter, error) {
	dial := func(name string) func(ctx context.Context, _ string) (net.Conn, error) {
		return func(ctx context.Context, _ string) (net.Conn, error) {
			var cl *cluster.Cluster
			if d.Clusters != nil {
				cl = d.Clusters.Get(name)
			}
			if cl == nil {
				return nil, fmt.Errorf("tracing: no cluster %q", name)
			}
			return cl.Connect(ctx, 0, false)
		}
	}
	switch {
	case o.GRPCService != nil:
		g := o.GRPCService
		name := g.EnvoyGRPC.ClusterName
		auth := g.EnvoyGRPC.Authority
		if auth == "" {
			auth = name // Envoy's default :authority for envoy_grpc
		}
		// TLS to the collector, if any, is the cluster's transport_socket:
		// cluster.Connect does it, so gRPC's own credentials stay insecure.
		conn, err := grpc.NewClient("passthrough:///"+name,
			grpc.WithTransportCredentials(insecure.NewCredentials()), grpc.WithAuthority(auth),
			grpc.WithContextDialer(dial(name)))
		if err != nil {
			return nil, fmt.Errorf("tracing: grpc_service: %w", err)
		}
		// Retries stop after 5 s (the SDK's default is a minute): while an
		// export waits, new spans past the queue are dropped.
		opts := []otlptracegrpc.Option{otlptracegrpc.WithGRPCConn(conn), otlptracegrpc.WithRetry(otlptracegrpc.RetryConfig{
			Enabled: true, InitialInterval: 500 * time.Millisecond, MaxInterval: 2 * time.Second, MaxElapsedTime: 5 * time.Second})}
		if t := g.Timeout.D(); t > 0 {
			opts = append(opts, otlptracegrpc.WithTimeout(t))
		}
		exp, err := otlptracegrpc.New(context.Background(), opts...) // no dial: the conn is lazy
		if err != nil {
			conn.Close()
			return nil, fmt.Errorf("tracing: grpc_service: %w", err)
		}
		return newClosingExporter(exp, conn), nil
	case o.HTTPService != nil:
		h := o.HTTPService
		u, err := url.Parse(h.HTTPURI.URI)
		if err != nil {
			return nil, fmt.Errorf("tracing: http_service.http_uri.uri: %w", err)
		}
		name := h.HTTPURI.Cluster
		// The cluster's transport_socket does TLS, so the client speaks
		// plain HTTP to the connection it dials even for an https URI.
		d := dial(name)
		tr := &http.Transport{MaxIdleConnsPerHost: 2,
			DialContext: func(ctx context.Context, _, addr string) (net.Conn, error) { return d(ctx, addr) }}
		opts := []otlptracehttp.Option{otlptracehttp.WithEndpointURL(u.String()),
			otlptracehttp.WithHTTPClient(&http.Client{Transport: tr}), otlptracehttp.WithRetry(otlptracehttp.RetryConfig{
				Enabled: true, InitialInterval: 500 * time.Millisecond, MaxInterval: 2 * time.Second, MaxElapsedTime: 5 * time.Second})}
		opts = append(opts, otlptracehttp.WithInsecure())
		if t := h.HTTPURI.Timeout.D(); t > 0 {
			opts = append(opts, otlptracehttp.WithTimeout(t))
		}
		if len(h.RequestHeadersToAdd) > 0 {
			hs := map[string]string{}
			for _, kv := range h.RequestHeadersToAdd {
				hs[kv.Key] = kv.Value
			}
			opts = append(opts, otlptracehttp.WithHeaders(hs))
		}
		exp, err := otlptracehttp.New(context.Background(), opts...)
		if err != nil {
			return nil, err
		}
		e := newClosingExporter(exp, nil)
		e.idle = tr.CloseIdleConnections
		return e, nil
	}
	return nil, fmt.Errorf("tracing: give grpc_service or http_service")
}

// closingExporter cancels exports in flight once the pipeline is closed
// (an export retrying against an unreachable collector would otherwise
// outlive Close by its retry time) and closes the gRPC connection it was
// given, which the exporter leaves to its owner.
type closingExporter struct {
	sdktrace.SpanExporter
	conn   *grpc.ClientConn // nil for OTLP/HTTP
	idle   func()           // closes OTLP/HTTP's kept-alive connections
	closed context.Context
	abort  context.CancelFunc
}

func newClosingExporter(e sdktrace.SpanExporter, conn *grpc.ClientConn) *closingExporter {
	ctx, cancel := context.WithCancel(context.Background())
	return &closingExporter{SpanExporter: e, conn: conn, closed: ctx, abort: cancel}
}

func (e *closingExporter) ExportSpans(ctx context.Context, spans []sdktrace.ReadOnlySpan) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stop := context.AfterFunc(e.closed, cancel)
	defer stop()
	return e.SpanExporter.ExportSpans(ctx, spans)
}

func (e *closingExporter) Shutdown(ctx context.Context) error {
	err := e.SpanExporter.Shutdown(ctx)
	if e.conn != nil {
		if cerr := e.conn.Close(); err == nil {
			err = cerr
		}
	}
	if e.idle != nil {
		e.idle()
	}
	return err
}

// env reads an environment custom tag (os.Getenv at start, as Envoy reads
// it once).
func env(n *NameValue) string {
	if v, ok := os.LookupEnv(n.Name); ok {
		return v
	}
	return n.DefaultValue
}
