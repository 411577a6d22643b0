package httpconn

import (
	"context"
	"net/http"

	"github.com/sluice-proxy/sluice/config"
	"github.com/sluice-proxy/sluice/filters"
	httpfilter "github.com/sluice-proxy/sluice/filters/http"
	"github.com/sluice-proxy/sluice/router"
	"github.com/sluice-proxy/sluice/tracing"
)

// The connection manager's tracing hooks (package tracing does the work):
// a span starts once the route is matched (its decorator names it), the
// trace context goes into each upstream request, and the span ends with
// the response.

type traceSpanKey struct{}

// buildTracing starts the tracing of cfg.Tracing, if any.
func (m *Manager) buildTracing(env *filters.Env) error {
	if m.cfg.Tracing == nil {
		return nil
	}
	cfg := m.cfg.Tracing
	if m.router.StartChildSpan && !cfg.SpawnUpstreamSpan { // Envoy's older switch for the same span
		c := *cfg
		c.SpawnUpstreamSpan = true
		cfg = &c
	}
	t, err := tracing.NewHTTP(cfg, tracing.Deps{Clusters: env.Clusters, Log: m.log})
	if err != nil {
		return err
	}
	m.tracer = t
	return nil
}

// closeTracing flushes and stops the exporter.
func (m *Manager) closeTracing() error {
	if m.tracer == nil {
		return nil
	}
	return m.tracer.Close()
}

// startTrace makes the tracing decision and starts r's span; r comes back
// with the span in its context. Without tracing both are as given / nil.
func (m *Manager) startTrace(r *http.Request, st *httpfilter.Stream) (*http.Request, *tracing.Span) {
	if m.tracer == nil {
		return r, nil
	}
	op := ""
	if rt, ok := st.Route.(*router.Route); ok && rt != nil {
		op = rt.Operation()
	}
	ctx, sp := m.tracer.Start(r, op)
	return r.WithContext(context.WithValue(ctx, traceSpanKey{}, sp)), sp
}

// finishTrace ends the span with what the response was.
func finishTrace(sp *tracing.Span, w *stream, r *http.Request, tlsOn bool, peer string, received int64) {
	if sp == nil {
		return
	}
	scheme := "http"
	if tlsOn {
		scheme = "https"
	}
	sp.Finish(tracing.Info{Req: r, Scheme: scheme, Status: w.status, Flags: w.st.Flags().String(),
		Cluster: w.st.Cluster, UpstreamHost: w.st.UpstreamHost, Peer: peer,
		BytesReceived: received, BytesSent: w.sent})
}

// traceUpstream writes the trace context into the upstream request and
// returns the func that ends the upstream span (never nil).
func traceUpstream(r *http.Request, cluster string) func(status int) {
	sp, _ := r.Context().Value(traceSpanKey{}).(*tracing.Span)
	return sp.Upstream(r.Header, cluster)
}

// validateTracing checks the tracing field.
func (c *Config) validateTracing(path string, errs *config.Errors) {
	if c.Tracing != nil {
		c.Tracing.Validate(config.Join(path, "tracing"), errs)
	}
}

func (c *Config) tracingRefs(path string) []config.ClusterRef {
	if c.Tracing == nil {
		return nil
	}
	return c.Tracing.ClusterRefs(config.Join(path, "tracing"))
}
