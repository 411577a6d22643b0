// Package postgres is the postgres_proxy observer filter: it decodes the
// Postgres wire protocol in both directions as it passes (with
// codec/postgres), counts Envoy's postgres_proxy stats, parses each Query and
// Parse with libpg_query (sqlmeta/pg) to publish the tables and operations as
// metadata and to ask SQL gates (rbac), terminates the client's TLS
// (terminate_ssl), speaks TLS to the server (upstream_ssl require or
// prefer), and
// routes a session to a cluster by the startup message's database and user
// (and SNI), as PgBouncer's [databases] section does.
//
// Written by hand on top of the codec: the startup phase is read before the
// terminal dials (so that a route can be chosen), and statement gating needs
// message boundaries to hold, drop and answer statements in both directions,
// which no library offers over a streaming tap.
package postgres

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"time"

	pg "github.com/sluice-proxy/sluice/codec/postgres"
	"github.com/sluice-proxy/sluice/filters"
	"github.com/sluice-proxy/sluice/tlsctx"
	"github.com/sluice-proxy/sluice/tracing"
)

// Name is the filter's config key.
const Name = "postgres_proxy"

// MetadataNamespace is where the per-statement SQL metadata is published:
// a map[string][]string from table name to operations.
const MetadataNamespace = "envoy.filters.network.postgres_proxy"

func init() {
	filters.Register(filters.Typed(Name, filters.Observer, NewConfig, New))
}

// Filter is a built postgres_proxy; one per filter chain, shared by its
// connections.
type Filter struct {
	cfg     *Config
	stats   *Stats
	tls     *tls.Config    // terminate_ssl, or nil
	tlsCtx  *tlsctx.Server // terminate_ssl's context, refreshed until Close
	upTLS   *tls.Config    // upstream_ssl require or prefer, or nil
	codec   pg.Config
	cache   *parseCache
	cancels *cancelRegistry
	routes  []compiledRoute
	// parses runs the parses taken off the event loops, one at a time.
	parses filters.Serial
	// limit is the listener's per_connection_buffer_limit_bytes: a
	// statement held for the gates is at most this long (else streamed).
	limit int
	// spans are the query spans (tracing.go); nil when off.
	spans *tracing.Statements
}

// decodedKinds are the message bodies the filter reads (events.go): command
// tags, error and notice severities, cancel keys. The codec only frames the
// rest, so an Execute or a ReadyForQuery costs no body decode.
var decodedKinds = pg.Kinds(pg.KindCommandComplete, pg.KindErrorResponse, pg.KindNoticeResponse, pg.KindBackendKeyData)

