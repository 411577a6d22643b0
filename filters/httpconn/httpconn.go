// Package httpconn is the http_connection_manager terminal network filter:
// it speaks HTTP/1.1 (codec/http1's strict reader, a hand-written response
// writer: h1.go) and HTTP/2 (golang.org/x/net/http2's server, ALPN h2 or h2c
// with prior knowledge) to downstream clients, runs each request through the
// HTTP filters (filters/http) and the router, and forwards it to a cluster
// through an Upstream. Requests and responses are net/http values; bodies
// stream through bounded buffers (one 32 KiB copy buffer per direction, the
// HTTP/2 flow-control windows), never held whole.
package httpconn

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"log"
	"log/slog"
	"net/http"
	"net/http/httputil"
	"sync/atomic"
	"time"

	"github.com/sluice-proxy/sluice/accesslog"
	"github.com/sluice-proxy/sluice/cluster"
	"github.com/sluice-proxy/sluice/cluster/httppool"
	"github.com/sluice-proxy/sluice/codec/http1"
	"github.com/sluice-proxy/sluice/filters"
	httpfilter "github.com/sluice-proxy/sluice/filters/http"
	"github.com/sluice-proxy/sluice/router"
	"github.com/sluice-proxy/sluice/tracing"
)

// Name is the filter's config key (Envoy's extension name).
const Name = "http_connection_manager"

// routerName is the name of the router in http_filters.
const routerName = "router"

func init() {
	filters.Register(filters.Typed(Name, filters.Terminal, NewConfig, New))
	httpfilter.Register(httpfilter.Factory{Name: routerName, NewConfig: func() any { return &RouterConfig{} }})
}

// RouterConfig is Envoy's Router filter config (the part sluice reads).
type RouterConfig struct {
	// SuppressEnvoyHeaders leaves out x-envoy-upstream-service-time.
	SuppressEnvoyHeaders bool `yaml:"suppress_envoy_headers" json:"suppress_envoy_headers,omitempty"`
	// StartChildSpan makes each upstream request a child span, as
	// tracing.spawn_upstream_span does (tracing.go).
	StartChildSpan bool `yaml:"start_child_span" json:"start_child_span,omitempty"`
}

// Manager is a built http_connection_manager; one per filter chain, shared
// by its connections.
type Manager struct {
	cfg      *Config
	stats    *Stats
	clusters *cluster.Manager
	log      *slog.Logger
	// routes is the route table, shared (routes.go) with the managers
	// this one replaces and is replaced by when the route configuration
	// is named, so kept-alive connections follow an RDS update.
	routes   *atomic.Pointer[router.Table]
	handler  http.Handler // the HTTP filters, then the router
	upstream UpstreamFunc
	pools    *httppool.Pools
	ownPools bool // pools were made for this filter, closed with it
	upgrades upgradeTransports
	forwards forwardTransports
	ups      upstreamCache
	proxy    *httputil.ReverseProxy
	limits   http1.Limits
	logs     []accessLogger
	router   RouterConfig
	h2srv    h2server
	// closers are the built HTTP filters holding resources (ext_authz's
	// and ratelimit's service connections), closed with the manager.
	closers []filters.Closer
	tracer  *tracing.HTTP // nil without tracing
	// bufLimit is the listener's per_connection_buffer_limit_bytes: the
	// request body kept for retries and mirrors when the route sets none.
	bufLimit int64
	feat     *featStats // retry, mirror and virtual-cluster stats (feat.go)
}

type accessLogger struct {
	file *accesslog.File
	text *accesslog.Format
	json *accesslog.JSONFormat
}

// New builds the filter from a validated config.
func New(cfg *Config, env *filters.Env) (*Manager, error) {
	m := &Manager{
		cfg: cfg, stats: newStats(env.Stats, cfg.StatPrefix), clusters: env.Clusters, log: env.Log,
		limits: http1.Limits{MaxHeaderBytes: int(cfg.MaxRequestHeadersKb) << 10,
			MaxHeaders: int(cfg.CommonHTTPProtocolOptions.MaxHeadersCount)},
	}
	if m.log == nil {
		m.log = slog.Default()
	}
	m.pools = env.HTTPPools
	if m.pools == nil {
		m.pools, m.ownPools = httppool.NewPools(env.Clusters, httppool.Options{Log: m.log}), true
	}
	m.upstream = poolUpstreams(m.pools)
	m.bufLimit, m.feat = int64(env.PerConnectionBufferLimit()), newFeatStats(env.Stats, m.stats.Scope)
	rt, err := router.Compile(&cfg.RouteConfig)
	if err != nil {
		return nil, fmt.Errorf("route_config: %w", err)
	}
	m.routes = routeCell(cfg, env)
	for i, a := range cfg.AccessLog {
		l, err := newAccessLogger(a)
		if err != nil {
			return nil, fmt.Errorf("access_log[%d]: %w", i, err)
		}
		m.logs = append(m.logs, l)
	}
	var fs []httpfilter.Filter
	fenv := &httpfilter.Env{Stats: m.stats.Scope, Clusters: env.Clusters, Log: m.log, HealthCheckFailed: env.HealthCheckFailed}
	for i, spec := range cfg.HTTPFilters {
		if spec.Name == routerName {
			if rc, ok := spec.Config.(*RouterConfig); ok {
				m.router = *rc
			}
			continue
		}
		fac, ok := httpfilter.Lookup(spec.Name)
		if !ok || fac.Build == nil {
			return nil, fmt.Errorf("http_filters[%d]: unknown HTTP filter %q", i, spec.Name)
		}
		f, err := fac.Build(spec.Config, fenv)
		if err != nil {
			m.closeFilters()
			return nil, fmt.Errorf("http_filters[%d] %s: %w", i, spec.Name, err)
		}
		if c, ok := f.(filters.Closer); ok {
			m.closers = append(m.closers, c)
		}
		fs = append(fs, f)
	}
	m.proxy = &httputil.ReverseProxy{
		Director:  m.direct,
		Transport: routerTransport{m},
		// 0: a response of known length is written once, at its end (or
		// as the buffer fills); ReverseProxy itself flushes every write of
		// streaming responses (unknown length: gRPC, chunked, SSE). -1
		// flushed each write of every response: a syscall per piece, 31%
		// of sluice's CPU under wrk.
		FlushInterval: 0,
		ErrorHandler:  m.upstreamError,
		ErrorLog:      log.New(discard{}, "", 0),
		BufferPool:    bufPool{},
	}
	m.handler = httpfilter.Chain(fs, http.HandlerFunc(m.route))
	if err := m.buildTracing(env); err != nil {
		m.closeFilters()
		return nil, fmt.Errorf("tracing: %w", err)
	}
	m.routes.Store(rt) // last: only a manager that was built publishes its table
	return m, nil
}

