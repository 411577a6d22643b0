// Package mysql is the mysql_proxy observer filter: it decodes the MySQL /
// MariaDB protocol in both directions (codec/mysql), counts Envoy's
// mysql_proxy stats, parses each statement (sqlmeta/mysql, the TiDB grammar)
// to publish Envoy-shaped dynamic metadata ("db.table" → operations), and
// asks the session's SQL gates (rbac) about each statement: a denied
// statement is not forwarded and is answered with a MySQL ERR packet
// (1142-style) while the session goes on.
//
// With terminate_ssl it answers the client's SSLRequest itself, completes
// TLS with sluice's certificate, keeps decoding the plaintext and talks plain
// text to the server, rewriting the connection phase's sequence ids (the
// server never sees the SSLRequest) and capability flags. With upstream_ssl:
// require it speaks TLS to the server itself (upstream_tls*.go), sending the
// server an SSLRequest the client never sent, whether or not the client's
// TLS was terminated; Envoy's mysql_proxy has no such option, so its shape
// follows postgres_proxy's upstream_ssl.
//
// Written by hand, and why: the wrapping connection (conn.go) and a small
// packet-boundary tracker (track.go). The codec's Session reports complete
// messages after the fact; to hold a statement until a gate has answered,
// and to drop or rewrite it, the filter must know where each client packet
// begins and ends as bytes arrive, which no library offers for a byte
// stream it does not own.
package mysql

import (
	"crypto/tls"
	"fmt"

	"github.com/sluice-proxy/sluice/filters"
	"github.com/sluice-proxy/sluice/tlsctx"
	"github.com/sluice-proxy/sluice/tracing"
)

// Name is the filter's config key.
const Name = "mysql_proxy"

// MetadataNamespace is where per-statement metadata is published, as in Envoy.
const MetadataNamespace = "envoy.filters.network.mysql_proxy"

func init() {
	filters.Register(filters.Typed(Name, filters.Observer, NewConfig, New))
}

// Filter is a built mysql_proxy; one per filter chain, shared by its
// connections.
type Filter struct {
	cfg   *Config
	stats *Stats
	tls   *tls.Config // nil unless terminate_ssl
	// tlsCtx is terminate_ssl's context, refreshed until Close.
	tlsCtx *tlsctx.Server
	upTLS  *tls.Config // nil unless upstream_ssl: require
	cache  *parseCache // nil when parse_cache_size is 0
	// parses runs the parses taken off the event loops, one at a time.
	parses filters.Serial
	// limit is the listener's per_connection_buffer_limit_bytes: a
	// statement held for the gates is at most this long (else streamed).
	limit int
	// spans are the statement spans (tracing.go); nil when off.
	spans *tracing.Statements
}

// New builds a mysql_proxy from a validated config; it loads the
// terminate_ssl certificate and the upstream_tls CA.
func New(cfg *Config, env *filters.Env) (*Filter, error) {
	f := &Filter{cfg: cfg, stats: newStats(env.Stats, cfg.StatPrefix), limit: env.PerConnectionBufferLimit(),
		parses: filters.Serial{Max: maxQueuedParses}}
	if cfg.ParseCacheSize > 0 {
		f.cache = newParseCache(cfg.ParseCacheSize, f.stats.ParseCacheHits, f.stats.ParseCacheMisses)
	}
	if cfg.TerminateSSL != nil {
		srv, err := serverTLS(cfg.TerminateSSL, env)
		if err != nil {
			return nil, err
		}
		f.tlsCtx, f.tls = srv, srv.Config()
	}
	if cfg.UpstreamSSL == UpstreamSSLRequire {
		tc, err := upstreamTLSConfig(cfg.UpstreamTLS)
		if err != nil {
			return nil, err
		}
		f.upTLS = tc
	}
	var err error
	if f.spans, err = tracing.NewStatements(cfg.Tracing, "mysql", tracing.Deps{Clusters: env.Clusters, Log: env.Log}); err != nil {
		return nil, fmt.Errorf("mysql_proxy: tracing: %w", err)
	}
	return f, nil
}

// Close stops the terminate_ssl context's refresh.
func (f *Filter) Close() error {
	defer f.spans.Close()
	if f.tlsCtx != nil {
		return f.tlsCtx.Close()
	}
	return nil
}

// TerminatesTLS reports terminate_ssl: rbac's connection check then waits
// for the client's TLS (filters.TLSTerminator).
func (f *Filter) TerminatesTLS() bool { return f.tls != nil }

// Stats returns the filter's stat handles.
func (f *Filter) Stats() *Stats { return f.stats }

// Observe counts the session and wraps c so that every byte is decoded;
// under upstream_ssl: require it also wraps the upstream the terminal dials.
func (f *Filter) Observe(s *filters.Session, c filters.Conn) (filters.Conn, error) {
	f.stats.Sessions.Inc()
	cn := newConn(f, s, c)
	cn.startTimers()
	if f.upTLS != nil {
		s.SetUpstreamWrapper(cn.wrapUpstream)
	}
	return cn, nil
}

var _ filters.ObserverFilter = (*Filter)(nil)