// New builds the filter from a validated config.
func New(cfg *Config, env *filters.Env) (*Filter, error) {
	f := &Filter{
		cfg:     cfg,
		stats:   newStats(env.Stats, cfg.StatPrefix),
		codec:   pg.Config{MaxSQL: cfg.MaxSQLPrefix, DecodeOnly: decodedKinds},
		limit:   env.PerConnectionBufferLimit(),
		cache:   newParseCache(parseCacheSize),
		routes:  compileRoutes(cfg.Routes),
		parses:  filters.Serial{Max: maxQueuedParses},
		cancels: globalCancels,
	}
	if cfg.TerminateSSL {
		srv, err := serverTLS(cfg.TLS, env)
		if err != nil {
			return nil, err
		}
		f.tlsCtx, f.tls = srv, srv.Config()
	}
	if cfg.UpstreamSSL != UpstreamSSLDisable {
		tc, err := clientTLS(cfg.UpstreamTLS)
		if err != nil {
			return nil, err
		}
		f.upTLS = tc
	}
	var err error
	if f.spans, err = tracing.NewStatements(cfg.Tracing, "postgresql", tracing.Deps{Clusters: env.Clusters, Log: env.Log}); err != nil {
		return nil, fmt.Errorf("postgres_proxy: tracing: %w", err)
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

// Stats returns the filter's counters.
func (f *Filter) Stats() *Stats { return f.stats }

// errProtocol marks malformed client input found during the startup phase.
var errProtocol = errors.New("postgres_proxy: protocol error")

// Observe reads the client's startup phase (answering GSSENCRequest with
// 'N', and SSLRequest with 'S' and a TLS handshake under terminate_ssl),
// chooses the route, and returns the decoding connection for the terminal.
func (f *Filter) Observe(s *filters.Session, c filters.Conn) (filters.Conn, error) {
	c.SetDeadline(time.Now().Add(f.cfg.StartupTimeout.D()))
	rd := c // where the client is read and written: c, or TLS over it
	var sslSeen, gssSeen, passthrough bool
	var pkt *pg.StartupPacket
	for pkt == nil {
		p, err := pg.ReadStartupPacket(rd)
		if err != nil {
			if errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
				return nil, fmt.Errorf("postgres_proxy: client left before its startup packet: %w", err)
			}
			f.stats.ProtocolErrors.Inc()
			return nil, fmt.Errorf("%w: startup: %w", errProtocol, err)
		}
		switch p.Kind {
		case pg.KindGSSENCRequest:
			// Refused, as a server without GSSAPI encryption does: the
			// client falls back to SSL or clear text, which sluice can see.
			f.stats.countFrontend(false)
			if gssSeen {
				f.stats.ProtocolErrors.Inc()
				return nil, fmt.Errorf("%w: second GSSENCRequest", errProtocol)
			}
			gssSeen = true
			if _, err := rd.Write(pg.AppendEncryptionAnswer(nil, false)); err != nil {
				return nil, fmt.Errorf("postgres_proxy: answering GSSENCRequest: %w", err)
			}
		case pg.KindSSLRequest:
			if sslSeen {
				f.stats.countFrontend(false)
				f.stats.ProtocolErrors.Inc()
				return nil, fmt.Errorf("%w: second SSLRequest", errProtocol)
			}
			sslSeen = true
			if f.tls == nil && s.HasSQLGates() {
				// A gate already in the chain needs to read the
				// statements: refuse SSL as a server without it does.
				f.stats.countFrontend(false)
				if _, err := rd.Write(pg.AppendEncryptionAnswer(nil, false)); err != nil {
					return nil, fmt.Errorf("postgres_proxy: answering SSLRequest: %w", err)
				}
				continue
			}
			if f.tls == nil {
				// Passed to the server with what follows; counted by the
				// decoder, which then sees the server's answer.
				passthrough, pkt = true, p
				break
			}
			f.stats.countFrontend(false)
			tc, err := f.startTLS(s, rd)
			if err != nil {
				return nil, err
			}
			rd = tc
		default: // StartupMessage, CancelRequest
			pkt = p
		}
	}
	c.SetDeadline(time.Time{})
	// TLS is settled: connection checks that waited for the client
	// certificate (rbac before this filter) run now.
	if err := s.ConnChecksReady(); err != nil {
		return nil, err
	}

	cn := newConn(f, s, c, rd, pkt.Raw)
	cn.passthrough = passthrough
	switch pkt.Kind {
	case pg.KindStartupMessage:
		user := pkt.Startup.Parameters["user"]
		db := pkt.Startup.Parameters["database"]
		if db == "" {
			db = user
		}
		s.UpdateAccess(func(a *filters.AccessRecord) {
			if a.Fields == nil {
				a.Fields = make(map[string]any)
			}
			a.Fields["postgres_user"], a.Fields["postgres_database"] = user, db
		})
		if r := f.route(db, user, s.SNI); r != "" {
			s.SetRoute(r)
			cn.route = r
		}
	case pg.KindCancelRequest:
		if pkt.Cancel != nil {
			if r := f.cancels.lookup(pkt.Cancel.ProcessID, string(pkt.Cancel.SecretKey)); r != "" {
				s.SetRoute(r)
			}
		}
	}
	if f.upTLS != nil && !passthrough {
		s.SetUpstreamWrapper(f.upstreamSSL)
	}
	return cn, nil
}

// startTLS answers an SSLRequest with 'S' and completes TLS with the client.
func (f *Filter) startTLS(s *filters.Session, c filters.Conn) (*tls.Conn, error) {
	if _, err := c.Write(pg.AppendEncryptionAnswer(nil, true)); err != nil {
		return nil, fmt.Errorf("postgres_proxy: answering SSLRequest: %w", err)
	}
	tc := tls.Server(c, f.tls)
	if err := tc.Handshake(); err != nil {
		return nil, fmt.Errorf("postgres_proxy: terminate_ssl: TLS handshake with the client: %w", err)
	}
	st := tc.ConnectionState()
	s.SetTLS(&st, st.ServerName)
	f.stats.SessionsTerminatedSSL.Inc()
	return tc, nil
}

// upstreamSSL is the session's upstream wrapper under upstream_ssl require
// or prefer: SSLRequest, the server's 'S', then TLS. Under prefer an 'N'
// leaves the connection in clear text (the server then reads the startup
// message, as after libpq's refused request); anything else fails the
// session.
func (f *Filter) upstreamSSL(ctx context.Context, up net.Conn) (net.Conn, error) {
	fail := func(err error) (net.Conn, error) {
		f.stats.SessionsUpstreamSSLFailed.Inc()
		return nil, fmt.Errorf("postgres_proxy: upstream_ssl: %w", err)
	}
	if dl, ok := ctx.Deadline(); ok {
		up.SetDeadline(dl)
	} else {
		up.SetDeadline(time.Now().Add(f.cfg.StartupTimeout.D()))
	}
	defer up.SetDeadline(time.Time{})
	if _, err := up.Write(sslRequest[:]); err != nil {
		return fail(fmt.Errorf("sending SSLRequest: %w", err))
	}
	var ans [1]byte
	if _, err := io.ReadFull(up, ans[:]); err != nil {
		return fail(fmt.Errorf("reading the answer to SSLRequest: %w", err))
	}
	if ans[0] == 'N' && f.cfg.UpstreamSSL == UpstreamSSLPrefer {
		f.stats.SessionsUpstreamSSLRefused.Inc()
		return up, nil
	}
	if ans[0] != 'S' {
		return fail(fmt.Errorf("server refused SSL (answered %q)", ans[0]))
	}
	tc := tls.Client(up, f.upTLS)
	if err := tc.HandshakeContext(ctx); err != nil {
		return fail(fmt.Errorf("TLS handshake with the server: %w", err))
	}
	f.stats.SessionsUpstreamSSLSuccess.Inc()
	return tc, nil
}

// sslRequest is the 8-byte SSLRequest packet.
var sslRequest = [8]byte{0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f}

var _ filters.ObserverFilter = (*Filter)(nil)