func newAccessLogger(a AccessLog) (accessLogger, error) {
	f, err := accesslog.Open(a.Path)
	if err != nil {
		return accessLogger{}, err
	}
	l := accessLogger{file: f}
	switch {
	case a.JSONFormat != nil:
		l.json, err = accesslog.CompileJSON(a.JSONFormat)
	case a.Format != "":
		l.text, err = accesslog.Compile(a.Format)
	default:
		l.text, err = accesslog.Compile(accesslog.DefaultFormat)
	}
	return l, err
}

// Close closes the filter's upgrade transports, and its upstream pools
// when they are its own rather than the server's.
func (m *Manager) Close() error {
	m.feat.close() // shadows in flight end first: they use the pools
	m.closeFilters()
	m.upgrades.close()
	m.forwards.close()
	terr := m.closeTracing()
	if !m.ownPools {
		return terr
	}
	return errors.Join(m.pools.Close(), terr)
}

// closeFilters closes the HTTP filters that hold resources; their errors
// are logged (the manager's own close matters more).
func (m *Manager) closeFilters() {
	for _, c := range m.closers {
		if err := c.Close(); err != nil {
			m.log.Warn("http filter close", "err", err)
		}
	}
	m.closers = nil
}

// Serve speaks HTTP on c until the client leaves, an idle timeout fires or
// ctx is cancelled (drain deadline).
func (m *Manager) Serve(ctx context.Context, s *filters.Session, c filters.Conn) {
	start := time.Now()
	m.stats.CxTotal.Inc()
	m.stats.CxActive.Inc()
	if s.TLS != nil {
		m.stats.CxSSLTotal.Inc()
	}
	defer func() {
		m.stats.CxActive.Dec()
		m.stats.CxDestroy.Inc()
		m.stats.CxLengthMs.Record(float64(time.Since(start).Milliseconds()))
	}()
	rc := &deadlineReader{c: c}
	br := bufio.NewReaderSize(rc, 4096)
	if d := m.cfg.CommonHTTPProtocolOptions.IdleTimeout.D(); d > 0 {
		c.SetReadDeadline(time.Now().Add(d))
	}
	if m.isHTTP2(s, br) {
		m.stats.CxHTTP2Total.Inc()
		m.stats.CxHTTP2Active.Inc()
		defer m.stats.CxHTTP2Active.Dec()
		prefix, _ := br.Peek(br.Buffered())
		m.serveHTTP2(ctx, s, c, append([]byte(nil), prefix...))
		return
	}
	m.stats.CxHTTP1Total.Inc()
	m.stats.CxHTTP1Active.Inc()
	defer m.stats.CxHTTP1Active.Dec()
	h := &h1conn{m: m, s: s, c: c, br: br, rc: rc}
	h.serve(ctx)
}

// h2Preface is the client connection preface of HTTP/2.
var h2Preface = []byte("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")

// isHTTP2 picks the codec: ALPN h2, or with AUTO the h2c preface.
func (m *Manager) isHTTP2(s *filters.Session, br *bufio.Reader) bool {
	switch m.cfg.CodecType {
	case "HTTP1":
		return false
	case "HTTP2":
		return true
	}
	if s.TLS != nil {
		return s.TLS.NegotiatedProtocol == "h2"
	}
	// Wait for as many bytes as the preface or until they differ from it.
	for n := 1; n <= len(h2Preface); n++ {
		p, err := br.Peek(n)
		if err != nil || !bytes.Equal(p, h2Preface[:n]) {
			return false
		}
	}
	return true
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

var (
	_ filters.TerminalFilter = (*Manager)(nil)
	_ filters.Closer         = (*Manager)(nil)
)
